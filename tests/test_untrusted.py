"""The attacker's suite: paths that come from a committed file (a clone's dvlite.lock,
dvlite.yaml or pointer files) or from a remote (tree objects, run-cache entries) are
untrusted. Every command that applies them writes and deletes only inside the tracked path
it applies; a bad one is refused with one ``Error:`` line that names the file and the entry,
never a traceback, and nothing outside the target changes: the whole repository (.git
included), its parent folder and, where the refusal comes before any write, the cache.

Everything runs end to end: real git, the real CLI in a subprocess, a folder remote that the
attacker writes objects into by hand.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pytest
import xxhash
from helpers import invoke, object_path, oid, tree_bytes
from remote_helpers import FolderStore, make_bucket, object_bytes, stored_oids

# -- the real CLI, real git ---------------------------------------------------------------------


def dv(cwd: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """``python -m dvlite ARGS`` run from ``cwd``."""
    return subprocess.run(
        [sys.executable, "-m", "dvlite", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
        timeout=timeout,
    )


def git(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=check)


def ok(res: subprocess.CompletedProcess[str]) -> None:
    assert res.returncode == 0, res.stdout + res.stderr


# -- what changed -------------------------------------------------------------------------------

Print = dict[str, tuple[int, object]]
SKIP = (".dvlite/tmp",)  # the state database and the repository lock change legitimately


def fingerprint(root: Path, skip: Iterable[str] = ()) -> Print:
    """relpath -> (mode, bytes | link target | None for a folder), for everything under
    ``root``, following no symlink; ``skip``: relpaths (and what is under them) left out."""
    skipped = tuple(skip)
    found: Print = {}
    stack = [""]
    while stack:
        rel = stack.pop()
        for e in os.scandir(os.path.join(root, rel) if rel else root):
            r = f"{rel}/{e.name}" if rel else e.name
            if any(r == s or r.startswith(s + "/") for s in skipped):
                continue
            st = e.stat(follow_symlinks=False)
            if stat.S_ISLNK(st.st_mode):
                found[r] = (st.st_mode, os.readlink(e.path))
            elif stat.S_ISDIR(st.st_mode):
                found[r] = (st.st_mode, None)
                stack.append(r)
            else:
                found[r] = (st.st_mode, Path(e.path).read_bytes())
    return found


def assert_same(before: Print, after: Print, allowed: Iterable[str] = ()) -> None:
    """Nothing changed but what is at or under an ``allowed`` relpath."""
    free = tuple(allowed)

    def allowed_(rel: str) -> bool:
        return any(rel == a or rel.startswith(a + "/") for a in free)

    changed = []
    for rel in sorted(before.keys() | after.keys()):
        if before.get(rel) != after.get(rel) and not allowed_(rel):
            what = "added" if rel not in before else "removed" if rel not in after else "changed"
            changed.append(f"{what}: {rel!r}")
    assert not changed, f"{len(changed)} changed outside the target:\n" + "\n".join(changed[:25])


# -- what the command said ----------------------------------------------------------------------


def spellings(entry: str) -> list[str]:
    """How an error message may name ``entry``: quoted (always), or as it is when that is
    unambiguous (printable, no edge spaces, not a bare dot or two)."""
    forms = [repr(entry), json.dumps(entry), json.dumps(entry, ensure_ascii=False)]
    forms += [f"'{entry}'", f'"{entry}"', f"`{entry}`"]
    if entry.isprintable() and entry.strip() == entry and len(entry.strip(".")) >= 2:
        forms.append(entry)
    return forms


def assert_no_traceback(res: subprocess.CompletedProcess[str]) -> None:
    out = res.stdout + res.stderr
    assert "Traceback" not in out, out[-3000:]
    assert "RecursionError" not in out, out[-3000:]


def error_line(res: subprocess.CompletedProcess[str]) -> str:
    out = res.stdout + res.stderr
    lines = [line for line in out.splitlines() if line.startswith("Error:")]
    assert len(lines) == 1, f"expected one Error: line, got:\n{out[-3000:]}"
    return lines[0]


def assert_refused(
    res: subprocess.CompletedProcess[str], where: Iterable[str], entry: str | None
) -> str:
    """Exit 1, no traceback, one Error: line naming one of ``where`` and ``entry``."""
    assert_no_traceback(res)
    out = res.stdout + res.stderr
    assert res.returncode == 1, f"exit {res.returncode}, expected 1:\n{out[-3000:]}"
    line = error_line(res)
    places = list(where)
    assert any(w in line for w in places), f"{line!r} names none of {places}; output:\n{out}"
    if entry is not None:
        named = any(s in line for s in spellings(entry))
        assert named, f"{line!r} does not name {entry!r}; output:\n{out}"
    return line


def assert_works_or_refuses(res: subprocess.CompletedProcess[str], report: str = "") -> None:
    """Exit 0, or exit 1 with one clear Error: line (or, for a command that reports problems
    by its exit code, as fsck does, output containing ``report``); never a traceback."""
    assert_no_traceback(res)
    assert res.returncode in (0, 1), res.stdout + res.stderr
    if res.returncode == 1 and not (report and report in res.stdout + res.stderr):
        error_line(res)


# -- the attacker's repository and remote, the victim's clone -----------------------------------


@dataclass
class Exec:
    """An executable file in a crafted tree."""

    data: bytes


def put(store: Path, data: bytes) -> str:
    """Write an object under its true hash into a store (a remote or a cache)."""
    o = oid(data)
    h = o.split(":", 1)[1]
    path = store / "objects" / h[:2] / h[2:]
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.write_bytes(data)
        path.chmod(0o444)
    return o


def put_tree(store: Path, content: dict[str, object]) -> tuple[str, int, int]:
    """A crafted tree (names taken verbatim): {name: bytes | Exec | dict}. Returns
    (oid, size, files)."""
    entries: list[dict[str, object]] = []
    size = files = 0
    for name, value in content.items():
        if isinstance(value, dict):
            o, s, n = put_tree(store, value)
            entries.append({"name": name, "type": "dir", "oid": o, "size": s})
        else:
            data = value.data if isinstance(value, Exec) else value
            assert isinstance(data, bytes)
            o, s, n = put(store, data), len(data), 1
            entry: dict[str, object] = {"name": name, "type": "file", "oid": o, "size": s}
            if isinstance(value, Exec):
                entry["exec"] = True
            entries.append(entry)
        size += s
        files += n
    return put(store, tree_bytes(entries)), size, files


def lock_text(outs: list[dict[str, object]], cmd: str = "true") -> str:
    """A dvlite.lock with one stage ``s`` recording ``outs`` (paths written as JSON strings,
    which YAML reads as double-quoted scalars, escapes included)."""
    lines = ["version: 1", "stages:", "  s:", f"    cmd: {json.dumps(cmd)}", "    outs:"]
    for out in outs:
        lines.append(f"    - path: {json.dumps(out['path'])}")
        for key in ("kind", "oid", "size", "files"):
            if key in out:
                lines.append(f"      {key}: {out[key]}")
    return "\n".join(lines) + "\n"


def dir_out(path: str, tree: tuple[str, int, int]) -> dict[str, object]:
    return {"path": path, "kind": "dir", "oid": tree[0], "size": tree[1], "files": tree[2]}


def pointer_text(name: str, tree: tuple[str, int, int]) -> str:
    o, size, files = tree
    return f"version: 1\npath: {name}\nkind: dir\noid: {o}\nsize: {size}\nfiles: {files}\n"


@dataclass
class World:
    """``root`` holds everything a command could reach: the attacker's repository, the
    folder remote, the victim's clone and a sibling folder of precious files."""

    root: Path

    @property
    def attacker(self) -> Path:
        return self.root / "attacker"

    @property
    def remote(self) -> Path:
        return self.root / "remote"

    @property
    def victim(self) -> Path:
        return self.root / "victim"

    @property
    def marker(self) -> Path:
        """What a planted hook or fsmonitor would create."""
        return self.root / "pwned"

    def commit(self, files: dict[str, str | bytes], message: str = "attack") -> None:
        for rel, content in files.items():
            path = self.attacker / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content, encoding="utf-8")
        git(self.attacker, "add", "-f", "--", *files)
        git(self.attacker, "commit", "-q", "-m", message)

    def clone(self) -> Path:
        git(self.root, "clone", "-q", str(self.attacker), str(self.victim))
        return self.victim

    def seed_victim_cache(self) -> None:
        """Every object of the remote (whole or in a pack) in the victim's cache, for
        checkout without pull."""
        store = FolderStore(self.remote)
        for oid_ in stored_oids(store):
            path = object_path(self.victim / ".dvlite/cache", oid_)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(object_bytes(store, oid_))

    def print(self) -> Print:
        return fingerprint(self.root, skip=[f"victim/{s}" for s in SKIP])

    def hook_script(self) -> bytes:
        return f"#!/bin/sh\ntouch '{self.marker}'\n".encode()

    def fsmonitor_repo(self) -> dict[str, object]:
        """A complete nested .git whose config runs a command on any `git status`."""
        config = f"[core]\n\trepositoryformatversion = 0\n\tfsmonitor = touch '{self.marker}'\n"
        return {
            "HEAD": b"ref: refs/heads/main\n",
            "config": config.encode(),
            "objects": {"keep": b""},
            "refs": {"heads": {"keep": b""}},
        }


