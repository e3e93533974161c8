"""Registration's command handlers, one module per aggregate (the names of ``domain/`` and ``api/``).

Each loads what its rule needs, runs the pure decision of ``domain/`` through the aggregate's one write
primitive (``Aggregate.change`` / ``create`` / ``record``), and writes its read rows as that change's
effects, all in the caller's transaction (docs/adr/0004-service-shape.md).
"""
