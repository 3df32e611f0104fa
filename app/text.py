"""Characters Roster does not take in: they cannot be stored (NUL, on PostgreSQL), shown or printed
(control characters), or they make one name look like another (bidirectional overrides)."""
from __future__ import annotations

import re
import unicodedata

# C0 controls but tab, LF and CR; DEL and C1; bidi embeddings, overrides and isolates and the marks that
# only steer direction; U+FFFD, which is what undecodable bytes become on the way in.
UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ufffd]")


def describe(char: str) -> str:
    """One unsafe character in words: "U+0007 (a control character)"."""
    if char == "\ufffd":
        return "text that is not valid UTF-8"
    name = unicodedata.name(char, "").lower() or "a control character"
    return f"U+{ord(char):04X} ({name})"


def first_unsafe(text: str) -> str | None:
    found = UNSAFE.search(text)
    return found.group() if found else None


def without_unsafe(text: str) -> tuple[str, list[str]]:
    """The text without its unsafe characters, and those characters (each kind once, in order)."""
    removed = list(dict.fromkeys(UNSAFE.findall(text)))
    return (UNSAFE.sub("", text), removed) if removed else (text, [])