def make_world(root: Path) -> World:
    """An attacker's repository: git, ``dvlite init``, a folder remote as its default."""
    w = World(root)
    w.remote.mkdir()
    w.attacker.mkdir()
    git(w.attacker, "init", "-q", "-b", "main")
    ok(dv(w.attacker, "init"))
    ok(dv(w.attacker, "remote", "add", "-d", "store", str(w.remote)))
    git(w.attacker, "add", "-A")
    git(w.attacker, "commit", "-q", "-m", "init")
    return w


@pytest.fixture
def world(tmp_path: Path) -> World:
    w = make_world(tmp_path)
    sibling = tmp_path / "precious"
    sibling.mkdir()
    (sibling / "thesis.tex").write_text("years of work\n")
    return w


PAYLOAD = {"x": b"attacker's bytes\n"}

# -- 1. a clone must not plant git hooks ---------------------------------------------------------


@pytest.mark.parametrize("command", [["pull"], ["checkout"], ["checkout", "--force"]])
def test_lock_out_in_git_hooks_runs_no_code(world: World, command: list[str]) -> None:
    hooks = put_tree(world.remote, {"post-checkout": Exec(world.hook_script())})
    world.commit({"dvlite.lock": lock_text([dir_out(".git/hooks", hooks)])})
    victim = world.clone()
    if command[0] == "checkout":
        world.seed_victim_cache()
    hooks_before = fingerprint(victim / ".git/hooks")
    before = world.print()

    res = dv(victim, *command)

    assert_refused(res, ["dvlite.lock"], ".git/hooks")
    assert fingerprint(victim / ".git/hooks") == hooks_before
    assert_same(before, world.print())
    git(victim, "checkout", "-q", "-b", "x")
    assert not world.marker.exists(), "the planted post-checkout hook ran"


