"""A data registry to share from (get, import, update, ls URL): a real dvlite repository with
a folder of data, a model file, a stage output and a file git tracks, its data pushed to a
remote and its commits published to a bare repository, the URL the tests clone through."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from helpers import TmpDir, git
from remote_helpers import Store

import dvlite as api
from dvlite.records.repo import Repo

DATA = {"train": {"a.csv": "x,y\n1,2\n", "b.csv": "x,y\n3,4\n"}, "test": {"c.csv": "x,y\n5,6\n"}}


@dataclass
class Registry:
    work: Path  # the source's own work tree
    bare: Path  # the repository the tests clone through
    store: Store

    @property
    def url(self) -> str:
        return str(self.bare)

    def commit(self, message: str, tag: str | None = None) -> str:
        """Push the data, commit everything, publish it (and ``tag``); the commit id."""
        api.push(repo=self.work)
        git(self.work, "add", "-A")
        git(self.work, "commit", "-qm", message)
        if tag:
            git(self.work, "tag", tag)
        git(self.work, "push", "-q", "origin", "main", "--tags")
        return git(self.work, "rev-parse", "HEAD").strip()

    def change(self, rel: str, text: str, message: str, tag: str | None = None) -> str:
        """Write ``text`` at data/``rel``, add data again, publish; the commit id."""
        path = self.work / "data" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        api.add("data", repo=self.work)
        return self.commit(message, tag)


def make_registry(base: Path, store: Store) -> Registry:
    """The registry under ``base`` (outside the test's current folder), at tag v1."""
    work = TmpDir(base / "registry")
    work.mkdir()
    git(work, "init", "-q", "-b", "main")
    api.init(work)
    work.gen({"data": DATA, "model.pkl": "weights-1", "README.md": "# registry\n"})
    api.add(["data", "model.pkl"], repo=work)
    api.remote_add("store", store.url, default=True, repo=work)
    for key, value in store.options.items():
        Repo(work).config.set(f"remote.store.{key}", value)
    bare = base / "registry.git"
    git(base, "init", "-q", "--bare", "-b", "main", str(bare))
    git(work, "remote", "add", "origin", str(bare))
    reg = Registry(work, bare, store)
    reg.commit("v1", tag="v1")
    return reg
