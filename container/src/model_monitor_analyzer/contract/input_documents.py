"""Finding the documents a job reads (baseline statistics and constraints, the bias analysis
config) by what they are, not by their file names.

SageMaker downloads each S3 object of a job's inputs into the input's folder under the object's own
name: ``<content hash>.json`` for a CDK file asset, ``constraints.json`` for a baseline job's output,
anything for a user's file. The job environment may name that file, its folder, a conventional name
the object was not downloaded under (``.../constraints/constraints.json`` beside ``3f9a...e1.json``),
or nothing at all: no variable says where a model-bias job definition's ``ConfigUri`` went.

So a key that names an existing file is that file, as given (its reader still refuses a document of
another kind). Otherwise the document is the one file of its kind (``document_kinds``, the
recognition the constructs apply to a baseline folder at synth) among the files directly inside the
folders it may be in: the folder the key names (or would hold the file it names), the document's
conventional folder, and the folder of each of the job's inputs that downloads one JSON object
(``ProcessingInputs`` of processingjobconfig.json). None or several of its kind is one error line
naming the folders and what they hold.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import orjson

from model_monitor_analyzer.contract.environment import processing_inputs
from model_monitor_analyzer.contract.paths import ContainerPaths
from model_monitor_analyzer.document_kinds import DocumentKind, document_kind
from model_monitor_analyzer.errors import AnalyzerInputError

#: where SageMaker downloads a schedule's BaselineConfig objects (contract §6.3)
BASELINE_STATISTICS_FOLDER = "/opt/ml/processing/baseline/stats"
BASELINE_CONSTRAINTS_FOLDER = "/opt/ml/processing/baseline/constraints"


@dataclass(frozen=True, kw_only=True)
class InputDocument:
    """A document a run reads from one of the job's inputs."""

    key: str
    """The environment key that may name it, e.g. ``baseline_constraints``."""
    kind: DocumentKind
    folder: str
    """Its conventional folder inside the container."""
    source: str
    """What gives the job this document, for the fix of an error (``the schedule's BaselineConfig ...``)."""
    required: bool = True
    """False: the run goes without it when the key is unset (model-quality and bias constraints)."""


def locate_documents(env: Mapping[str, str], paths: ContainerPaths, documents: Iterable[InputDocument]) -> dict[str, str]:
    """``env`` with each document's key naming its file (found as the module says)."""
    located = dict(env)
    for document in documents:
        path = locate(document, env, paths)
        if path is not None:
            located[document.key] = str(path)
    return located


def locate(document: InputDocument, env: Mapping[str, str], paths: ContainerPaths) -> Path | None:
    """The file of ``document``: the one its key names when that exists, else the one file of its kind
    in the folders it may be in. None for an optional document whose key is unset."""
    given = (env.get(document.key) or "").strip()
    named = paths.rebase(given) if given else None
    if named is not None and named.is_file():
        return named
    if named is None and not document.required:
        return None
    folders, primary = _folders(document, named, paths)
    held = {folder: _documents_in(folder) for folder in folders}
    matches = [path for found in held.values() for path, kind, _ in found if kind is document.kind]
    if len(matches) == 1:
        print(f"note: {document.key}: the {document.kind.title} is {matches[0]} (found by its content)", file=sys.stderr)
        return matches[0]
    if matches:
        raise AnalyzerInputError(
            f"several files are the {document.kind.title} for {document.key}: {', '.join(map(str, matches))}; "
            f"keep one in {document.source}, or set {document.key} to the file")
    own = [entry for folder in folders[:primary] for entry in held[folder]]
    if len(own) == 1 and own[0][2] == _UNRECOGNISED:
        # the document's own folders hold one JSON object of no known kind: its reader says what it lacks
        # (an analysis config without "facet", constraints without a single check)
        return own[0][0]
    where = "; ".join(_holding(folder, found) for folder, found in held.items())
    said = f" (it names {named}, which does not exist)" if named is not None else ""
    raise AnalyzerInputError(
        f"no {document.kind.title} for {document.key}{said}: {where}; "
        f"give it in {document.source}, or set {document.key} to the file")


