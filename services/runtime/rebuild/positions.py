"""Which store positions a topic has shown: how a rebuild tells whether a topic still holds a store's history.

Every message the relay publishes carries its store position (``outbox.POSITION_HEADER``); the rebuild
notes the positions it reads and compares their count with what the store published (docs/adr/0003-rebuild.md).
"""

from __future__ import annotations

from collections.abc import Sequence


class PositionSet:
    """Which store positions a topic has shown, as a bitmap: 10 million positions take 1.25 MB."""

    def __init__(self) -> None:
        self._bits = bytearray()

    def add(self, position: int) -> None:
        """Note that the event at ``position`` was seen."""
        self.add_all((position,))

    def add_all(self, positions: Sequence[int]) -> None:
        """Note that the events at ``positions`` were seen (a batch's worth: one call, not one each)."""
        if not positions:
            return
        size = max(positions) // 8 + 1
        bits = self._bits
        if size > len(bits):
            bits.extend(bytes(max(size - len(bits), len(bits))))
        for position in positions:
            bits[position >> 3] |= 1 << (position & 7)

    def merge(self, bits: bytes) -> None:
        """Add the positions another set saw (its ``bits``)."""
        if len(bits) > len(self._bits):
            self._bits.extend(bytes(len(bits) - len(self._bits)))
        merged = int.from_bytes(self._bits, "little") | int.from_bytes(bits, "little")
        self._bits[:] = merged.to_bytes(len(self._bits), "little")

    @property
    def bits(self) -> bytes:
        """The set as a bitmap (bit ``n`` of byte ``n // 8`` for position ``8 * (n // 8) + n % 8``)."""
        return bytes(self._bits)

    def __contains__(self, position: int) -> bool:
        index, bit = divmod(position, 8)
        return index < len(self._bits) and bool(self._bits[index] >> bit & 1)

    def count_through(self, position: int) -> int:
        """How many distinct positions from 1 up to ``position`` were seen."""
        whole, rest = divmod(position + 1, 8)
        count = int.from_bytes(self._bits[:whole], "little").bit_count()
        if rest and whole < len(self._bits):
            count += (self._bits[whole] & ((1 << rest) - 1)).bit_count()
        return count

    def first_missing(self) -> int:
        """The lowest position from 1 on that was not seen."""
        for index, byte in enumerate(self._bits):
            if byte != 0xFF:
                for bit in range(8):
                    position = index * 8 + bit
                    if position >= 1 and not byte >> bit & 1:
                        return position
        return max(1, len(self._bits) * 8)
