"""Supervision's rules as pure functions: ``decide_*(state, command, ...) -> events`` and ``evolve_*``.

One module per aggregate; nothing here does I/O. The working-day calendar is passed in, already loaded.
"""
