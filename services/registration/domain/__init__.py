"""Registration's rules as pure functions, one module per aggregate: ``decide(command, state) -> events`` and
``evolve(state, event) -> state``. Nothing here does I/O; ``services/registration/commands/`` loads what a
rule needs and appends what it decides (docs/adr/0004-service-shape.md).
"""
