"""Cases (立案查处): investigation within 60 working days, one county-approved extension of at most 30.

劳动保障监察条例 Art 17 (docs/rules.md, "Supervision"). The steps are events: inspection, rectification
order with its own deadline and its verification, penalty in fen, transfer, closure. A step out of order is
refused naming the rule; the scheduled check flags each passed limit once.

One module per responsibility: ``state`` (the state and its evolution), ``steps`` (the decisions of the
investigation) and ``deadlines`` (the limits: breaches and recomputation). The package offers all of them,
so a caller names ``domain.case.decide_inspect`` as before.
"""

from services.supervision.domain.case.deadlines import decide_flag_breaches, decide_recompute, running_limits
from services.supervision.domain.case.state import CaseState, CaseStatus, Outcome, evolve_case
from services.supervision.domain.case.steps import (
    OpenCase,
    decide_close,
    decide_extend,
    decide_inspect,
    decide_open_case,
    decide_order_rectification,
    decide_penalty,
    decide_transfer,
    decide_verify_rectification,
)

__all__ = [
    "CaseState",
    "CaseStatus",
    "OpenCase",
    "Outcome",
    "decide_close",
    "decide_extend",
    "decide_flag_breaches",
    "decide_inspect",
    "decide_open_case",
    "decide_order_rectification",
    "decide_penalty",
    "decide_recompute",
    "decide_transfer",
    "decide_verify_rectification",
    "evolve_case",
    "running_limits",
]
