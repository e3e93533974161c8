"""Events of the supervision service (劳动保障监察, 劳动争议调解) on ``supervision.events``.

No other domain service reacts to these yet; reporting folds them. The supervision service adds its
events to this module and to :data:`EVENTS`, which ``contracts.registry`` reads. The complainant's
identity never appears in any of them.
"""

from __future__ import annotations

from contracts.envelope import Event

#: Every event type on ``supervision.events``, in the order they were introduced.
EVENTS: tuple[type[Event], ...] = ()
