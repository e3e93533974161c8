"""The rebuild's record of which store positions a topic showed."""

from __future__ import annotations

from services.runtime.rebuild import PositionSet


def test_position_set_counts_distinct_positions_and_finds_the_first_hole():
    seen = PositionSet()
    for position in [*range(5, 40), 3, 3, 1000]:
        seen.add(position)
    assert seen.count_through(4) == 1
    assert seen.count_through(39) == 36
    assert seen.count_through(10_000) == 37
    assert seen.first_missing() == 1
    seen.add(1)
    seen.add(2)
    assert seen.first_missing() == 4
    assert 1000 in seen and 999 not in seen
