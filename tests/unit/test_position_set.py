"""The rebuild's record of which store positions a topic showed."""

from __future__ import annotations

import random

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


def test_position_sets_of_several_readers_merge_into_what_one_reader_would_have_seen():
    one, first, second = PositionSet(), PositionSet(), PositionSet()
    for position in [1, 2, 9, 17, 40]:
        one.add(position)
        first.add(position)
    for position in [3, 17, 1200]:
        one.add(position)
        second.add(position)
    first.merge(second.bits)
    assert first.bits == one.bits
    assert first.count_through(2000) == 7 and 1200 in first and 1199 not in first
    assert first.first_missing() == 4


def test_adding_batches_notes_exactly_the_positions_added():
    rng = random.Random(7)
    seen, truth = PositionSet(), set()
    for _ in range(20):
        batch = [rng.randrange(1, 5000) for _ in range(rng.randrange(0, 300))]
        seen.add_all(batch)
        truth.update(batch)
        assert all(position in seen for position in truth)
        assert seen.count_through(5000) == len(truth)
    assert not any(position in seen for position in set(range(1, 5000)) - truth)
    assert seen.first_missing() == min(set(range(1, 5001)) - truth)
