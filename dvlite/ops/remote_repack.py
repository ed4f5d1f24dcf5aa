"""``dvlite remote repack``: a format 1 remote's whole objects packed (small ones into packs; big
ones stay whole, now named by the index), then ``remote.NAME.format = 2`` in the config; on a
format 2 remote, every index file merged into one and small or sparse packs rewritten.
Nothing is dropped (``gc --cloud`` drops); the steps are gc's (remote/repack.py), under the
remote's lock."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field

from dvlite.records.repo import Repo
from dvlite.remote import open_remote, repack
from dvlite.remote.config import parse_grace
from dvlite.remote.lock import RemoteLock
from dvlite.remote.repack import Repacked
from dvlite.remote.survey import survey
from dvlite.transfer.roots import cached_tree


@dataclass
class RemoteRepackResult:
    remote: str
    dry: bool = False
    format: int = 2  # the remote's format before (1: converted, remote.NAME.format set to 2)
    repacked: Repacked = field(default_factory=Repacked)

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def remote_repack(repo: Repo, name: str | None = None, *, dry: bool = False) -> RemoteRepackResult:
    """Repack the remote ``name`` (else the default); ``dry``: only say what it would do."""
    with repo.lock():
        rem = open_remote(repo, name)
        rem.check_reachable()
        result = RemoteRepackResult(rem.name, dry, rem.format)
        grace = parse_grace(rem.name, rem.options.get("gc_grace"))

        def is_tree(oid: str) -> bool:
            return cached_tree(repo, oid) is not None

        if dry:
            planned = repack.plan(survey(rem, grace, time.time()), is_tree=is_tree)
            result.repacked = Repacked.of_plan(planned)
            return result
        with RemoteLock(rem, "remote repack") as lock:
            surveyed = survey(rem, grace, time.time())
            planned = repack.plan(surveyed, is_tree=is_tree)
            result.repacked = repack.apply(rem, surveyed, planned, lock)
        if rem.format == 1:
            _set_format_2(repo, rem.name)
        return result


def _set_format_2(repo: Repo, name: str) -> None:
    """``remote.NAME.format = 2`` in each config file that has the remote's section."""
    section = f'remote "{name}"'
    parsers = repo.config._parsers
    for level in ("global", "repo", "local"):
        if level in parsers and parsers[level].has_section(section):
            repo.config.set(f"remote.{name}.format", "2", level)
