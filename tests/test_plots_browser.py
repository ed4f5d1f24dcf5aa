"""The plots page and the report in a real headless browser (Debian's Chromium, installed
here when missing and we are root with apt-get): the charts are drawn (a screenshot that is
not blank, holding the series' colours) and the DOM holds the expected series, paths, images
and stage graph."""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import ok
from plots_helpers import png_colours, train_two_versions

from dvlite.records.repo import Repo

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
INSTALL_TIMEOUT = 600
BLUE, ORANGE = bytes.fromhex("4c78a8"), bytes.fromhex("f58518")  # the first two series' colours


def _find() -> str | None:
    return next((path for name in BROWSERS if (path := shutil.which(name))), None)


@contextlib.contextmanager
def _install_lock() -> Iterator[None]:
    """One installer at a time (pytest-xdist workers each start this session fixture)."""
    with open(os.path.join(tempfile.gettempdir(), "dvlite-chromium-install.lock"), "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        yield


def _install() -> str | None:
    """Why Chromium could not be installed (None: it was)."""
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return "it is not installed, and installing it needs root and apt-get"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    steps = (
        ["apt-get", "update"],
        ["apt-get", "install", "-y", "--no-install-recommends", "chromium"],
    )
    for argv in steps:
        try:
            subprocess.run(argv, env=env, check=True, capture_output=True, timeout=INSTALL_TIMEOUT)
        except subprocess.TimeoutExpired:
            return f"`{' '.join(argv)}` took more than {INSTALL_TIMEOUT} s"
        except subprocess.CalledProcessError as exc:
            tail = exc.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["?"]
            return f"`{' '.join(argv)}` failed ({exc.returncode}): {tail[0]}"
    return None


@pytest.fixture(scope="session")
def chromium() -> str:
    found = _find()
    if found is None:
        with _install_lock():
            found = _find()
            if found is None:
                why = _install()
                found = _find()
                if found is None:
                    pytest.skip(f"no headless Chromium: {why or 'installed, but not on PATH'}")
    return found


def _browse(browser: str, page: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    with tempfile.TemporaryDirectory() as profile:
        argv = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]
        argv += [f"--user-data-dir={profile}", "--window-size=1200,900", *args, page.as_uri()]
        return subprocess.run(argv, capture_output=True, timeout=120, check=True)


@pytest.fixture
def plotted(repo: Repo, dvlite) -> Path:
    """A page overlaying v1 and the workspace, with a hostile column name added."""
    train_two_versions(repo)
    with (repo.root / "dvlite.yaml").open("a") as f:
        f.write("      - evil.csv\n")
    (repo.root / "evil.csv").write_text("step,<script>document.title='owned'</script>\n0,1\n1,2\n")
    ok(dvlite("plots", "diff", "v1"))
    return repo.root / "dvlite_plots" / "index.html"


def test_the_browser_draws_the_charts(chromium: str, plotted: Path, tmp_path: Path) -> None:
    shot = tmp_path / "shot.png"
    _browse(chromium, plotted, f"--screenshot={shot}")
    width, height, colours = png_colours(shot.read_bytes())
    assert (width, height) == (1200, 900)
    assert len(colours) > 50, f"a blank page: {len(colours)} colours"
    assert BLUE in colours and ORANGE in colours  # v1 and the workspace, drawn

    dom = _browse(chromium, plotted, "--dump-dom").stdout.decode()
    assert "<title>dvlite plots</title>" in dom  # the hostile column ran nothing
    assert "<script" not in dom
    loss = dom.split('data-plot="loss.csv"', 1)[1].split("</section>", 1)[0]
    series = re.findall(r'<g class="series line" data-series="([^"]+)"', loss)
    assert series == ["v1", "workspace"]
    assert len(re.findall(r'<path d="M[\d.,L]+"', loss)) == 2
    assert loss.count("<circle") == 40  # 20 points each, each with a tooltip
    cells = dom.split('data-plot="confusion.json"', 1)[1].split("</section>", 1)[0]
    assert cells.count('<rect class="cell"') == 18  # 3 x 3, for each revision
    image = dom.split('data-plot="curve.png"', 1)[1].split("</section>", 1)[0]
    assert image.count('<img src="data:image/png;base64,') == 2


def test_the_browser_draws_the_report(chromium: str, repo: Repo, dvlite, tmp_path: Path) -> None:
    train_two_versions(repo)
    ok(dvlite("report", "v1"))
    page = repo.root / "dvlite_report" / "v1.html"
    shot = tmp_path / "report.png"
    _browse(chromium, page, f"--screenshot={shot}")
    _, _, colours = png_colours(shot.read_bytes())
    assert len(colours) > 50 and BLUE in colours
    dom = _browse(chromium, page, "--dump-dom").stdout.decode()
    assert '<g class="stage" data-stage="train">' in dom
    assert '<section class="stage" data-stage="train">' in dom
    assert re.findall(r'class="series line" data-series="([^"]+)"', dom) == ["v1"]
