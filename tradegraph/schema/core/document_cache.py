"""Parsed GraphQL documents kept by their text, so a repeated query is parsed and validated once."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from graphql import DocumentNode, parse

if TYPE_CHECKING:
    from graphql import ASTValidationRule

    from tradegraph.schema.core.query_cost import DocumentMeasure

ValidationRules = tuple[type["ASTValidationRule"], ...]


@dataclass
class CachedDocument:
    document: DocumentNode
    measure: DocumentMeasure | None = None  # kept when no variable changes it
    valid_under: set[ValidationRules] = field(default_factory=set)  # rule sets it passed


class DocumentCache:
    """A least-recently-used cache of parsed documents, keyed by the exact document text.

    A parsed document takes about 200 times its text in memory, so the cache holds at most
    `max_text` characters of documents in all (the default, ~50 MB of trees at worst), and
    keeps none longer than `max_text // 16`: one huge document must not flush it."""

    def __init__(self, max_entries: int = 256, max_text: int = 256 * 1024) -> None:
        self.max_entries = max_entries
        self.max_text = max_text
        self._entries: OrderedDict[str, CachedDocument] = OrderedDict()
        self._text = 0  # characters of the cached documents
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, text: str) -> bool:
        return text in self._entries

    def parse(self, text: str, max_tokens: int) -> CachedDocument:
        """The cached entry for `text`, or a new one; raises GraphQLSyntaxError."""
        entry = self._entries.get(text)
        if entry is not None:
            self._entries.move_to_end(text)
            self.hits += 1
            return entry
        self.misses += 1
        entry = CachedDocument(parse(text, max_tokens=max_tokens))
        if len(text) <= self.max_text // 16:
            self._entries[text] = entry
            self._text += len(text)
            while len(self._entries) > self.max_entries or self._text > self.max_text:
                evicted, _ = self._entries.popitem(last=False)
                self._text -= len(evicted)
        return entry
