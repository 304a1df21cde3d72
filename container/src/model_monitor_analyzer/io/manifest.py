"""SageMaker manifest files: a JSON array whose first element is ``{"prefix": <location>}`` and whose
other elements are object keys relative to that prefix.

An entry may be the empty key when the prefix names one object itself (a batch transform job whose
input was one file writes ``[{"prefix": "s3://bucket/data/test.jsonl"}, ""]``).

Two writers produce them: the standalone engine's window planner (the capture objects of one window,
read by a Processing job as ``S3DataType: ManifestFile``) and a batch transform job with data capture
(``input/`` and ``output/`` manifests naming the transform's data files). Both are read here, and
nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import orjson

from model_monitor_analyzer.errors import AnalyzerInputError

MANIFEST_EXAMPLE = '[{"prefix": "s3://bucket/data/"}, "part-1.csv", "part-2.csv"]'


@dataclass(frozen=True)
class Manifest:
    """One manifest: its prefix and the keys under it, in the manifest's order."""

    prefix: str
    keys: tuple[str, ...]

    def locations(self) -> list[str]:
        """The full location of every entry: the prefix joined with each key by exactly one ``/`` (an empty key
        is the prefix itself)."""
        base = self.prefix if self.prefix.endswith("/") else self.prefix + "/"
        return [base + key.lstrip("/") if key else self.prefix for key in self.keys]

    def relative_paths(self) -> list[str]:
        """The keys as a Processing job lays them out under its local path (relative to the prefix); an empty key
        (the prefix names the object itself) is laid out as the object's name, the prefix's last part."""
        return [key.lstrip("/") if key else self.prefix.rstrip("/").rsplit("/", 1)[-1] for key in self.keys]


def parse_manifest(text: bytes | str, *, source: str) -> Manifest:
    """Parse a manifest's text; ``source`` names it in errors (a path or an ``s3://`` URI)."""
    data = text.encode("utf-8") if isinstance(text, str) else text
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        document = orjson.loads(data)
    except orjson.JSONDecodeError as error:
        raise AnalyzerInputError(
            f"not a manifest: not JSON ({error}); expected e.g. {MANIFEST_EXAMPLE}", path=source
        ) from None
    if not isinstance(document, list) or not document:
        raise AnalyzerInputError(f"not a manifest: expected a JSON array such as {MANIFEST_EXAMPLE}", path=source)
    head = document[0]
    if not isinstance(head, dict) or not isinstance(head.get("prefix"), str) or not head["prefix"].strip():
        raise AnalyzerInputError(
            f'not a manifest: its first element must be {{"prefix": "<location>"}}, e.g. {MANIFEST_EXAMPLE}',
            path=source,
        )
    keys: list[str] = []
    for position, entry in enumerate(document[1:], start=2):
        if entry == "" and len(document) == 2:  # a transform job's input manifest when its input was one object
            keys.append(entry)
            continue
        if not isinstance(entry, str) or not entry.strip("/ "):
            raise AnalyzerInputError(
                f"manifest element {position} is {orjson.dumps(entry).decode()[:80]}, not an object key",
                path=source,
            )
        keys.append(entry)
    return Manifest(prefix=head["prefix"], keys=tuple(keys))


def read_manifest(path: str | Path) -> Manifest:
    """Read a manifest from a local file."""
    location = Path(path)
    try:
        text = location.read_bytes()
    except FileNotFoundError:
        raise AnalyzerInputError("manifest not found", path=str(location)) from None
    except IsADirectoryError:
        raise AnalyzerInputError("expected a manifest file, found a folder", path=str(location)) from None
    return parse_manifest(text, source=str(location))


def looks_like_manifest(head: bytes) -> bool:
    """Whether the first bytes of a file look like a manifest (a JSON array opening with a prefix object)."""
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not text.startswith(b"["):
        return False
    return text[1:].lstrip(b" \t\r\n").startswith(b'{"prefix"') or b'"prefix"' in text[:200]


def local_file_path(uri: str) -> Path:
    """The path of a ``file:`` URI spelt plainly, as Hadoop lists local files and as users write manifests
    (``file:/x``, ``file:///x``, ``file://host/x``): the name is taken as it is, not percent-decoded."""
    rest = uri.partition(":")[2]
    if rest.startswith("//") and not rest.startswith("///"):  # file://host/path
        rest = "/" + rest[2:].partition("/")[2]
    return Path("/" + rest.lstrip("/"))
