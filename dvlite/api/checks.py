"""The API of data-quality checks: ``dvlite check``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from dvlite.api.base import StrPath, open_repo

if TYPE_CHECKING:
    from dvlite.ops.check import CheckReport, Events


def check(
    stages: str | Iterable[str] = (),
    *,
    on_event: Events | None = None,
    repo: StrPath | None = None,
) -> CheckReport:
    """``dvlite check``: run the ``checks:`` of ``stages`` (names or outputs; default every
    stage that has checks) on the workspace as it is, without running the stages. Failing
    checks do not raise: ``report.passed`` is False and each result holds its findings. Events
    are ``(kind, stage, text)``, kind one of ``dvlite.ops.check``'s CHECK, PASSED, FAILED,
    OUTPUT (a line of a check command's output)."""
    from dvlite.ops.check import check as do_check

    names = [stages] if isinstance(stages, str) else list(stages)
    return do_check(open_repo(repo), names, on_event=on_event)
