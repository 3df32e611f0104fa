"""The first row of a file to hold each Patient ID, email and participant, for a file of any length.

Matching refuses a later row that repeats one of them (matching.py), so it must remember them for the
whole file. In a dict, with each key's tuple and strings kept alive, that is about 120 bytes a key:
300 MB of a million-row preview. Up to `compact_at` keys (a 100,000-row file stays under it) they are
kept so; past that they move to a table of two arrays, each key's 64-bit hash beside its row, 12 bytes
a slot and at most three quarters of the slots used: a sixth of the memory, at about a microsecond more
a key.

A file that says it is that long (its row estimate) starts in the table, sized for all its keys: the
dict's small objects, once freed, stayed in the process (45 MB at a million rows), and a table that
doubles holds its old and new arrays at once.

Two keys with one hash would read as one: at a million rows (up to three million keys), odds of about
one in four million that a row is refused as a repeat of a row it does not repeat. The message names
that row, so a person would see it. (Python salts string hashes per process: a file cannot aim at them.)
"""
from __future__ import annotations

from array import array
from collections.abc import Hashable

COMPACT_AT = 400_000  # keys kept in a dict before they move to the table: a row holds up to three
FIRST_BITS = 20  # the table's first size, 2^20 slots; it doubles when three quarters full
KEYS_PER_ROW = 3  # a row's Patient ID, email and participant


class EarlierRows:
    """key -> the first row that held it; a key remembered twice keeps its first row."""

    def __init__(self, compact_at: int | None = None, first_bits: int = FIRST_BITS, *, expected: int = 0):
        self.compact_at = compact_at  # None: always a dict (one row checked again, a small file)
        self.first_bits = first_bits
        self.held: dict[Hashable, int] | None = {}
        self.hashes, self.rows = array("q"), array("i")  # rows are below 2^31
        self.mask = self.count = 0
        if compact_at is not None and expected > compact_at:  # `expected`: about how many keys will come
            self.held = None
            self._empty_table(expected)

    def get(self, key: Hashable) -> int | None:
        if self.held is not None:
            return self.held.get(key)
        slot = self._slot(hash(key) or 1)
        return self.rows[slot] if self.hashes[slot] else None

    def remember(self, key: Hashable, row: int) -> None:
        if self.held is not None:
            self.held.setdefault(key, row)
            if self.compact_at is not None and len(self.held) > self.compact_at:
                self._compact()
            return
        hashed = hash(key) or 1  # 0 marks an empty slot
        slot = self._slot(hashed)
        if not self.hashes[slot]:
            self.hashes[slot], self.rows[slot] = hashed, row
            self.count += 1
            if self.count * 4 > len(self.hashes) * 3:
                self._resize(len(self.hashes) * 2)

    def _slot(self, hashed: int) -> int:
        """The slot holding this hash, else the empty one where it would go (linear probing)."""
        hashes, mask = self.hashes, self.mask
        slot = hashed & mask
        while (found := hashes[slot]) != hashed and found:
            slot = (slot + 1) & mask
        return slot

    def _empty_table(self, keys: int) -> None:
        """A table with room for `keys` before it first doubles."""
        size = 1 << self.first_bits
        while size * 3 < keys * 4:
            size *= 2
        self._resize(size)

    def _resize(self, size: int) -> None:
        hashes, rows = self.hashes, self.rows
        self.hashes, self.rows = array("q", bytes(8 * size)), array("i", bytes(4 * size))
        self.mask = size - 1
        for hashed, row in zip(hashes, rows, strict=True):
            if hashed:
                slot = self._slot(hashed)
                self.hashes[slot], self.rows[slot] = hashed, row

    def _compact(self) -> None:
        held, self.held = self.held, None
        self._empty_table(len(held) * 3 // 2)  # room to grow by half before the first resize
        for key, row in held.items():
            self.remember(key, row)
