"""Operations: one module per command, each a plain function the API and the CLI call.

An operation opens nothing itself that a lower layer already opens: it takes a ``Repo``,
reads records, moves objects through ``transfer`` and returns a result value to render.
``checkout`` also owns the one "make these paths match the records" that pull, repro and the
hooks use.
"""
