"""The built-in expectations of ``checks:``: a file in, findings out (one message each, naming
the file, the column and the first offending rows). No finding: the expectation holds. Reads
nothing but the file (and temporary files for ``unique`` on large ones)."""

from __future__ import annotations

import os

from dvlite.records.checks import Expectation


def evaluate(
    path: str | os.PathLike[str], exp: Expectation, tmp_dir: str | None = None
) -> list[str]:
    """The findings of ``exp`` on the file at ``path`` (named ``exp.path`` in them). A Parquet
    file needs pyarrow: without it, a PipelineError says how to install it."""
    path = os.fspath(path)
    if not os.path.lexists(path):
        return [f"{exp.path}: no such file"]
    if os.path.isdir(path):
        return [f"{exp.path}: is a folder; an expectation reads one {exp.format.upper()} file"]
    try:
        if exp.format == "parquet":
            from dvlite.records import parquetscan

            return parquetscan.scan(path, exp, tmp_dir)
        from dvlite.records import csvscan

        return csvscan.scan(path, exp, tmp_dir)
    except OSError as exc:
        return [f"{exp.path}: cannot read it: {exc.strerror or exc}"]
