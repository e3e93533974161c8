"""renshe benchmarks: ``make bench`` (``python -m bench [names...] [--runs N]``).

Every benchmark starts the infrastructure it needs itself: embedded Postgres and the embedded broker for
the store, relay and projection benchmarks, the whole local stack (``services.stack.up``) for the HTTP
ones. Each runs several times; the table reports medians against the bars from the issue and is also
written to ``bench/results.md``.

Modules:

- ``core``: the registry (``@benchmark``), bars, medians and the results table.
- ``infra``: embedded Postgres + broker, fresh schemas, the local stack, started lazily and shared.
- ``data``: synthetic events, envelopes and valid registration requests.
- ``store``, ``projection``, ``http_api``: the benchmarks themselves.
- ``loadgen``: the HTTP load generator, run as a separate process.
- ``cpu`` and ``activity``: CPU use per process and Postgres session states, to show where the time went.
"""
