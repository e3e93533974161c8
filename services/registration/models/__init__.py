"""What clients send to registration and what they get back (separate input and output types), one module
per aggregate (the names of ``domain/``, ``commands/`` and ``api/``)."""

from services.registration.models.person import PersonCreate

# The synthetic population (population.py) imports PersonCreate from here until it moves out of the service.
__all__ = ["PersonCreate"]
