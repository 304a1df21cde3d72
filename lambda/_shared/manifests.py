"""SageMaker manifest files: ``[{"prefix": "<location>"}, "<key>", ...]``, keys relative to the prefix.

The window planner reads the manifests a batch transform job with data capture writes, and writes manifests for
Processing jobs. The rules here are the analyzer's (``model_monitor_analyzer.io.manifest``), which the Lambda cannot
import; tests/lambda/test_shared.py holds the two equal. Standard library only.

An entry may be the empty key when the prefix names one object itself (a batch transform job whose input was one
file writes ``[{"prefix": "s3://bucket/data/test.jsonl"}, ""]``).
"""

from __future__ import annotations

import json
from typing import NamedTuple

MANIFEST_EXAMPLE = '[{"prefix": "s3://bucket/data/"}, "part-1.csv", "part-2.csv"]'


class ManifestError(ValueError):
    """The text is not a manifest; the message says what is wrong and gives an example."""


class Manifest(NamedTuple):
    """One manifest: its prefix and the keys under it, in the manifest's order."""

    prefix: str
    keys: tuple[str, ...]

    def locations(self) -> list[str]:
        """The full location of every entry: the prefix joined with each key by exactly one ``/``."""
        base = self.prefix if self.prefix.endswith("/") else self.prefix + "/"
        return [base + key.lstrip("/") if key else self.prefix for key in self.keys]

    def relative_paths(self) -> list[str]:
        """The keys as a Processing job lays them out under its local path (relative to the prefix); an empty key
        (the prefix names the object itself) is laid out as the object's name, the prefix's last part."""
        return [key.lstrip("/") if key else self.prefix.rstrip("/").rsplit("/", 1)[-1] for key in self.keys]

    def folder(self) -> str:
        """The folder its locations are under, ending in ``/``: the prefix, or the prefix's parent when the prefix
        names one object (the empty key)."""
        if self.keys == ("",):
            return self.prefix.rstrip("/").rsplit("/", 1)[0] + "/"
        return self.prefix if self.prefix.endswith("/") else self.prefix + "/"


def _refuse_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")  # as the analyzer's strict parser says


def parse_manifest(text: bytes | str, *, source: str) -> Manifest:
    """Parse a manifest's text; ``source`` names it in errors (an ``s3://`` URI)."""
    data = text.encode("utf-8") if isinstance(text, str) else text
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        document = json.loads(data, parse_constant=_refuse_constant)
    except (ValueError, UnicodeDecodeError) as error:
        raise ManifestError(f"{source}: not a manifest: not JSON ({error}); expected e.g. {MANIFEST_EXAMPLE}") from None
    if not isinstance(document, list) or not document:
        raise ManifestError(f"{source}: not a manifest: expected a JSON array such as {MANIFEST_EXAMPLE}")
    head = document[0]
    if not isinstance(head, dict) or not isinstance(head.get("prefix"), str) or not head["prefix"].strip():
        raise ManifestError(f'{source}: not a manifest: its first element must be {{"prefix": "<location>"}}, e.g. '
                            f"{MANIFEST_EXAMPLE}")
    keys: list[str] = []
    for position, entry in enumerate(document[1:], start=2):
        if entry == "" and len(document) == 2:  # a transform job's input manifest when its input was one object
            keys.append(entry)
            continue
        if not isinstance(entry, str) or not entry.strip("/ "):
            raise ManifestError(f"{source}: manifest element {position} is {json.dumps(entry)[:80]}, not an object key")
        keys.append(entry)
    return Manifest(prefix=head["prefix"], keys=tuple(keys))
