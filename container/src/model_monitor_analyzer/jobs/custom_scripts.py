"""Custom rules the SageMaker way: a record pre-processor and a post-analytics processor.

* ``record_preprocessor_script`` defines ``preprocess_handler(inference_record[, logger])``; it
  gets each captured record (``.endpoint_input.data``, ``.endpoint_output.data``,
  ``.event_metadata.event_id`` ...) and returns a flat ``{feature: value}`` dict, or ``[]`` /
  ``None`` to drop the record. Feature order is the dict's key order (the SageMaker guide
  recommends zero-padded index keys).
* ``post_analytics_processor_script`` defines ``postprocess_handler()``, called after the
  analysis.

An exception raised by the user's code becomes a ``UserScriptError`` whose message carries the
traceback of the user's script only, so the job log points at their line, not ours.
"""

from __future__ import annotations

import importlib.util
import inspect
import logging
import traceback
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

from model_monitor_analyzer.errors import AnalyzerInputError

LOGGER = logging.getLogger("model_monitor_analyzer.custom")


class UserScriptError(AnalyzerInputError):
    """A custom script failed to load or raised; ``describe()`` includes its traceback."""


def _user_traceback(exc: BaseException, script: Path) -> str:
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if Path(f.filename).resolve() == script.resolve()]
    lines = traceback.format_list(frames) + traceback.format_exception_only(type(exc), exc)
    return "Traceback (most recent call last, user script frames):\n" + "".join(lines).rstrip()


def _failure(script: Path, what: str, exc: BaseException) -> UserScriptError:
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if Path(f.filename).resolve() == script.resolve()]
    line = frames[-1].lineno if frames else None
    return UserScriptError(f"{what}: {type(exc).__name__}: {exc}\n{_user_traceback(exc, script)}", path=str(script), line=line)


def load_script(script: Path) -> ModuleType:
    """Import a user's script from its path (errors name the script and line)."""
    if not script.is_file():
        raise UserScriptError("custom script not found; check the script's path", path=str(script))
    spec = importlib.util.spec_from_file_location(f"user_script_{abs(hash(str(script)))}", script)
    if spec is None or spec.loader is None:
        raise UserScriptError("cannot load the custom script as Python", path=str(script))
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        raise _failure(script, "loading the script failed", exc) from None
    return module


def _handler(module: ModuleType, name: str, script: Path) -> Callable:
    handler = getattr(module, name, None)
    if not callable(handler):
        raise UserScriptError(f"the script defines no function {name}()", path=str(script))
    return handler


def record_preprocessor(script: Path) -> Callable[[object], dict | None]:
    """A callable ``record -> dict | None`` wrapping the script's ``preprocess_handler``."""
    handler = _handler(load_script(script), "preprocess_handler", script)
    try:
        takes_logger = len(inspect.signature(handler).parameters) >= 2
    except (TypeError, ValueError):
        takes_logger = False

    def preprocess(record: object) -> dict | None:
        try:
            result = handler(record, LOGGER) if takes_logger else handler(record)
        except Exception as exc:
            raise _failure(script, "preprocess_handler failed", exc) from None
        if result is None or (isinstance(result, (list, tuple)) and len(result) == 0):
            return None
        if not isinstance(result, dict):
            raise UserScriptError(
                f"preprocess_handler must return a dict of feature values or [] to drop the record, "
                f"not {type(result).__name__}",
                path=str(script),
            )
        return result

    return preprocess


def run_post_analytics(script: Path) -> None:
    """Run the script's ``postprocess_handler()``."""
    handler = _handler(load_script(script), "postprocess_handler", script)
    try:
        handler()
    except Exception as exc:
        raise _failure(script, "postprocess_handler failed", exc) from None