# -- 2. lock outs that point outside the tracked area --------------------------------------------

BAD_OUT_PATHS = [
    "../x",
    ".git/info/x",
    "ABSOLUTE",  # replaced by an absolute path inside the test's folder, never the real /
    "a/../../x",
    ".GIT/x",
    ".git./x",
    "git~1/x",
    ".dvlite/cache",
    ".dvlite/config",
    ".dvlite/config.local",
    ".DVLITE/config",
    "x/../.git/hooks",
    "dvlite.yaml",
    "dvlite.lock",
    "params.yaml",
    "",
    ".",
    "a\x00b",
]


@pytest.mark.parametrize("command", [["pull"], ["checkout", "--force"]])
@pytest.mark.parametrize("path", BAD_OUT_PATHS, ids=repr)
def test_lock_out_outside_the_workspace_is_refused(
    world: World, path: str, command: list[str]
) -> None:
    absolute = world.root / "abs" / "path"
    if path == "ABSOLUTE":
        path = str(absolute)
    tree = put_tree(world.remote, PAYLOAD)
    world.commit({"params.yaml": "lr: 0.1\n", "dvlite.lock": lock_text([dir_out(path, tree)])})
    victim = world.clone()
    if command[0] == "checkout":
        world.seed_victim_cache()
    before = world.print()

    res = dv(victim, *command)

    assert_refused(res, ["dvlite.lock"], path)
    assert_same(before, world.print())  # the cache too: the lock is refused before any fetch
    assert not (world.root / "abs").exists()


