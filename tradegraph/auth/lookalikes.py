"""Look-alike emails: the confusable skeleton of Unicode TR39 (UTS #39, section 4).

Two strings that look the same to a reader ("admin" in Latin letters; with a Cyrillic a, U+0430;
in fullwidth letters, U+FF41...; with a dotless i, U+0131) have the same skeleton: NFD, then every
character replaced by its prototype from Unicode's confusables.txt, then NFD again. An account
stores its email's skeleton under a unique index, so a second account whose email merely looks
like the first is refused by the database itself, on MongoDB as on the emulation.

The confusables data comes from the `confusable-homoglyphs` package (its confusables.json, built
from confusables.txt). That file keeps each source → prototype pair in both directions; which
side is the prototype follows from TR39 itself: a prototype is never a source, so a character
listing exactly one homoglyph that lists others is a source of it. For the pairs where both
list only each other, either may stand for both: the skeleton only has to be equal for both.
"""

from __future__ import annotations

import json
import unicodedata
from functools import cache
from importlib import resources

DIRECTION_MARKS = str.maketrans("", "", "\u200e\u200f")  # the data file's display aids


@cache
def prototypes() -> dict[str, str]:
    """Character -> its prototype (one or more characters), for every confusable source."""
    data_file = resources.files("confusable_homoglyphs") / "confusables.json"
    homoglyphs: dict[str, list[dict[str, str]]] = json.loads(data_file.read_text("utf-8"))
    mapping: dict[str, str] = {}
    for char, alikes in homoglyphs.items():
        if len(char) != 1 or len(alikes) != 1:
            continue  # a prototype (several sources map to it), or a sequence
        other = alikes[0]["c"]
        target = other.translate(DIRECTION_MARKS)
        if len(target) > 1 or len(homoglyphs.get(other, [])) > 1:
            mapping[char] = target  # `other` is the prototype
        else:  # a pair: both map to the same one of the two
            mapping[char] = min(char, target, key=lambda c: (not c.isascii(), c))
    return mapping


def skeleton(text: str) -> str:
    """TR39's skeleton(text), after NFKC and case folding: equal for strings a reader would
    confuse. NFKC first because confusables.txt leaves out what compatibility normalisation
    already maps (most fullwidth letters); case folding because emails are case-insensitive."""
    table = prototypes()
    current = unicodedata.normalize("NFD", unicodedata.normalize("NFKC", text).casefold())
    for _ in range(3):  # a prototype the data lists as a source of another: follow it
        # Folded again: prototypes may be capitals ("0" -> "O", "I" -> "l").
        mapped = unicodedata.normalize(
            "NFD", "".join(table.get(char, char) for char in current).casefold()
        )
        if mapped == current:
            break
        current = mapped
    return current
