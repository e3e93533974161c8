"""renshe benchmarks: ``make bench`` (``python -m bench [names...] [--runs N]``).

Every benchmark starts the infrastructure it needs itself: embedded Postgres and the embedded broker for
the store, relay and projection benchmarks, the whole local stack (``services.stack.up``) for the HTTP
ones. Each runs several times; the table reports medians, the limits measured beside them and their
ratios against the bars, and the run is appended to ``bench/results.md``.

Modules:

- ``core``: the registry (``@benchmark``), bars on ratios, medians, sizes (``--quick``).
- ``limits``: the physical limits a figure is divided by, measured in the same run; ``bare_app`` serves two.
- ``report``: the table (figure, limit, ratio, bar, pass/fail), the machine, the log in ``results.md``;
  ``compare``: two logged runs side by side.
- ``infra``: embedded Postgres + broker, fresh schemas, the local stack, started lazily and shared.
- ``data``, ``history``: synthetic events, envelopes and valid registration requests.
- ``store``, ``projection``, ``reporting``, ``http_api``, ``registration``: the benchmarks themselves.
- ``loadgen``: the HTTP load generator, run as a separate process.
- ``cpu`` and ``activity``: CPU use per process and Postgres session states, to show where the time went.
"""
