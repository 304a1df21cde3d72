"""Refusing a document given in the wrong place, saying what it is and where it goes (rather than
reading it as something else); the recognition itself is ``document_kinds``."""

from __future__ import annotations

from collections.abc import Mapping

from model_monitor_analyzer.document_kinds import DocumentKind, document_kind
from model_monitor_analyzer.errors import AnalyzerInputError

__all__ = ["DocumentKind", "document_kind", "expect_document"]


def expect_document(document: Mapping, expected: DocumentKind, *, path: str, option: str) -> None:
    """Refuse ``document`` when its content says it is another kind than ``expected``."""
    kind = document_kind(document)
    if kind is None or kind is expected:
        return
    raise AnalyzerInputError(
        f"{option} expects the {expected.title}, but this file is the {kind.title}: {kind.placement}",
        path=path,
    )