# -- 3. a tree must not plant a nested repository -------------------------------------------------

DOTGIT_NAMES = [
    ".git",
    ".GIT",
    ".Git",
    "git~1",
    "GIT~1",
    ".git ",
    ".git.",
    ".git. .",
    ".git::$INDEX_ALLOCATION",
    ".g\u200cit",  # HFS+ ignores zero-width characters
    "\u200d.git",
    ".git\ufeff",
]


@pytest.mark.parametrize("name", DOTGIT_NAMES, ids=ascii)
def test_tree_entry_named_like_dotgit_is_refused(world: World, name: str) -> None:
    tree = put_tree(world.remote, {name: world.fsmonitor_repo(), "ok.txt": b"fine\n"})
    world.commit({"data.dvl": pointer_text("data", tree)})
    victim = world.clone()
    before = world.print()

    res = dv(victim, "pull")

    assert_refused(res, ["data.dvl", tree[0].split(":")[1][:12]], name)
    # the fetched (verified) objects may stay in the cache; nothing else outside data/
    assert_same(before, world.print(), ["victim/.dvlite/cache", "victim/data"])
    data = victim / "data"
    assert not data.joinpath(".git").exists()
    assert name not in (os.listdir(data) if data.is_dir() else [])
    if data.is_dir():
        git(data, "status", check=False)
    assert not world.marker.exists(), "the planted fsmonitor ran"


@pytest.mark.parametrize("command", [["pull"], ["checkout", "--force"]])
@pytest.mark.parametrize(
    "pointer", [".git.dvl", ".GIT.dvl", "git~1.dvl", ".dvlite.dvl", "sub/.git.dvl", "sub/.Git.dvl"]
)
def test_pointer_named_for_dotgit_is_refused(
    world: World, pointer: str, command: list[str]
) -> None:
    """A committed pointer is the other way to name .git: ``.git.dvl`` would merge a crafted
    tree into the victim's own .git (a config with core.fsmonitor), ``sub/.git.dvl`` would
    make a nested repository."""
    name = pointer.rsplit("/", 1)[-1][: -len(".dvl")]
    tree = put_tree(world.remote, world.fsmonitor_repo())
    world.commit({"sub/keep.txt": "kept\n", pointer: pointer_text(name, tree)})
    victim = world.clone()
    if command[0] == "checkout":
        world.seed_victim_cache()
    before = world.print()

    res = dv(victim, *command)

    assert_refused(res, [pointer], name)
    assert_same(before, world.print())  # the pointer is refused before any fetch
    git(victim, "status", check=False)
    git(victim / "sub", "status", check=False)
    assert not world.marker.exists(), "the planted fsmonitor ran"


# -- 4. tree entry names that are not names -------------------------------------------------------


@pytest.mark.parametrize("name", ["a/b", "..", ".", "", "a\x00b", "ABSOLUTE", "a\\..\\b"], ids=repr)
@pytest.mark.parametrize("command", [["pull"], ["checkout"]])
def test_tree_entry_name_that_is_not_a_name_is_refused(
    world: World, name: str, command: list[str]
) -> None:
    if name == "ABSOLUTE":  # inside the test's folder, never the real /
        name = str(world.root / "etc")
    tree = put_tree(world.remote, {name: b"evil\n", "ok.txt": b"fine\n"})
    world.commit({"data.dvl": pointer_text("data", tree)})
    victim = world.clone()
    if command[0] == "checkout":
        world.seed_victim_cache()
    before = world.print()

    res = dv(victim, *command)

    if name == "a\\..\\b":  # a backslash is an ordinary character on POSIX: that may work
        assert_works_or_refuses(res)
        assert_same(before, world.print(), ["victim/.dvlite/cache", "victim/data"])
        return
    assert_refused(res, ["data.dvl", tree[0].split(":")[1][:12]], name)
    assert_same(before, world.print(), ["victim/.dvlite/cache", "victim/data"])
    assert not (world.root / "etc").exists()


# -- 5. checkout --force must not delete the repository or its neighbours -------------------------


