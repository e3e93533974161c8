"""Events of the assistance service (就业援助) on ``assistance.events``.

The cross-service facts are fixed in ``facts`` before either side uses them: registration reacts to
``PlacedInJob``; insurance reacts to ``PlacedInJob`` (enrolment expected within 30 days) and to the
hard-to-employ certification events (灵活就业社保补贴). The assistance service adds its other events to
their aggregate's module and to :data:`EVENTS`, which ``contracts.registry`` reads.

One module per aggregate (``cases`` with their ratings, ``certification``, ``households``, ``posts``) and
``facts`` for the cross-service facts. Every name stays importable from ``contracts.assistance``.
"""

from __future__ import annotations

from contracts.assistance.cases import (
    BusinessLoanPreReviewed,
    CaseClosed,
    CaseCloseReason,
    CaseMoved,
    CaseOpened,
    CaseOpenReason,
    EntrepreneurshipServiceGiven,
    EntrepreneurshipServiceKind,
    HomeVisited,
    JobReferred,
    JobSeekingProfileRecorded,
    ReferralOutcome,
    ReferralOutcomeRecorded,
    ServiceRated,
    TrainingCompleted,
    TrainingReferred,
    VocationalGuidanceGiven,
)
from contracts.assistance.certification import (
    HardToEmployApplied,
    HardToEmployDecided,
    HardToEmployObjectionRecorded,
    HardToEmployReviewed,
)
from contracts.assistance.facts import (
    COMPUTED_CATEGORIES,
    HardToEmployCategory,
    HardToEmployCertified,
    HardToEmployStatusEnded,
    PlacedInJob,
)
from contracts.assistance.households import (
    ClearReason,
    ZeroEmploymentHouseholdCleared,
    ZeroEmploymentHouseholdConfirmed,
    ZeroEmploymentHouseholdDetected,
    ZeroEmploymentHouseholdDismissed,
)
from contracts.assistance.posts import (
    PublicWelfarePostCreated,
    PublicWelfarePostExited,
    PublicWelfarePostFilled,
    PublicWelfarePostTermEnded,
)
from contracts.envelope import Event

#: Every event type on ``assistance.events``, in the order they were introduced.
EVENTS: tuple[type[Event], ...] = (
    PlacedInJob,
    HardToEmployCertified,
    HardToEmployStatusEnded,
    CaseOpened,
    CaseMoved,
    CaseClosed,
    JobSeekingProfileRecorded,
    VocationalGuidanceGiven,
    JobReferred,
    ReferralOutcomeRecorded,
    HomeVisited,
    TrainingReferred,
    TrainingCompleted,
    EntrepreneurshipServiceGiven,
    BusinessLoanPreReviewed,
    HardToEmployApplied,
    HardToEmployReviewed,
    HardToEmployObjectionRecorded,
    HardToEmployDecided,
    ZeroEmploymentHouseholdDetected,
    ZeroEmploymentHouseholdConfirmed,
    ZeroEmploymentHouseholdDismissed,
    ZeroEmploymentHouseholdCleared,
    PublicWelfarePostCreated,
    PublicWelfarePostFilled,
    PublicWelfarePostExited,
    PublicWelfarePostTermEnded,
    ServiceRated,
)

__all__ = [
    "COMPUTED_CATEGORIES",
    "EVENTS",
    "BusinessLoanPreReviewed",
    "CaseCloseReason",
    "CaseClosed",
    "CaseMoved",
    "CaseOpenReason",
    "CaseOpened",
    "ClearReason",
    "EntrepreneurshipServiceGiven",
    "EntrepreneurshipServiceKind",
    "HardToEmployApplied",
    "HardToEmployCategory",
    "HardToEmployCertified",
    "HardToEmployDecided",
    "HardToEmployObjectionRecorded",
    "HardToEmployReviewed",
    "HardToEmployStatusEnded",
    "HomeVisited",
    "JobReferred",
    "JobSeekingProfileRecorded",
    "PlacedInJob",
    "PublicWelfarePostCreated",
    "PublicWelfarePostExited",
    "PublicWelfarePostFilled",
    "PublicWelfarePostTermEnded",
    "ReferralOutcome",
    "ReferralOutcomeRecorded",
    "ServiceRated",
    "TrainingCompleted",
    "TrainingReferred",
    "VocationalGuidanceGiven",
    "ZeroEmploymentHouseholdCleared",
    "ZeroEmploymentHouseholdConfirmed",
    "ZeroEmploymentHouseholdDetected",
    "ZeroEmploymentHouseholdDismissed",
]
