"""Insurance rules as pure functions: commands in, events out (docs/rules.md, "Insurance").

Nothing here does I/O; ``services.insurance.commands`` loads what a rule needs (the stream, facts from
registration's events, contribution months from the ledger) and appends what it decides.
"""