@pytest.mark.parametrize("path", [".", ".git", ".dvlite", "../precious", "../victim"])
def test_checkout_force_never_deletes_outside_the_target(world: World, path: str) -> None:
    empty = put_tree(world.remote, {})
    world.commit({"dvlite.lock": lock_text([dir_out(path, empty)])})
    victim = world.clone()
    world.seed_victim_cache()
    (victim / "notes.txt").write_text("not in any cache\n")
    before = world.print()

    res = dv(victim, "checkout", "--force")

    assert_refused(res, ["dvlite.lock"], path)
    assert_same(before, world.print())
    assert (world.root / "precious/thesis.tex").read_text() == "years of work\n"
    assert (victim / "notes.txt").exists()
    ok(git(victim, "status", "--short", check=False))


# -- 6. a committed symlink must not carry writes out of the repository ---------------------------


@pytest.mark.parametrize("command", [["pull"], ["checkout"], ["checkout", "--force"]])
@pytest.mark.parametrize(
    "target, out",
    [("..", "link/x"), ("OUTSIDE", "link/x"), ("..", "link"), ("OUTSIDE", "link")],
)
def test_committed_symlink_does_not_lead_outside(
    world: World, target: str, out: str, command: list[str]
) -> None:
    outside = world.root / "outside"
    outside.mkdir()
    (outside / "keep").write_text("keep\n")
    if target == "OUTSIDE":
        target = str(outside)
    os.symlink(target, world.attacker / "link")
    git(world.attacker, "add", "link")
    tree = put_tree(world.remote, PAYLOAD)
    world.commit({"dvlite.lock": lock_text([dir_out(out, tree)])})
    victim = world.clone()
    assert os.path.islink(victim / "link")
    if command[0] == "checkout":
        world.seed_victim_cache()
    before = world.print()

    res = dv(victim, *command)

    assert_refused(res, ["dvlite.lock", "symlink"], out)
    assert_same(before, world.print(), ["victim/.dvlite/cache"])
    assert not (world.root / "x").exists()
    assert sorted(os.listdir(outside)) == ["keep"]


@pytest.mark.parametrize("command", [["pull"], ["checkout", "--force"]])
@pytest.mark.parametrize("via", ["pointer", "lock"])
def test_committed_symlink_into_git_hooks_plants_no_hook(
    world: World, via: str, command: list[str]
) -> None:
    """``data -> .git/hooks`` committed as a git symlink, and ``data`` tracked (by data.dvl or
    by dvlite.lock) as a folder holding an executable post-checkout."""
    os.symlink(".git/hooks", world.attacker / "data")
    git(world.attacker, "add", "data")
    hooks = put_tree(world.remote, {"post-checkout": Exec(world.hook_script())})
    if via == "pointer":
        world.commit({"data.dvl": pointer_text("data", hooks)})
    else:
        world.commit({"dvlite.lock": lock_text([dir_out("data", hooks)])})
    victim = world.clone()
    if command[0] == "checkout":
        world.seed_victim_cache()
    hooks_before = fingerprint(victim / ".git/hooks")
    before = world.print()

    res = dv(victim, *command)

    assert_refused(res, ["data.dvl" if via == "pointer" else "dvlite.lock", "symlink"], "data")
    assert fingerprint(victim / ".git/hooks") == hooks_before
    assert_same(before, world.print(), ["victim/.dvlite/cache"])
    git(victim, "checkout", "-q", "-b", "x")
    assert not world.marker.exists(), "the planted post-checkout hook ran"


# -- 7. stages must not declare what repro would delete -------------------------------------------

BAD_STAGE_OUTS = [
    ".dvlite",
    ".dvlite/cache",
    ".dvlite/config",
    ".git",
    ".git/config",
    ".GIT",
    "dvlite.yaml",
    "dvlite.lock",
    "params.yaml",
    "data.dvl",
    "../outside",
]


def _user_repo(world: World) -> Path:
    """The attacker's repository, used as the user's own: some data in the cache, a params
    file, a pointer, all committed."""
    repo = world.attacker
    (repo / "params.yaml").write_text("lr: 0.1\n")
    (repo / "data").mkdir()
    (repo / "data/f").write_text("data\n")
    ok(dv(repo, "add", "data"))
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "data")
    ok(dv(repo, "push"))
    (world.root / "outside").mkdir()
    (world.root / "outside/keep").write_text("keep\n")
    return repo


