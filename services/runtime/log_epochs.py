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

A replaced log can also show before any record of it is read: the restarted embedded broker answers a fetch past
its end with nothing rather than OFFSET_OUT_OF_RANGE, so a consumer whose position lies past the new log's end would
wait there. ``screen_batch`` holds both checks, for every driver (``services.runtime.consumer.EventConsumer``,
``services.runtime.faust_driver.FaustConsumer``); how a driver reads a partition again is its own.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from aiokafka import ConsumerRecord, TopicPartition
from prometheus_client import Counter

from services.runtime.outbox import EPOCH_HEADER, OFFSET_HEADER, POSITION_HEADER

log = logging.getLogger(__name__)

LOG_REPLACED = Counter(
    "renshe_consumer_log_replaced_total",
    "Times a partition's log was found replaced (a newer log epoch) and read again from its beginning",
    ["consumer", "topic"],
)


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
    return epoch_in(record.headers or ())


def position_of(record: ConsumerRecord) -> int | None:
    """The store position a record carries, if it carries one."""
    raw = _header(record, POSITION_HEADER)
    try:
        return int(raw) if raw is not None else None
    except ValueError:
        return None


def epoch_in(headers: Sequence[tuple[str, bytes]]) -> LogEpoch:
    """The epoch named by a message's headers (a partition's newest, say), as ``epoch_of`` reads a record's."""
    for key, value in headers:
        if key == EPOCH_HEADER:
            epoch, _, after = bytes(value).partition(b":")
            try:
                return LogEpoch(int(epoch), int(after or 0))
            except ValueError:
                return FIRST_EPOCH
    return FIRST_EPOCH


def superseded(record: ConsumerRecord, newest: LogEpoch) -> bool:
    """Whether a newer epoch of the record's partition republishes the record: it is of an older epoch and its
    store position lies past where ``newest`` republished from (module doc). Applied where it stands, it could
    overtake older events of its stream that the republication brings later."""
    if epoch_of(record).epoch >= newest.epoch:
        return False
    position = position_of(record)
    return position is not None and position > newest.republished_after


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


def left_for_republication(record: ConsumerRecord, newest: LogEpoch) -> bool:
    """Whether a reader that knows ``newest`` as its partition's newest epoch leaves the record unapplied: it
    landed below its stamp, or ``newest`` republishes it (``superseded``). For a reader of a whole log, such as a
    rebuild: the republication comes later in the same partition, in order."""
    if landed_below_its_stamp(record):
        return True
    return newest.epoch > 0 and superseded(record, newest)


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


def first_offset_to_check(committed: int) -> int | None:
    """Where a consumer starts a newly assigned partition whose group committed ``committed``: one message before,
    so that the first record read is one this group read before and its log epoch tells whether the log is still
    that one (``None``: nothing was committed before offset 0, start there).

    The committed offset may be one of a log the broker lost, which the restarted embedded broker let a worker
    commit; it may even sit exactly at the new log's end, where nothing would be read (and no epoch seen) until the
    relay writes there again. Past the end, ``screen_batch`` sees it. The one record read twice costs nothing: the
    inbox skips it."""
    return committed - 1 if committed > 0 else None


@dataclass
class ScreenedBatch:
    """A polled batch after the log-epoch screen (``screen_batch``)."""

    #: The partitions read on, with all their records: these make the progress and the offsets to commit.
    read: dict[TopicPartition, list[ConsumerRecord]] = field(default_factory=dict)
    #: Of each partition read on, the records to apply (``Screened.apply``).
    apply: dict[TopicPartition, list[ConsumerRecord]] = field(default_factory=dict)
    #: The partitions whose log was replaced, to read again from their beginning, each with the offset the
    #: replacement was seen at: the log's end, or the first record of the batch. Reading again starts at or below
    #: it, and whatever the consumer had fetched before lies above it.
    again: dict[TopicPartition, int] = field(default_factory=dict)


def screen_batch(
    consumer: str,
    guard: EpochGuard,
    batches: Mapping[TopicPartition, Sequence[ConsumerRecord]],
    assignment: Iterable[TopicPartition],
    highwater: Callable[[TopicPartition], int | None],
    positions: dict[TopicPartition, int],
) -> ScreenedBatch:
    """Screen one polled batch of a consumer (named ``consumer``) by the log epoch (module doc).

    ``batches``: the records per partition, in offset order; ``assignment``: the partitions the consumer holds;
    ``highwater``: a partition's end offset as the last fetch saw it, if it saw one; ``positions``: where the consumer
    has read each partition to, or the offset it resumed from. A partition to read again is dropped from
    ``positions``; the driver seeks it to its beginning (``ScreenedBatch.again``)."""
    screened = ScreenedBatch()
    for tp in assignment:
        # A log that ends below where the consumer reads it from was replaced (or truncated): the embedded broker,
        # restarted empty, answers a fetch past its end with nothing rather than OFFSET_OUT_OF_RANGE, so the
        # consumer would wait there and skip what the relay republishes below. (The fetch's high watermark is exact,
        # unlike the broker's ListOffsets.) The log epoch cannot tell: nothing is read there yet.
        end, position = highwater(tp), positions.get(tp)
        if end is not None and position is not None and end < position:
            log.warning(
                "%s: the log of %s/%d ends at %d, below offset %d read before; reading it again from its beginning",
                consumer,
                tp.topic,
                tp.partition,
                end,
                position,
            )
            LOG_REPLACED.labels(consumer, tp.topic).inc()
            positions.pop(tp, None)
            screened.again[tp] = end
    for tp, msgs in batches.items():
        if not msgs or tp in screened.again:
            continue
        one = guard.screen(tp.topic, tp.partition, msgs)
        if one.rewind:
            known = guard.known[(tp.topic, tp.partition)]
            log.warning(
                "%s: the log of %s/%d was replaced (log epoch %d, republished after position %d); reading"
                " it again from its beginning instead of offset %d",
                consumer,
                tp.topic,
                tp.partition,
                known.epoch,
                known.republished_after,
                msgs[0].offset,
            )
            LOG_REPLACED.labels(consumer, tp.topic).inc()
            positions.pop(tp, None)
            screened.again[tp] = msgs[0].offset
            continue
        screened.read[tp] = list(msgs)
        screened.apply[tp] = one.apply
    return screened