_UNRECOGNISED = "a JSON object of no kind the analyzer reads"


def _folders(document: InputDocument, named: Path | None, paths: ContainerPaths) -> tuple[list[Path], int]:
    """The folders to search, each once: the document's own (the key's, the conventional one), then the
    other inputs'; and how many of them are its own."""
    own: list[Path] = []
    if named is not None:
        own.append(named if named.is_dir() else named.parent)
    own.append(paths.rebase(document.folder))
    folders = list(dict.fromkeys(own))
    primary = len(folders)
    for s3_uri, local_path in processing_inputs(paths):
        folder = paths.rebase(local_path)
        if s3_uri.rstrip("/").rsplit("/", 1)[-1].lower().endswith(".json") and folder not in folders:
            folders.append(folder)
    return folders, primary


def _documents_in(folder: Path) -> list[tuple[Path, DocumentKind | None, str]]:
    """Each visible file directly inside ``folder``: its path, its kind and how to name it in a message."""
    if not folder.is_dir():
        return []
    found = []
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or not path.is_file():
            continue
        try:
            data = path.read_bytes()
        except OSError as exc:
            found.append((path, None, f"unreadable: {exc.strerror or exc}"))
            continue
        document = _json_object(data)
        kind = document_kind(document) if document is not None else None
        description = f"the {kind.title}" if kind is not None else (
            _UNRECOGNISED if document is not None else "not a JSON object")
        found.append((path, kind, description))
    return found


def _json_object(data: bytes) -> dict | None:
    """The JSON object in ``data`` (with the bare NaN that Clarify's analysis.json may hold), else None."""
    try:
        document = orjson.loads(data)
    except orjson.JSONDecodeError:
        try:
            document = json.loads(data)
        except (json.JSONDecodeError, UnicodeDecodeError):
            return None
    return document if isinstance(document, dict) else None


def _holding(folder: Path, found: list[tuple[Path, DocumentKind | None, str]]) -> str:
    if not folder.is_dir():
        return f"{folder} does not exist"
    if not found:
        return f"{folder} holds no file"
    return f"{folder} holds " + ", ".join(f"{path.name} ({description})" for path, _, description in found)


#: where each document goes in a job environment: its key and the analysis_type of the job that reads it
_ENVIRONMENT_PLACES: dict[DocumentKind, tuple[str, str]] = {
    DocumentKind.DATA_QUALITY_STATISTICS: ("baseline_statistics", "DATA_QUALITY"),
    DocumentKind.DATA_QUALITY_CONSTRAINTS: ("baseline_constraints", "DATA_QUALITY"),
    DocumentKind.MODEL_QUALITY_CONSTRAINTS: ("baseline_constraints", "MODEL_QUALITY"),
    DocumentKind.BIAS_ANALYSIS: ("baseline_constraints", "MODEL_BIAS"),
    DocumentKind.BIAS_ANALYSIS_CONFIG: ("analysis_config", "MODEL_BIAS"),
}


def placement_in_environment(kind: DocumentKind) -> str:
    """Where a document of ``kind`` goes in a job environment, as a fix (the container's words for
    ``report.documents.placement_on_the_command_line``)."""
    place = _ENVIRONMENT_PLACES.get(kind)
    if place is None:  # a run writes it and none reads it: the model-quality statistics
        key, analysis_type = _ENVIRONMENT_PLACES[DocumentKind.MODEL_QUALITY_CONSTRAINTS]
        return (f"a model-quality run writes it; give the constraints.json of the same run with {key} of an "
                f"analysis_type={analysis_type} job")
    key, analysis_type = place
    return f"pass it with {key} of an analysis_type={analysis_type} job"
