"""Fixtures for the Lambda handlers: each handler folder loaded as its own module, AWS mocked by moto."""

from __future__ import annotations

import importlib.util
import io
import json
import sys
from pathlib import Path
from types import ModuleType

from botocore.awsrequest import AWSResponse
from moto.core.models import botocore_stubber

LAMBDA_ROOT = Path(__file__).resolve().parents[2] / "lambda"
EVENTS = Path(__file__).resolve().parent / "events"
REGION = "us-east-1"


def load_handler(folder: str) -> ModuleType:
    """Import ``lambda/<folder>/index.py`` afresh under a unique name (every folder has an ``index``).

    Its ``_shared`` package is found where each asset has it, beside ``index.py`` (here: ``lambda/``), and is
    imported afresh too, so no client cached by one test (with its mock) serves another.
    """
    if str(LAMBDA_ROOT) not in sys.path:
        sys.path.insert(0, str(LAMBDA_ROOT))
    for name in [n for n in sys.modules if n == "_shared" or n.startswith("_shared.")]:
        del sys.modules[name]
    spec = importlib.util.spec_from_file_location(f"lambda_{folder}_index", LAMBDA_ROOT / folder / "index.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_event(name: str) -> dict:
    return json.loads((EVENTS / name).read_text())


def log_lines(captured: str) -> list[dict]:
    """Every stdout line of a handler must be one JSON object."""
    return [json.loads(line) for line in captured.splitlines() if line.strip()]


class _RawBody(io.BytesIO):
    """What botocore reads an HTTP body from."""

    def stream(self, **_):
        yield self.read()


def fail_requests(
    client, operation: str, failures: list[int], *, status: int, body: bytes, headers=None
) -> None:
    """Answer the next ``failures[0]`` ``operation`` requests of ``client`` with an HTTP error instead of moto.

    botocore's own retry logic sees these answers, as it would a real throttling or 5xx response. moto is
    asked only for the requests that are not failed, so a failed request has no side effect in the mock.
    """
    client.meta.events.unregister("before-send", botocore_stubber)

    def send(request, event_name: str, **kwargs):
        if event_name.endswith(f".{operation}") and failures[0] > 0:
            failures[0] -= 1
            return AWSResponse(request.url, status, headers or {}, _RawBody(body))
        return botocore_stubber(event_name=event_name, request=request, **kwargs)

    client.meta.events.register("before-send", send)