@pytest.mark.parametrize("out", BAD_STAGE_OUTS)
def test_stage_add_refuses_an_out_it_must_never_delete(world: World, out: str) -> None:
    repo = _user_repo(world)
    before = fingerprint(world.root, skip=[f"attacker/{s}" for s in SKIP])

    res = dv(repo, "stage", "add", "-n", "s", "-p", "lr", "-o", out, "true")

    assert_refused(res, [out], out)
    assert_same(before, fingerprint(world.root, skip=[f"attacker/{s}" for s in SKIP]))


@pytest.mark.parametrize("out", BAD_STAGE_OUTS)
def test_repro_refuses_a_committed_out_it_must_never_delete(world: World, out: str) -> None:
    _user_repo(world)
    pipeline = f"stages:\n  s:\n    cmd: 'true'\n    params: [lr]\n    outs: [{json.dumps(out)}]\n"
    world.commit({"dvlite.yaml": pipeline})
    victim = world.clone()
    world.seed_victim_cache()
    before = world.print()

    res = dv(victim, "repro")

    assert_refused(res, ["dvlite.yaml"], out)
    assert_same(before, world.print())  # the cache and .git intact, nothing removed


# -- 8. depth --------------------------------------------------------------------------------------

DEPTH = 1100


@pytest.fixture
def removed_after(tmp_path: Path):
    """Deep folders removed with rm -rf: pytest's own clean-up of old temporary folders
    (shutil.rmtree) recurses once per level and would fail on them in a later session."""
    yield
    subprocess.run(["rm", "-rf", str(tmp_path)], check=False)


@pytest.mark.usefixtures("removed_after")
def test_a_very_deep_crafted_tree_gives_no_traceback(world: World) -> None:
    leaf = b"at the bottom\n"
    o, size = put(world.remote, tree_bytes([_file("f", leaf)])), len(leaf)
    for _ in range(DEPTH):
        o = put(world.remote, tree_bytes([{"name": "d", "type": "dir", "oid": o, "size": size}]))
    world.commit({"data.dvl": pointer_text("data", (o, size, 1))})
    victim = world.clone()
    before = world.print()

    pulled = dv(victim, "pull")
    assert_works_or_refuses(pulled)
    if pulled.returncode == 1:
        assert_same(before, world.print(), ["victim/.dvlite/cache", "victim/data"])
    else:
        deep = victim.joinpath("data", *["d"] * DEPTH, "f")
        assert deep.read_bytes() == leaf
    for command in (["status"], ["fsck"], ["ls"], ["diff"], ["push"], ["checkout"]):
        assert_works_or_refuses(dv(victim, *command), "checked" if command == ["fsck"] else "")


