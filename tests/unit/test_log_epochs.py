"""How a consumer screens records by the relay's log epoch (services/runtime/log_epochs.py)."""

from __future__ import annotations

from aiokafka import ConsumerRecord

from services.runtime.log_epochs import EpochGuard, LogEpoch, epoch_of, landed_below_its_stamp
from services.runtime.outbox import EPOCH_HEADER, OFFSET_HEADER, POSITION_HEADER


def record(offset: int, position: int, epoch: str | None) -> ConsumerRecord:
    headers = [(POSITION_HEADER, str(position).encode())]
    if epoch is not None:
        headers.append((EPOCH_HEADER, epoch.encode()))
    return ConsumerRecord("t", 0, offset, 0, 0, b"k", b"{}", None, 1, 2, headers)


def test_a_record_without_the_header_is_of_the_first_epoch():
    assert epoch_of(record(0, 1, None)) == LogEpoch(0, 0)
    assert epoch_of(record(0, 1, "3:120")) == LogEpoch(3, 120)
    assert epoch_of(record(0, 1, "garbage")) == LogEpoch(0, 0)


def test_records_of_the_epoch_read_so_far_are_applied():
    guard = EpochGuard({("t", 0): LogEpoch(1, 0)})
    screened = guard.screen("t", 0, [record(7, 50, "1:0"), record(8, 51, "1:0")])
    assert [r.offset for r in screened.apply] == [7, 8] and not screened.skipped and not screened.rewind


def test_a_newer_epoch_rewinds_the_partition_and_applies_nothing_of_the_batch():
    # The consumer resumed at offset 40 of a log the broker replaced: what it would read there may lie past events
    # the relay republished below offset 40, so none of it is applied now.
    guard = EpochGuard({("t", 0): LogEpoch(0, 0)})
    screened = guard.screen("t", 0, [record(40, 300, "0:0"), record(41, 12, "1:0"), record(42, 13, "1:0")])
    assert screened.rewind and not screened.apply and not screened.skipped
    assert guard.known[("t", 0)] == LogEpoch(1, 0)


def test_after_a_rewind_the_old_epochs_writes_into_the_new_log_wait_for_their_republication():
    # Read again from the beginning: first what the relay wrote into the new log before it noticed the loss (epoch
    # 0, positions past 100, where epoch 1 republishes from), then the republication.
    guard = EpochGuard({("t", 0): LogEpoch(1, 100)})
    batch = [record(0, 90, "0:0"), record(1, 130, "0:0"), record(2, 131, "0:0"), record(3, 101, "1:100")]
    screened = guard.screen("t", 0, batch)
    assert [r.offset for r in screened.skipped] == [1, 2], "republished later under epoch 1: applied in order then"
    assert [r.offset for r in screened.apply] == [0, 3], "position 90 is not republished: applied where it stands"


def test_a_partition_never_read_takes_the_epoch_it_finds():
    guard = EpochGuard()
    screened = guard.screen("t", 0, [record(0, 1, "2:0")])
    assert [r.offset for r in screened.apply] == [0] and guard.known[("t", 0)] == LogEpoch(2, 0)


def stamped(offset: int, position: int, expected: int | str) -> ConsumerRecord:
    headers = [
        (POSITION_HEADER, str(position).encode()),
        (EPOCH_HEADER, b"0:0"),
        (OFFSET_HEADER, str(expected).encode()),
    ]
    return ConsumerRecord("t", 0, offset, 0, 0, b"k", b"{}", None, 1, 2, headers)


def test_a_record_below_the_offset_its_relay_stamped_waits_for_the_republication():
    # The broker came back empty and the relay, not knowing yet, wrote positions 501-502 where it expected offsets
    # 4,000 and 4,001: they land at 0 and 1 of the new log, ahead of the older events the relay republishes next.
    # The consumer has not met a newer epoch yet, so only the stamp tells.
    guard = EpochGuard({("t", 0): LogEpoch(0, 0)})
    screened = guard.screen("t", 0, [stamped(0, 501, 4000), stamped(1, 502, 4001)])
    assert [r.offset for r in screened.skipped] == [0, 1] and not screened.apply and not screened.rewind
    assert landed_below_its_stamp(stamped(0, 501, 4000))


def test_a_record_at_or_above_its_stamp_is_applied():
    # Above: the relay's idea of the end was a lower bound (a mark, or a retried send that landed twice).
    guard = EpochGuard({("t", 0): LogEpoch(0, 0)})
    screened = guard.screen("t", 0, [stamped(10, 7, 10), stamped(12, 8, 11), stamped(13, 9, "not a number")])
    assert [r.offset for r in screened.apply] == [10, 12, 13] and not screened.skipped
