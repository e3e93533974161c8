"""Supervision's commands: load the stream, check who may act, decide, append, update the read state.

One module per aggregate. Each command runs in the caller's transaction (the API's ``CommandContext`` or
the worker's consumer batch), so the events, the read rows and the rating change commit together.
"""
