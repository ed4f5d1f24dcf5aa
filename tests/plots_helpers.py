"""A small real pipeline that makes plots (a CSV series, JSON records for a confusion matrix,
a TSV of bars, a PNG out), and a stdlib PNG writer and reader for the tests."""

from __future__ import annotations

import shlex
import struct
import sys
import zlib

from helpers import git, invoke, ok

from dvlite.records.repo import Repo

PY = shlex.quote(sys.executable)

TRAIN = r"""
import json, struct, sys, zlib
lr = json.load(open("params.yaml"))["lr"]
with open("loss.csv", "w") as f:
    f.write("step,loss,acc\n")
    for i in range(20):
        f.write(f"{i},{1 / (1 + i * lr):.4f},{min(0.99, 0.5 + i * lr / 10):.4f}\n")
labels = ["cat", "dog", "bird"]
json.dump([{"actual": labels[i % 3], "predicted": labels[(i * (2 if lr > 0.2 else 1)) % 3]}
           for i in range(30)], open("confusion.json", "w"))
open("importance.tsv", "w").write("feature\tweight\nage\t%s\nsize\t0.2\n" % lr)
json.dump({"acc": 0.5 + lr}, open("metrics.json", "w"))
sys.path.insert(0, ".")
from pngmaker import png
open("curve.png", "wb").write(png(8, 8, (int(lr * 255) % 256, 40, 200)))
"""

PNGMAKER = r"""
import struct, zlib

def png(width, height, rgb):
    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))
    row = b"\x00" + bytes(rgb) * width
    head = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", head)
            + chunk(b"IDAT", zlib.compress(row * height)) + chunk(b"IEND", b""))
"""

PIPELINE = f"""stages:
  train:
    cmd: {PY} train.py
    deps: [train.py]
    params: [lr]
    outs: [curve.png]
    metrics: [metrics.json]
    plots:
      - loss.csv:
          x: step
          y: loss
          title: Training loss
      - confusion.json:
          template: confusion
          x: actual
          y: predicted
      - importance.tsv:
          template: bar_horizontal
          x: weight
          y: feature
      - curve.png
"""


def make_plots_pipeline(repo: Repo, lr: float = 0.1) -> None:
    """The pipeline above, committed; not yet run."""
    root = repo.root
    (root / "train.py").write_text(TRAIN)
    (root / "pngmaker.py").write_text(PNGMAKER)
    (root / "params.yaml").write_text(f'{{"lr": {lr}}}\n')
    (root / "dvlite.yaml").write_text(PIPELINE)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "pipeline")


def train_two_versions(repo: Repo) -> None:
    """The pipeline run at lr 0.1 and committed as tag v1, then run again at lr 0.3."""
    make_plots_pipeline(repo)
    ok(invoke("repro"))
    git(repo.root, "add", "-A")
    git(repo.root, "commit", "-q", "-m", "v1")
    git(repo.root, "tag", "v1")
    set_lr(repo, 0.3)
    ok(invoke("repro"))


def set_lr(repo: Repo, lr: float) -> None:
    (repo.root / "params.yaml").write_text(f'{{"lr": {lr}}}\n')


def png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    namespace: dict[str, object] = {}
    exec(PNGMAKER, namespace)
    return namespace["png"](width, height, rgb)  # type: ignore[operator,no-any-return]


def png_colours(data: bytes) -> tuple[int, int, set[bytes]]:
    """A PNG's width, height and set of distinct pixel colours (8-bit RGB or RGBA, every
    filter type undone), read with zlib alone."""
    assert data.startswith(b"\x89PNG\r\n\x1a\n"), "not a PNG"
    pos, idat, head = 8, b"", b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            head = body
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, ctype = struct.unpack(">IIBB", head[:10])
    assert depth == 8 and ctype in (2, 6), f"unexpected PNG kind: depth {depth}, colour {ctype}"
    bpp = 3 if ctype == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * bpp
    prev = bytearray(stride)
    colours: set[bytes] = set()
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + a) & 255
            elif kind == 2:
                line[i] = (line[i] + b) & 255
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        colours.update(bytes(line[i : i + 3]) for i in range(0, stride, bpp))
        prev = line
    return width, height, colours
