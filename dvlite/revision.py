"""The pipeline as a revision saw it: dvlite.yaml, dvlite.lock and any small file, read from
the workspace or from git history (gitpython, imported only for a revision)."""

from __future__ import annotations

from functools import cached_property

from dvlite.errors import ScmError
from dvlite.lockfile import LOCK_FILE, Lock
from dvlite.pipeline import PIPELINE_FILE, Pipeline
from dvlite.repo import Repo

WORKSPACE = "workspace"


class Snapshot:
    """One revision (a git rev, or None for the workspace)."""

    def __init__(self, repo: Repo, rev: str | None = None) -> None:
        self.repo = repo
        self.rev = rev
        self.label = rev or WORKSPACE
        self._commit = None
        if rev is not None:
            import git

            from dvlite.history import _git

            try:
                self._commit = _git(repo).commit(rev)
            except (git.BadName, git.BadObject, ValueError):
                raise ScmError(f"unknown git revision {rev!r}") from None

    @property
    def commit(self) -> str | None:
        return None if self._commit is None else str(self._commit.hexsha)

    def read(self, rel: str) -> bytes | None:
        """A file's bytes at this revision; None when it is absent (or a folder)."""
        if self._commit is None:
            try:
                return self.repo.abspath(rel).read_bytes()
            except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
                return None
        try:
            obj = self._commit.tree / rel
        except KeyError:
            return None
        if obj.type != "blob":
            return None
        return bytes(obj.data_stream.read())

    def exists(self, rel: str) -> bool:
        if self._commit is None:
            return self.repo.abspath(rel).exists()
        try:
            self._commit.tree / rel
        except KeyError:
            return False
        return True

    def where(self, rel: str) -> str:
        return rel if self._commit is None else f"{rel} at {self.rev}"

    @cached_property
    def pipeline(self) -> Pipeline:
        data = self.read(PIPELINE_FILE)
        if data is None:
            return Pipeline()
        return Pipeline.loads(data.decode("utf-8", errors="replace"), self.where(PIPELINE_FILE))

    @cached_property
    def lock(self) -> Lock:
        data = self.read(LOCK_FILE)
        if data is None:
            return Lock()
        return Lock.loads(data.decode("utf-8", errors="replace"), self.where(LOCK_FILE))