@pytest.mark.usefixtures("removed_after")
def test_a_very_deep_real_folder_gives_no_traceback(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    ok(dv(repo, "init"))
    deep = repo / "data"
    deep.mkdir()
    for _ in range(1000):  # pathlib's mkdir(parents=True) recurses once per level
        deep = deep / "d"
        deep.mkdir()
    (deep / "f").write_bytes(b"deep\n")

    added = dv(repo, "add", "data")
    assert_works_or_refuses(added)
    assert_works_or_refuses(dv(repo, "status"))
    if added.returncode == 0:
        subprocess.run(["rm", "-rf", str(repo / "data")], check=True)
        checked_out = dv(repo, "checkout")
        assert_works_or_refuses(checked_out)
        if checked_out.returncode == 0:
            assert (deep / "f").read_bytes() == b"deep\n"
        assert_works_or_refuses(dv(repo, "status"))


def _file(name: str, data: bytes) -> dict[str, object]:
    return {"name": name, "type": "file", "oid": oid(data), "size": len(data)}


# -- 9. an entry that lies about its size ----------------------------------------------------------

BIG = 50 << 20


def _peak_rss_of(cwd: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], int]:
    """Run ``dvlite ARGS`` under a fresh wrapper whose only child it is, and return the
    child's peak resident set size in bytes."""
    wrapper = (
        "import resource, subprocess, sys\n"
        "r = subprocess.run([sys.executable, '-m', 'dvlite', *sys.argv[1:]])\n"
        "print('PEAK', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)\n"
        "sys.exit(r.returncode)\n"
    )
    res = subprocess.run(
        [sys.executable, "-c", wrapper, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
        timeout=300,
    )
    peak_lines = [line for line in res.stderr.splitlines() if line.startswith("PEAK ")]
    peak = int(peak_lines[-1].split()[1]) * 1024  # KiB on Linux
    res.stderr = "\n".join(line for line in res.stderr.splitlines() if not line.startswith("PEAK "))
    return res, peak


def _hash_file(path: Path) -> str:
    h = xxhash.xxh3_128()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return "xxh128:" + h.hexdigest()


def _pull_with_claimed_size(
    world: World, data: bytes, claimed: int
) -> tuple[subprocess.CompletedProcess[str], int, str]:
    o = put(world.remote, data)
    tree = put(world.remote, tree_bytes([{"name": "f", "type": "file", "oid": o, "size": claimed}]))
    world.commit({"data.dvl": pointer_text("data", (tree, claimed, 1))})
    victim = world.clone()
    res, peak = _peak_rss_of(victim, "pull")
    return res, peak, o


@pytest.fixture(scope="module")
def baseline_peak(tmp_path_factory: pytest.TempPathFactory) -> int:
    """The peak RSS of pulling one honest 10-byte file."""
    w = make_world(tmp_path_factory.mktemp("baseline"))
    res, peak, _ = _pull_with_claimed_size(w, b"0123456789", 10)
    ok(res)
    return peak


@pytest.mark.parametrize(
    "actual, claimed",
    [(BIG, BIG), (BIG, 10), (BIG, 0), (10, BIG), (10, 1 << 62)],
    ids=["honest-50MiB", "50MiB-claims-10", "50MiB-claims-0", "10-claims-50MiB", "10-claims-2**62"],
)
def test_an_entry_lying_about_its_size_keeps_memory_flat(
    world: World, baseline_peak: int, actual: int, claimed: int
) -> None:
    data = os.urandom(actual) if actual > 10 else b"0123456789"
    res, peak, o = _pull_with_claimed_size(world, data, claimed)
    del data

    assert_works_or_refuses(res)
    assert peak < baseline_peak + (40 << 20), (
        f"pull peaked at {peak >> 20} MiB, {(peak - baseline_peak) >> 20} MiB above a small pull"
    )
    f = world.victim / "data/f"
    if res.returncode == 0:  # then what it wrote is the true object, nothing else
        assert _hash_file(f) == o
    else:
        assert not f.exists() or _hash_file(f) == o


# -- 10. run-cache entries from a remote -----------------------------------------------------------


def _run_cache_entry(world: World) -> Path:
    """The attacker runs a stage and pushes its run-cache entry; the victim's clone will
    look the same stage up. Returns the entry's file in the remote."""
    repo = world.attacker
    ok(dv(repo, "stage", "add", "-n", "s", "-o", "out", "echo made > out"))
    ok(dv(repo, "repro"))
    ok(dv(repo, "push"))
    # the victim must find the stage stale: commit the pipeline, not the lock
    git(repo, "rm", "-q", "--cached", "--ignore-unmatch", "dvlite.lock")
    git(repo, "add", "dvlite.yaml", ".gitignore")
    git(repo, "commit", "-q", "-m", "pipeline")
    runs = sorted((world.remote / "runs").rglob("*"))
    entries = [p for p in runs if p.is_file()]
    assert len(entries) == 1, runs
    return entries[0]


def _rewrite(path: Path, data: bytes) -> None:
    path.chmod(0o644)
    path.write_bytes(data)


@pytest.mark.parametrize("variant", [".git/hooks", "../x", "out-with-dotgit", "metric-../x"])
def test_a_crafted_run_cache_entry_writes_nothing_outside(world: World, variant: str) -> None:
    entry_file = _run_cache_entry(world)
    hooks = put_tree(world.remote, {"post-checkout": Exec(world.hook_script())})
    payload = put_tree(world.remote, PAYLOAD)
    nested = put_tree(world.remote, {".git": world.fsmonitor_repo()})
    outs: list[dict[str, object]]
    metrics: list[dict[str, object]] = []
    if variant == ".git/hooks":
        outs = [dir_out(".git/hooks", hooks)]
    elif variant == "../x":
        outs = [dir_out("../x", payload)]
    elif variant == "out-with-dotgit":
        outs = [dir_out("out", nested)]
    else:
        data = b"attacker's metric\n"
        outs = [dir_out("out", payload)]
        metrics = [{"path": "../x", "kind": "file", "oid": put(world.remote, data), "size": 18}]
    doc = {"version": 1, "outs": outs, "metrics": metrics}
    _rewrite(entry_file, json.dumps(doc, sort_keys=True, separators=(",", ":")).encode())
    victim = world.clone()
    hooks_before = fingerprint(victim / ".git/hooks")
    before = world.print()

    pulled = dv(victim, "pull")
    assert_works_or_refuses(pulled)
    res = dv(victim, "repro")

    assert_works_or_refuses(res)
    if res.returncode == 1:
        assert any(w in error_line(res) for w in ("run cache", "run-cache", entry_file.name))
    # what a stage's run legitimately changes: its out, the lock, and git staging the lock
    # (the index, and the lock's blob among the content-addressed objects)
    after = world.print()
    new_blobs = [r for r in after.keys() - before.keys() if r.startswith("victim/.git/objects/")]
    allowed = ["victim/.dvlite/cache", "victim/out", "victim/dvlite.lock", "victim/.git/index"]
    assert_same(before, after, allowed + new_blobs)
    assert fingerprint(victim / ".git/hooks") == hooks_before
    assert not (world.root / "x").exists()
    assert not (victim / "out/.git").exists()
    git(victim, "checkout", "-q", "-b", "x")
    if (victim / "out").is_dir():
        git(victim / "out", "status", check=False)
    assert not world.marker.exists(), "a planted hook or fsmonitor ran"


# -- 9b. the same lie, through S3 ------------------------------------------------------------------


@pytest.mark.parametrize("claimed", [0, 10, (3 << 20) - 1, (3 << 20) + 1])
def test_s3_download_reads_no_more_than_the_record_claims(
    repo, tmp_dir, s3: str, claimed: int
) -> None:
    """An S3 download of a small object reads at most the claimed size + 1 byte into memory;
    when the object is longer it is streamed to disk and verified there, so an honest object
    under a lying record still arrives whole."""
    make_bucket(s3, "bucket")
    data = os.urandom(3 << 20)
    tmp_dir.gen({"big.bin": data})
    for args in (
        ("remote", "add", "-d", "store", "s3://bucket/x"),
        ("remote", "modify", "store", "endpoint_url", s3),
        ("add", "big.bin"),
        ("push",),
    ):
        assert invoke(*args).exit_code == 0, args
    pointer = tmp_dir / "big.bin.dvl"
    pointer.write_text(pointer.read_text().replace(f"size: {len(data)}", f"size: {claimed}"))
    shutil.rmtree(repo.cache_dir)
    (tmp_dir / "big.bin").unlink()

    res = invoke("pull")

    assert "Traceback" not in res.stdout + res.stderr
    assert res.exit_code == 0, res.stderr
    assert (tmp_dir / "big.bin").read_bytes() == data


# -- what add writes can always be checked out ----------------------------------------------


def test_add_leaves_out_nested_git_folders_as_git_does(repo, tmp_dir) -> None:
    """A folder that is itself a git checkout (or holds a name a filesystem reads as .git or
    .dvlite) is added without those parts: dvlite would refuse them on checkout, and git
    never tracks a nested .git either."""
    tmp_dir.gen(
        {
            "data": {
                "a.txt": "a",
                "vendored": {".git": {"config": "[core]\n"}, "b.txt": "b"},
                "GIT~1": "short name",
                ".Dvlite": {"config": "x"},
            }
        }
    )
    assert invoke("add", "data").exit_code == 0
    shutil.rmtree(tmp_dir / "data")

    res = invoke("checkout")

    assert res.exit_code == 0, res.stderr
    found = sorted(str(p.relative_to(tmp_dir)) for p in (tmp_dir / "data").rglob("*"))
    assert found == ["data/a.txt", "data/vendored", "data/vendored/b.txt"]
