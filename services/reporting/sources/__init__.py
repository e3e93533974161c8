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
     every_event}``) or a ``ratio`` of other metrics (of any source). Metric names are unique across
     sources; the catalogue refuses a duplicate when it loads.
   - ``effective_days``: ``{Model.event_type: field_of(Model, "placed_on")}`` for events that carry the date
     they took effect; others count on the day they occurred in China.

2. Add the module to ``SOURCES`` below.

3. Give it a naive fold: an entry in ``NAIVE`` in ``tests/integration/test_reporting_invariants.py`` (a
   random history of its events and the truth kept the obvious way). The invariant test fails for a listed
   source without one, and checks every listed source's metrics at every region, level and past date against
   it and against the sum of the children. ``tests/contract/test_reporting_sources.py`` fails if the source
   folds an event ``contracts.registry`` does not know or its topic does not carry.

Nothing else changes: the worker and ``renshe reporting rebuild`` read its topic (and ask the producer's
relay, at ``<PRODUCER>_RELAY_URL``, to republish what the topic lost), the metrics join
``/metrics/catalogue``, the SQL views, every region's stats, children, time series and ``as_of``, the
quarterly report (XLSX, CSV) and the dashboard, and take the next positions in the history arrays. A source
too big for one module may be a package, as ``registration`` is (folds in ``folds.py``).

Folds read the envelope's ``data`` dict; decoding every event with its contract model cost about 2 us an
event against a fold of 9 to 14 us (measured over 200,000 events), so decode only where a measurement shows
the rebuild keeps its bar of 50,000 events/s (docs/adr/0003-rebuild.md). Stock metrics over one entity are
easiest declared as rows (``metrics.stocks``); see ``sources/registration`` for a worked example.
"""

from __future__ import annotations

from services.reporting.catalogue import Catalogue, Source
from services.reporting.sources import registration

#: Every source reporting folds, in the order their metrics are shown.
SOURCES: tuple[Source, ...] = (registration.SOURCE,)

#: The catalogue of every listed source: what the projection, queries and API read by default.
CATALOGUE = Catalogue(SOURCES)
