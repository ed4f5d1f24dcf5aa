"""Hash while copying: what dvlite keeps is what it hashed, in one read of the source."""

from __future__ import annotations

import errno
import io
import mmap
import os

import xxhash

from dvlite.objects import fsutil
from dvlite.objects.hashing import CHUNK, SMALL_FILE, hasher, oid_from_hasher, oid_of_bytes
from dvlite.progress import OnBytes

OBJECT_MODE = 0o444  # objects are read-only
COPY_CHUNK = 256 << 10  # the buffered copy's buffer (stays in L2 from read to hash to write)
PIPE_CHUNK = 32 << 20  # the kernel copy: hashed in chunks of this size, behind the copy
_NO_KERNEL_COPY = (errno.EXDEV, errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP, errno.EBADF)


def read_small(path: str, size: int) -> bytes:
    """A small file's bytes in one read (``size`` is from stat: a file changed since is read to
    its end)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        data = os.read(fd, size + 1)
        if len(data) == size:
            return data
        parts = [data]
        while chunk := os.read(fd, CHUNK):
            parts.append(chunk)
        return b"".join(parts)
    finally:
        os.close(fd)


def copy_hashing(
    src: str, dst: str, mode: int = OBJECT_MODE, on_bytes: OnBytes | None = None
) -> str:
    """Copy src to a new file dst and return the oid of the copy: what we keep is what we hash.

    The kernel copies (copy_file_range, as cp and cat do) while a second thread hashes each
    chunk already written, from the page cache (mmap): 2 GiB took 0.66 s against 0.58 s for
    `cat a > b`, and 1.35 s through a buffer, which is used where the kernel cannot copy."""
    with open(src, "rb", buffering=0) as fin:
        fd = os.open(dst, os.O_RDWR | os.O_CREAT | os.O_EXCL, mode)
        try:
            size = os.fstat(fin.fileno()).st_size
            if size <= SMALL_FILE:  # one read, one write: no copy buffer to allocate and zero
                data = fin.read()
                fsutil.write_all(fd, data)
                if on_bytes:
                    on_bytes(len(data))
                return oid_of_bytes(data)
            oid = None
            if size >= PIPE_CHUNK:  # no thread for a few MiB
                oid = _kernel_copy_hashing(fin.fileno(), fd, on_bytes)
            return oid or _buffered_copy_hashing(fin, fd, on_bytes)
        finally:
            os.close(fd)


def _kernel_copy_hashing(src_fd: int, dst_fd: int, on_bytes: OnBytes | None) -> str | None:
    """None when copy_file_range is not supported here (nothing has been written then). The
    pool's exit waits for the last hash, so the descriptor outlives it on any way out."""
    from concurrent.futures import Future, ThreadPoolExecutor  # only for big files

    h = hasher()
    offset = 0
    pending: Future[None] | None = None
    with ThreadPoolExecutor(1) as pool:
        while True:
            try:
                n = _copy_range(src_fd, dst_fd, PIPE_CHUNK)
            except OSError as exc:
                if offset == 0 and exc.errno in _NO_KERNEL_COPY:
                    return None
                raise
            if pending is not None:
                pending.result()
            if n == 0:
                return oid_from_hasher(h)
            pending = pool.submit(_hash_range, h, dst_fd, offset, n)
            offset += n
            if on_bytes:
                on_bytes(n)


def _copy_range(src_fd: int, dst_fd: int, count: int) -> int:
    done = 0
    while done < count:
        n = os.copy_file_range(src_fd, dst_fd, count - done)
        if n == 0:
            break
        done += n
    return done


def _hash_range(h: xxhash.xxh3_128, fd: int, offset: int, length: int) -> None:
    flags = mmap.MAP_SHARED | getattr(mmap, "MAP_POPULATE", 0)  # map all pages in one go
    with mmap.mmap(fd, length, flags=flags, prot=mmap.PROT_READ, offset=offset) as view:
        h.update(view)


def _buffered_copy_hashing(fin: io.FileIO, fd: int, on_bytes: OnBytes | None) -> str:
    h = hasher()
    buf = bytearray(COPY_CHUNK)
    view = memoryview(buf)
    while n := fin.readinto(buf):
        chunk = view[:n]
        h.update(chunk)
        fsutil.write_all(fd, chunk)
        if on_bytes:
            on_bytes(n)
    return oid_from_hasher(h)
