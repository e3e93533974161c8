"""Registration's rules as pure functions, one module per aggregate: ``decide(command, state) -> events`` and
``evolve(state, event) -> state``. Nothing here does I/O; ``services/registration/commands/`` loads what a
rule needs and appends what it decides (docs/adr/0004-service-shape.md).
"""

from services.registration.domain.working_age import age_on

# The synthetic population (population.py) imports age_on from here until it moves out of the service.
__all__ = ["age_on"]
