"""Fault cases of issue 12 owned by the data / file layer: umask race (item 5) and IDX gzip bombs (item 12).

Each test acts as the user or the fault would: real threads creating files, real gzip bombs read under
tracemalloc.
"""
from __future__ import annotations

import os
import stat
import threading
import time
import tracemalloc

import pytest

from qboost_tn import _io
from qboost_tn.data.idx import read_idx
from qboost_tn.errors import DataError


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def umask_077():
    old = os.umask(0o077)
    try:
        yield 0o077
    finally:
        os.umask(old)


def test_atomic_output_never_touches_the_umask(tmp_path, umask_077, monkeypatch):
    """Item 5: the finished file / folder gets the ordinary mode, and the umask is never read or set."""
    def forbidden(_mask):
        raise AssertionError("os.umask called: changing the umask races with other threads")

    monkeypatch.setattr(os, "umask", forbidden)
    _io.write_text(tmp_path / "f.txt", "x")
    with _io.atomic_dir(tmp_path / "run") as staging:
        (staging / "inside.txt").write_text("y")
    assert _mode(tmp_path / "f.txt") == 0o600
    assert _mode(tmp_path / "run") == 0o700
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.txt", "run"]  # no temporaries left


def test_files_created_by_another_thread_keep_the_umask(tmp_path, umask_077):
    """Item 5 as reported: a thread creating files while atomic writes run must never get 0666 files."""
    plain, atomic = tmp_path / "plain", tmp_path / "atomic"
    plain.mkdir()
    atomic.mkdir()
    stop = threading.Event()

    def create_plain():
        i = 0
        while not stop.is_set():
            with open(plain / f"{i}.txt", "w") as fh:
                fh.write("x")
            i += 1

    worker = threading.Thread(target=create_plain)
    worker.start()
    try:
        # About 2 s: the old umask(0)-and-back gave 57 of 22,161 files mode 0666 at this pace.
        deadline = time.monotonic() + 2.0
        i = 0
        while time.monotonic() < deadline:
            _io.write_text(atomic / f"{i % 50}.txt", "y")
            i += 1
    finally:
        stop.set()
        worker.join()
    modes = [_mode(p) for folder in (plain, atomic) for p in folder.iterdir()]
    bad = sorted({oct(m) for m in modes if m != 0o600})
    assert len(modes) > 50
    assert not bad, f"{len([m for m in modes if m != 0o600])} of {len(modes)} files had modes {bad} under umask 077"


def _write_bomb(path, header_shape, n_zeros):
    """A gzip IDX file whose header declares ``header_shape`` and whose body is ``n_zeros`` zero bytes.

    Concatenated gzip members read as one stream, so one compressed 4 MiB block of zeros is written again and
    again: building a 200 MB bomb costs milliseconds.
    """
    import gzip
    import struct

    block = 1 << 22
    header = struct.pack(">HBB", 0, 8, len(header_shape)) + struct.pack(f">{len(header_shape)}I", *header_shape)
    zeros = gzip.compress(bytes(block), compresslevel=9)
    with open(path, "wb") as fh:
        fh.write(gzip.compress(header))
        for _ in range(n_zeros // block):
            fh.write(zeros)
    return path


@pytest.mark.parametrize("shape, message", [
    ((10, 28, 28), "trailing bytes after the 7840 its header promises"),
    ((4_000_000_000, 28, 28), "more than the 1,073,741,824 bytes this reader accepts"),
])
def test_idx_gzip_bomb_is_refused_without_inflating_it(tmp_path, shape, message):
    """Item 12: 200 MB of zeros in ~0.2 MB of gzip is refused while streaming; peak memory stays small."""
    bomb = _write_bomb(tmp_path / "bomb-idx3-ubyte.gz", shape, 200 << 20)
    assert bomb.stat().st_size < 2 << 20
    tracemalloc.start()  # numpy reports its buffers to tracemalloc, as Python reports bytes
    try:
        with pytest.raises(DataError, match=message):
            read_idx(bomb)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 << 20, f"peak traced memory {peak / 2**20:.0f} MiB reading a 200 MB bomb"
