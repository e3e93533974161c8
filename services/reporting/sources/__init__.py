"""The topics reporting folds, one module per producing service; ``SOURCES`` is the one list of them.

How to add a source (e.g. ``assistance.events``)
------------------------------------------------

1. Write ``services/reporting/sources/assistance.py`` ending in ``SOURCE = Source(ASSISTANCE_EVENTS, ...)``
   (``services.reporting.catalogue.Source``), declaring:

   - ``entities``: each kind of thing it keeps a state for, as an ``Entity``: a name (``"assistance_case"``),
     a ``NamedTuple`` state type whose first two fields are ``region_code`` and ``day``, the data field
     naming the entity (``"case_id"``), the events that change it as ``event_types(CaseOpened, ...)`` from
     ``contracts.assistance`` (never a string literal), and a pure fold
     ``(state | None, event, is_urban, day) -> state``. Tuple-valued fields go in ``tuple_fields``.
   - ``metrics``: each figure as a ``Metric`` with its Chinese and English labels and unit: a ``stock``
     counted over an entity's states (``counts``), a ``flow`` of events (``events={CasePlaced.event_type:
     every_event}``) or a ``ratio`` of other metrics (of any source).
   - ``effective_days``: ``{Model.event_type: field_of(Model, "placed_on")}`` for events that carry the date
     they took effect; others count on the day they occurred in China.

2. Add the module to ``SOURCES`` below.

That is all: the worker and ``renshe reporting rebuild`` read its topic (and ask the producer's relay, at
``<PRODUCER>_RELAY_URL``, to republish what the topic lost), the metrics join ``/metrics/catalogue``, the SQL
views, every region's stats, children, time series and ``as_of``, the quarterly report (XLSX, CSV) and the
dashboard, and take the next positions in the history arrays. Then give the source a naive fold in
``tests/integration/reporting_sources.py`` (``NAIVE``): the invariant test checks every listed source's
metrics at every region and date against it, and ``tests/contract`` fails if the source names an event
``contracts.registry`` does not know. Folds read the envelope's ``data`` dict; decode with the contract
model instead only where a measurement shows the rebuild keeps its bar (docs/adr/0003-rebuild.md).
"""

from __future__ import annotations

from services.reporting.catalogue import Catalogue, Source
from services.reporting.sources import registration

#: Every source reporting folds, in the order their metrics are shown.
SOURCES: tuple[Source, ...] = (registration.SOURCE,)

#: The catalogue of every listed source: what the projection, queries and API read by default.
CATALOGUE = Catalogue(SOURCES)
