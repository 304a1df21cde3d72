"""A Spark run's files on the driver: URI inputs copied to a local folder, URI outputs written there first.

The run itself (``monitors.<type>.run``) reads and writes local files, as on one machine. For an output
or metrics folder given as a URI, the same rules as ``jobs.outputs`` hold: an earlier run's files there
are refused before anything is read unless ``--overwrite`` is given, and with it they are removed just
before this run's files are copied there (so a run that fails keeps them). The outcome document
(``jobs.outcome``) is written beside the reports, as the container does, for the publisher to read.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path

from model_monitor_analyzer.errors import AnalyzerInputError
from model_monitor_analyzer.jobs.outcome import OUTCOME_FILE, RunOutcome
from model_monitor_analyzer.jobs.outputs import OVERWRITE_FIX
from model_monitor_analyzer.report.jsonfile import write_json
from model_monitor_analyzer.spark.locations import (
    HadoopFiles,
    RemoteLocation,
    joined,
    remote_uri,
    remove_folder,
)


@dataclass(kw_only=True)
class _Destination:
    local: Path
    uri: str
    names: tuple[str, ...]


@dataclass(kw_only=True)
class RunFiles:
    """The local folder of one Spark run and where its outputs go (use as a context manager)."""

    files: HadoopFiles
    folder: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="model-monitor-spark-")))
    _destinations: list[_Destination] = field(default_factory=list)
    _inputs: int = 0

    def __enter__(self) -> RunFiles:
        return self

    def __exit__(self, *_: object) -> None:
        remove_folder(self.folder)

    def input_file(self, path: Path | None) -> Path | None:
        """``path`` itself, or for a URI a local copy of the file (a baseline document, a script)."""
        uri = remote_uri(path) if path is not None else None
        if uri is None:
            return path
        self._inputs += 1
        return self.files.download(uri, self.folder / "inputs" / str(self._inputs))

    def output_folder(self, path: Path, *, names: tuple[str, ...], overwrite: bool, option: str,
                      inputs: tuple[Path | None, ...] = ()) -> Path:
        """Where the run writes what goes to ``path``: ``path`` itself, or for a URI a local folder copied there
        after the run. ``names`` are the files the run writes in it; an earlier run's are refused unless
        ``overwrite``, and so is a folder inside one of the ``inputs`` (the next run would read it as data)."""
        uri = remote_uri(path)
        if uri is None:
            return path
        for source in filter(None, map(lambda given: remote_uri(given) if given is not None else None, inputs)):
            if (uri.rstrip("/") + "/").startswith(source.rstrip("/") + "/"):
                raise AnalyzerInputError(f"{option} {uri} lies inside the input {source}: the next run would read "
                                         "this run's files as data; write the output elsewhere")
            if source in (joined(uri, name) for name in names):
                raise AnalyzerInputError(f"{option} {uri} would overwrite the input {source} with this run's file; "
                                         "write the output to another folder")
        earlier = [name for name in names if self.files.exists(joined(uri, name))]
        if earlier and not overwrite:
            shown = ", ".join(earlier[:4]) + (", ..." if len(earlier) > 4 else "")
            raise AnalyzerInputError(f"{option} {uri} holds an earlier run's {shown}: {OVERWRITE_FIX}")
        local = self.folder / f"output-{len(self._destinations)}"
        local.mkdir(parents=True)
        self._destinations.append(_Destination(local=local, uri=uri, names=names))
        return local

    def publish(self, outcome: RunOutcome, *, output: Path) -> RunOutcome:
        """Write the outcome document in ``output`` (the local folder the run wrote), copy the staged folders
        to their URIs (removing an earlier run's files there first), and say where the files went."""
        outcome_file = write_json(output / OUTCOME_FILE, outcome.document())
        written = [*outcome.files, outcome_file]
        shown: list[Path] = []
        for destination in self._destinations:
            for name in destination.names:
                target = joined(destination.uri, name)
                if self.files.exists(target):
                    self.files.delete(target)
        for path in written:
            destination = next((d for d in self._destinations if d.local in Path(path).parents), None)
            if destination is None:
                shown.append(path)
                continue
            target = joined(destination.uri, Path(path).relative_to(destination.local).as_posix())
            self.files.upload(Path(path), target)
            shown.append(RemoteLocation(target))
        output_dir = next((RemoteLocation(d.uri) for d in self._destinations if d.local == output), outcome.output_dir)
        return replace(outcome, files=tuple(shown), output_dir=output_dir)
