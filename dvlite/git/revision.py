"""The pipeline as a revision saw it: dvlite.yaml, dvlite.lock and any small file, read from
the workspace or from git history (plain git, ``gitcmd``)."""

from __future__ import annotations

from functools import cached_property

from dvlite.git import cmd as gitcmd
from dvlite.git.history import WORKSPACE, resolve
from dvlite.records.lockfile import LOCK_FILE, Lock
from dvlite.records.params import workspace_reader
from dvlite.records.pipeline import PIPELINE_FILE, Pipeline
from dvlite.records.repo import Repo


class Snapshot:
    """One revision (a git rev, or None for the workspace)."""

    def __init__(self, repo: Repo, rev: str | None = None) -> None:
        self.repo = repo
        self.rev = rev
        self.label = rev or WORKSPACE
        self.commit = None if rev is None else resolve(repo, rev)

    def read(self, rel: str) -> bytes | None:
        """A file's bytes at this revision; None when it is absent (or a folder)."""
        if self.commit is None:
            return workspace_reader(self.repo.root)(rel)
        spec = f"{self.commit}:{rel}"
        return gitcmd.read_blobs(self.repo.root, [spec])[spec]

    def exists(self, rel: str) -> bool:
        if self.commit is None:
            return self.repo.abspath(rel).exists()
        return gitcmd.has_path(self.repo.root, self.commit, rel)

    def where(self, rel: str) -> str:
        return rel if self.commit is None else f"{rel} at {self.rev}"

    @cached_property
    def pipeline(self) -> Pipeline:
        data = self.read(PIPELINE_FILE)
        if data is None:
            return Pipeline()
        text = data.decode("utf-8", errors="replace")
        return Pipeline.loads(text, self.where(PIPELINE_FILE), read=self.read)

    @cached_property
    def lock(self) -> Lock:
        data = self.read(LOCK_FILE)
        if data is None:
            return Lock()
        return Lock.loads(data.decode("utf-8", errors="replace"), self.where(LOCK_FILE))
