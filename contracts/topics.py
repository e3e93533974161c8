"""Kafka topic names: one topic per producing service, keyed by stream id (docs/design.md, "Events and the store")."""

from __future__ import annotations

from dataclasses import dataclass

DEAD_LETTER_SUFFIX = ".dlq"


@dataclass(frozen=True)
class Topic:
    """A topic a service publishes its facts to."""

    name: str
    producer: str
    description: str
    partitions: int = 6

    @property
    def dead_letters(self) -> str:
        """Where consumers park events of this topic that keep failing."""
        return self.name + DEAD_LETTER_SUFFIX


REGISTRATION_EVENTS = Topic(
    "registration.events", "registration", "Real-name ledger: persons, employers, vacancies, employment status."
)
ASSISTANCE_EVENTS = Topic(
    "assistance.events", "assistance", "Employment assistance: hard-to-employ cases, services, placements."
)
INSURANCE_EVENTS = Topic(
    "insurance.events", "insurance", "Social insurance: enrolment, contributions, benefits, retirees."
)
SUPERVISION_EVENTS = Topic(
    "supervision.events", "supervision", "Labour inspection: complaints, cases, mediation, ratings."
)

ALL_TOPICS: tuple[Topic, ...] = (REGISTRATION_EVENTS, ASSISTANCE_EVENTS, INSURANCE_EVENTS, SUPERVISION_EVENTS)


def topic_of(service: str) -> Topic:
    """The topic a service publishes to."""
    for topic in ALL_TOPICS:
        if topic.producer == service:
            return topic
    raise KeyError(f"no topic for service {service!r}")
