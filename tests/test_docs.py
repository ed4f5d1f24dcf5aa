from pathlib import Path

from dvlite.cli.reference import render

ROOT = Path(__file__).resolve().parent.parent


def test_command_reference_matches_help() -> None:
    """docs/commands.md is generated from --help; regenerate with `make docs`."""
    assert (ROOT / "docs" / "commands.md").read_text(encoding="utf-8") == render()


def _docs() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def test_every_relative_link_in_the_docs_points_to_a_file() -> None:
    """A link (or a `name.md` a page refers to) that leads nowhere is a broken promise."""
    import re

    broken = []
    for doc in _docs():
        text = doc.read_text(encoding="utf-8")
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            path = target.split("#", 1)[0]
            if path and "://" not in path and not (doc.parent / path).exists():
                broken.append(f"{doc.name}: {target}")
        for name in re.findall(r"(?<![\w/.-])([\w-]+\.md)\b", text):
            if not ((doc.parent / name).exists() or (ROOT / name).exists()):
                broken.append(f"{doc.name}: {name}")
    assert broken == []


def test_tutorial_tags_are_created_before_they_are_used() -> None:
    """README and getting-started are followed line by line: a tag (`v1`) they check out or
    compare must be made by a `git tag` earlier in the page."""
    import re

    for doc in (ROOT / "README.md", ROOT / "docs" / "getting-started.md"):
        created: set[str] = set()
        for block in re.findall(r"```sh\n(.*?)```", doc.read_text(encoding="utf-8"), re.S):
            for line in block.splitlines():
                code = re.sub(r"\"[^\"]*\"|'[^']*'|#.*", "", line)  # not messages or comments
                created |= set(re.findall(r"git tag (?:-\w+ )*(v[\w.]+)", code))
                used = set(re.findall(r"(?<![\w-])(v\d[\w.]*)\b", code)) - created
                assert not used, f"{doc.name}: {line.strip()!r} uses {used} before `git tag`"
