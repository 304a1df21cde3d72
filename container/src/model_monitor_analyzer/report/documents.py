"""Refusing a document given in the wrong place, saying what it is and where it goes (rather than
reading it as something else); the recognition itself is ``document_kinds``."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from model_monitor_analyzer.document_kinds import DocumentKind, document_kind
from model_monitor_analyzer.errors import AnalyzerInputError

__all__ = ["DocumentKind", "document_kind", "expect_document", "placement_on_the_command_line"]


def placement_on_the_command_line(kind: DocumentKind) -> str:
    """Where a document of ``kind`` goes on the command line, as a fix (``pass it with --type ... --statistics``)."""
    return kind.placement


def expect_document(
    document: Mapping, expected: DocumentKind, *, path: str, option: str,
    place: Callable[[DocumentKind], str] = placement_on_the_command_line,
) -> None:
    """Refuse ``document`` when its content says it is another kind than ``expected``; the message names
    the setting as ``option`` and where the document goes as ``place`` says (the adapter's own words)."""
    kind = document_kind(document)
    if kind is None or kind is expected:
        return
    raise AnalyzerInputError(
        f"{option} expects the {expected.title}, but this file is the {kind.title}: {place(kind)}",
        path=path,
    )
