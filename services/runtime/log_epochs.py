"""Telling a replaced log from the one a consumer read: the relay's log epochs, read on every record.

A broker that loses its log (the embedded broker restarted empty; real Kafka after an unclean leader election)
starts the partition's offsets again, and the relay republishes into the new log under a new epoch
(``services.runtime.outbox.EPOCH_HEADER``). A consumer cannot trust its position across that: it may still hold
one of the old log in memory, or, proven against the embedded broker, commit one after the restart (the restarted
broker accepts an offset commit from a member of a group it no longer knows) and resume from it after it rejoins.
Either way it would read on from the middle of the new log and never see what the relay republished below
that offset (issue 15: 371 events one worker never received).

So, per partition, ``EpochGuard`` remembers the newest epoch read (kept in ``consumer_progress`` across restarts):

- a record of a newer epoch means the log was replaced: the rest of the partition's batch is dropped and the
  consumer reads the partition again from its beginning (the inbox skips what it had applied);
- a record of an older epoch after a newer one, whose store position is past where the newer epoch's
  republication started, is left unapplied: the newer epoch carries it again. These are what the relay wrote
  into the new log before it noticed the loss; applied where they stand they would overtake older events of the
  same streams that the republication brings later (a hire counted before the person's registration);
- a record that landed below the offset the relay stamped on it (``OFFSET_HEADER``) is left unapplied too: the
  relay wrote it into a log that had replaced the one it knew, before it noticed, and the acknowledgement made it
  republish the record in order under a new epoch. Without this a consumer reading the new log in the moment
  between the two could apply the record first (the broker-loss fault, once in CI);
- everything else is applied as usual.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aiokafka import ConsumerRecord

from services.runtime.outbox import EPOCH_HEADER, OFFSET_HEADER, POSITION_HEADER


@dataclass(frozen=True)
class LogEpoch:
    """A log incarnation: the relay's count of losses rewound for, and where its republication started."""

    epoch: int = 0
    republished_after: int = 0


#: The epoch of a message published before relays stamped one, or by a relay that has lost nothing yet.
FIRST_EPOCH = LogEpoch()


def _header(record: ConsumerRecord, name: str) -> bytes | None:
    for key, value in record.headers or ():
        if key == name:
            return bytes(value)
    return None


def epoch_of(record: ConsumerRecord) -> LogEpoch:
    """The epoch a record was published in (epoch 0 without the header, or with one that does not parse)."""
    raw = _header(record, EPOCH_HEADER)
    if raw is None:
        return FIRST_EPOCH
    epoch, _, after = raw.partition(b":")
    try:
        return LogEpoch(int(epoch), int(after or 0))
    except ValueError:
        return FIRST_EPOCH


def position_of(record: ConsumerRecord) -> int | None:
    """The store position a record carries, if it carries one."""
    raw = _header(record, POSITION_HEADER)
    try:
        return int(raw) if raw is not None else None
    except ValueError:
        return None


def landed_below_its_stamp(record: ConsumerRecord) -> bool:
    """Whether the record sits below the offset its relay stamped on it: written into a replaced log ahead of
    what the relay republishes there (module doc). Records without a stamp never are."""
    raw = _header(record, OFFSET_HEADER)
    if raw is None:
        return False
    try:
        return int(record.offset) < int(raw)
    except ValueError:
        return False


@dataclass
class Screened:
    """One partition's records of a batch, sorted by what to do with them."""

    #: To apply, in offset order.
    apply: list[ConsumerRecord]
    #: Read but left unapplied (an older epoch the newer one republishes); they count as read for the progress.
    skipped: list[ConsumerRecord]
    #: The log was replaced: read this partition again from its beginning, and commit nothing for it now.
    rewind: bool = False


class EpochGuard:
    """The newest log epoch a consumer has read, per (topic, partition); sorts each batch by it (module doc)."""

    def __init__(self, known: dict[tuple[str, int], LogEpoch] | None = None) -> None:
        self.known: dict[tuple[str, int], LogEpoch] = dict(known or {})

    def screen(self, topic: str, partition: int, records: Sequence[ConsumerRecord]) -> Screened:
        """Sort one partition's records (in offset order) into applied, skipped, or a rewind."""
        key = (topic, partition)
        screened = Screened([], [])
        for record in records:
            if landed_below_its_stamp(record):
                screened.skipped.append(record)
                continue
            epoch = epoch_of(record)
            known = self.known.get(key)
            if known is None or epoch.epoch == known.epoch:
                self.known[key] = epoch
                screened.apply.append(record)
            elif epoch.epoch > known.epoch:
                # What came before it in this batch was read from a position that may lie inside the new log.
                self.known[key] = epoch
                return Screened([], [], rewind=True)
            else:
                position = position_of(record)
                stale = position is not None and position > known.republished_after
                (screened.skipped if stale else screened.apply).append(record)
        return screened
