"""What clients send to registration and what they get back (separate input and output types), one module
per aggregate (the names of ``domain/``, ``commands/`` and ``api/``)."""
