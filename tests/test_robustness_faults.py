"""Fault cases of issue 12 owned by the data / file layer: umask race (item 5) and IDX gzip bombs (item 12).

Each test acts as the user or the fault would: real threads creating files, real gzip bombs read in a
subprocess whose memory is measured.
"""
from __future__ import annotations

import os
import stat
import subprocess
import sys
import textwrap

import pytest

from qboost_tn import _io


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


RACE = textwrap.dedent("""
    import os, stat, sys, threading
    from pathlib import Path
    from qboost_tn import _io

    os.umask(0o077)
    root = Path(sys.argv[1])
    (root / "plain").mkdir()
    (root / "atomic").mkdir()
    stop = threading.Event()

    def create_plain():
        i = 0
        while not stop.is_set():
            with open(root / "plain" / f"{i}.txt", "w") as fh:
                fh.write("x")
            i += 1

    worker = threading.Thread(target=create_plain)
    worker.start()
    try:
        for i in range(1500):
            _io.write_text(root / "atomic" / f"{i % 50}.txt", "y")
    finally:
        stop.set()
        worker.join()
    modes = [stat.S_IMODE(p.stat().st_mode) for d in ("plain", "atomic") for p in (root / d).iterdir()]
    bad = [oct(m) for m in modes if m != 0o600]
    print(len(modes), len(bad), sorted(set(bad)))
""")


def test_files_created_by_another_thread_keep_the_umask(tmp_path):
    """Item 5 as reported: a thread creating files while atomic writes run must never get 0666 files."""
    done = subprocess.run([sys.executable, "-c", RACE, str(tmp_path)], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    n_files, n_bad, modes = done.stdout.split(maxsplit=2)
    assert int(n_files) > 50
    assert int(n_bad) == 0, f"{n_bad} of {n_files} files had modes {modes} under umask 077"
