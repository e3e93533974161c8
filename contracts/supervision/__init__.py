"""Events of the supervision service (劳动保障监察, 劳动争议调解) on ``supervision.events``.

Reporting folds them; no other domain service reacts to them yet. The complainant's and the petitioner's
identity never appear in any of them: the service keeps it encrypted at rest. Every statutory time limit an
event sets is carried with it as a due date and ``provisional`` (computed for a year the official calendar
does not know yet, see ``services/runtime/workdays.py``). Money is integer fen (``contracts.money``).

Streams: ``complaint`` (投诉), ``case`` (立案查处), ``grid_inspection`` (网格化监察), ``dispute`` (劳动争议:
mediation, then arbitration), ``petition`` (来信来访), ``employer_rating`` (守法诚信等级) and
``arrears_monitoring`` (欠费监控, from insurance's arrears).

One module per aggregate: ``complaints``, ``cases``, ``inspections`` (grid inspections), ``disputes``,
``petitions``, ``ratings`` (employer ratings and arrears monitoring), and ``common`` for what they share.
Every name stays importable from ``contracts.supervision``.
"""

from __future__ import annotations

from contracts.envelope import Event
from contracts.supervision.cases import (
    CaseClosed,
    CaseDeadlineBreached,
    CaseDeadlineRecomputed,
    CaseExtended,
    CaseInspected,
    CaseOpened,
    CaseSource,
    CaseTransferred,
    PenaltyImposed,
    RectificationOrdered,
    RectificationVerified,
)
from contracts.supervision.common import (
    ComplaintType,
    EmployerRef,
    InspectionScope,
)
from contracts.supervision.complaints import (
    ComplaintAccepted,
    ComplaintCompleted,
    ComplaintCompletionRequested,
    ComplaintDeadlineRecomputed,
    ComplaintDecisionOverdue,
    ComplaintFiled,
    ComplaintRefused,
    RefusalReason,
)
from contracts.supervision.disputes import (
    ArbitrationAccepted,
    ArbitrationApplied,
    ArbitrationAwarded,
    ArbitrationExtended,
    DisputeDeadlineRecomputed,
    DisputeReferredToArbitration,
    MediationAgreed,
    MediationApplied,
    MediationFailed,
    MediationSessionHeld,
)
from contracts.supervision.inspections import (
    Finding,
    GridFollowUpRecomputed,
    GridFollowUpRecorded,
    GridInspectionRecorded,
)
from contracts.supervision.petitions import (
    PetitionAnswered,
    PetitionAssigned,
    PetitionDeadlineRecomputed,
    PetitionRegistered,
)
from contracts.supervision.ratings import (
    ArrearsMonitoringClosed,
    ArrearsMonitoringOpened,
    EmployerRatingChanged,
    Grade,
)

__all__ = [
    "EVENTS",
    "ArbitrationAccepted",
    "ArbitrationApplied",
    "ArbitrationAwarded",
    "ArbitrationExtended",
    "ArrearsMonitoringClosed",
    "ArrearsMonitoringOpened",
    "CaseClosed",
    "CaseDeadlineBreached",
    "CaseDeadlineRecomputed",
    "CaseExtended",
    "CaseInspected",
    "CaseOpened",
    "CaseSource",
    "CaseTransferred",
    "ComplaintAccepted",
    "ComplaintCompleted",
    "ComplaintCompletionRequested",
    "ComplaintDeadlineRecomputed",
    "ComplaintDecisionOverdue",
    "ComplaintFiled",
    "ComplaintRefused",
    "ComplaintType",
    "DisputeDeadlineRecomputed",
    "DisputeReferredToArbitration",
    "EmployerRatingChanged",
    "EmployerRef",
    "Finding",
    "Grade",
    "GridFollowUpRecomputed",
    "GridFollowUpRecorded",
    "GridInspectionRecorded",
    "InspectionScope",
    "MediationAgreed",
    "MediationApplied",
    "MediationFailed",
    "MediationSessionHeld",
    "PenaltyImposed",
    "PetitionAnswered",
    "PetitionAssigned",
    "PetitionDeadlineRecomputed",
    "PetitionRegistered",
    "RectificationOrdered",
    "RectificationVerified",
    "RefusalReason",
]

#: Every event type on ``supervision.events``, in the order they were introduced.
EVENTS: tuple[type[Event], ...] = (
    ComplaintFiled,
    ComplaintCompletionRequested,
    ComplaintCompleted,
    ComplaintAccepted,
    ComplaintRefused,
    ComplaintDecisionOverdue,
    CaseOpened,
    CaseInspected,
    RectificationOrdered,
    RectificationVerified,
    PenaltyImposed,
    CaseExtended,
    CaseTransferred,
    CaseClosed,
    CaseDeadlineBreached,
    GridInspectionRecorded,
    GridFollowUpRecorded,
    MediationApplied,
    MediationSessionHeld,
    MediationAgreed,
    MediationFailed,
    DisputeReferredToArbitration,
    ArbitrationApplied,
    ArbitrationAccepted,
    ArbitrationExtended,
    ArbitrationAwarded,
    PetitionRegistered,
    PetitionAssigned,
    PetitionAnswered,
    EmployerRatingChanged,
    ArrearsMonitoringOpened,
    ArrearsMonitoringClosed,
    CaseDeadlineRecomputed,
    ComplaintDeadlineRecomputed,
    GridFollowUpRecomputed,
    DisputeDeadlineRecomputed,
    PetitionDeadlineRecomputed,
)
