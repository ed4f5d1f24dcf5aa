"""Git tags: listing them with the commit each points at and its message (one ``for-each-ref``
and one ``cat-file --batch`` for all of them), and making an annotated tag."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dvlite.git import cmd as gitcmd

_FORMAT = "%(refname)%00%(objecttype)%00%(objectname)%00%(*objecttype)%00%(*objectname)"
_FORMAT += "%00%(creatordate:unix)"
_SIGNATURE = ("-----BEGIN PGP SIGNATURE-----", "-----BEGIN SSH SIGNATURE-----")


@dataclass(frozen=True, slots=True)
class Tag:
    name: str  # without refs/tags/
    commit: str | None  # the commit it names; None when it names something else
    message: str | None  # an annotated tag's message (signature left out); None: lightweight
    date: int  # when it was made (the tagger's date; the commit's for a lightweight tag)


def list_tags(root: Path, patterns: tuple[str, ...] = ()) -> list[Tag]:
    """Every tag (or those matching ``patterns``, for-each-ref's, below refs/tags/), by name."""
    refs = [f"refs/tags/{p}" for p in patterns] or ["refs/tags"]
    found = []
    for line in gitcmd.run(root, "for-each-ref", f"--format={_FORMAT}", *refs).decode().split("\n"):
        fields = line.split("\0")
        if len(fields) != 6:
            continue
        ref, kind, sha, peeled_kind, peeled, date = fields
        if kind == "tag":
            commit = peeled if peeled_kind == "commit" else None
        else:
            commit, sha = (sha if kind == "commit" else None), ""
        found.append((ref[len("refs/tags/") :], sha, commit, int(date) if date.isdigit() else 0))
    objects = gitcmd.read_blobs(root, [sha for _, sha, _, _ in found if sha], kind="tag")
    return [
        Tag(name, commit, _message(objects.get(sha)) if sha else None, date)
        for name, sha, commit, date in found
    ]


def _message(data: bytes | None) -> str | None:
    """The message of a raw tag object: what follows its headers, without a signature."""
    if data is None:
        return None
    text = data.decode("utf-8", errors="replace")
    _, _, message = text.partition("\n\n")
    for mark in _SIGNATURE:
        head, found, _ = message.partition(mark)
        if found and (not head or head.endswith("\n")):
            message = head
    return message


def create_tag(root: Path, name: str, commit: str, message: str) -> None:
    """An annotated tag ``name`` of ``commit`` whose message is ``message``, exactly."""
    gitcmd.run(
        root,
        "tag",
        "--annotate",
        "--cleanup=verbatim",
        "--file=-",
        "--end-of-options",
        name,
        commit,
        input=message.encode("utf-8"),
    )
