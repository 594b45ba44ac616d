"""Parallel execution of independent solves: order, seeds, dead workers, interrupts, dask."""
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from sklearn.datasets import load_digits

from qboost_tn import QBoostClassifier, ShallowWideClassifier
from qboost_tn.qubo.base import task_seeds
from qboost_tn.qubo.parallel import run_tasks


def _square(x):
    return x * x


def _die(x):
    if x == 1:
        os._exit(3)  # as if killed (OOM killer, segfault)
    return x


def _interrupt(x):
    raise KeyboardInterrupt


def test_results_keep_task_order():
    assert run_tasks(_square, range(7), n_jobs=2) == [x * x for x in range(7)]
    assert run_tasks(_square, range(7), executor="serial") == [x * x for x in range(7)]


def test_dead_worker_is_a_clear_error_not_a_hang():
    with pytest.raises(RuntimeError, match="worker process died"):
        run_tasks(_die, [0, 1, 2, 3], n_jobs=2)


def test_interrupt_stops_the_pool():
    with pytest.raises(KeyboardInterrupt):
        run_tasks(_interrupt, [0, 1, 2], n_jobs=2)


def test_seeds_depend_on_random_state_and_position_only():
    assert task_seeds(5, 4) == task_seeds(5, 4)
    assert task_seeds(5, 4)[:2] == task_seeds(5, 2)
    assert task_seeds(5, 4) != task_seeds(6, 4)
    assert len(set(task_seeds(5, 100))) == 100
    assert all(0 <= s < 2**31 for s in task_seeds(None, 50))


def test_n_jobs_convention():
    """joblib's convention: None is one worker (serial), 0 means nothing."""
    assert run_tasks(abs, [-1, -2], n_jobs=None) == [1, 2]
    with pytest.raises(ValueError, match="n_jobs == 0"):
        run_tasks(abs, [-1, -2], n_jobs=0)


@pytest.mark.slow
def test_dask_local_cluster_equals_serial():
    distributed = pytest.importorskip("distributed")
    X, y = load_digits(return_X_y=True)
    X, y = X[:120], y[:120]
    params = dict(n_layers=2, num_reads=1, num_sweeps=50, random_state=3)
    serial = ShallowWideClassifier(**params).fit(X, y)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=True,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        on_dask = ShallowWideClassifier(executor=client, **params).fit(X, y)
        by_name = QBoostClassifier(executor="dask", num_reads=1, num_sweeps=50, random_state=3).fit(X, y)
    np.testing.assert_array_equal(serial.spins_, on_dask.spins_)
    np.testing.assert_array_equal(
        by_name.selected_, QBoostClassifier(num_reads=1, num_sweeps=50, random_state=3).fit(X, y).selected_)


def test_dask_without_client_says_so():
    pytest.importorskip("distributed")
    with pytest.raises(RuntimeError, match="needs a running dask"):
        run_tasks(_square, [1, 2], executor="dask")


# --- faults: the parent is stopped by SIGTERM or SIGKILL (issue 12.1) -------------------------------------
FIT_FOREVER = """
import sys
from sklearn.datasets import load_digits
from qboost_tn import ShallowWideClassifier
X, y = load_digits(n_class=4, return_X_y=True)
try:
    ShallowWideClassifier(n_layers=3, num_reads=10**6, num_sweeps=10**4, n_jobs=2, random_state=0).fit(X, y)
except KeyboardInterrupt as exc:
    print(type(exc).__name__, flush=True)
    sys.exit(143)
"""


def _children(pid):
    """Pids of the live (non-zombie) processes whose parent is ``pid``, from /proc."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    fields = fh.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid and fields[0] != "Z":
                found.append(int(entry))
    return found


def _alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _wait_for(condition, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


@pytest.mark.skipif(not os.path.isdir("/proc") or sys.platform != "linux", reason="scans /proc (Linux)")
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_no_worker_survives_its_parent(sig):
    parent = subprocess.Popen([sys.executable, "-c", FIT_FOREVER], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True)
    workers = []
    try:
        assert _wait_for(lambda: len(_children(parent.pid)) >= 2, 60), "the pool never started"
        workers = _children(parent.pid)
        time.sleep(0.5)  # let the workers get into the compiled annealer
        parent.send_signal(sig)
        out, _ = parent.communicate(timeout=60)  # a loaded machine tears an interpreter down slowly
        assert _wait_for(lambda: not any(_alive(w) for w in workers), 5), \
            f"workers {[w for w in workers if _alive(w)]} outlived their parent"
        if sig == signal.SIGTERM:  # handled like Ctrl-C: the run can be recorded as interrupted
            assert parent.returncode == 143 and out.strip() == "Terminated"
    finally:
        for pid in [parent.pid, *workers]:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
        parent.wait(timeout=10)


def test_dask_call_whose_workers_are_gone_raises_instead_of_hanging(monkeypatch):
    distributed = pytest.importorskip("distributed")
    import threading

    from qboost_tn.qubo import parallel

    monkeypatch.setattr(parallel, "DASK_STALL_SECONDS", 2.0)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        for nanny in cluster.workers.values():
            # Without this the nanny restarts the killed worker (distributed has no auto_restart switch any
            # more): the cluster must be left with no worker, as when its machine goes away.
            nanny.close_gracefully()
        worker_pid, = client.run(os.getpid).values()

        def kill():
            os.kill(worker_pid, signal.SIGKILL)

        timer = threading.Timer(1.0, kill)
        timer.start()
        start = time.monotonic()
        try:
            with pytest.raises(RuntimeError, match="cannot finish the solves: no live worker"):
                run_tasks(time.sleep, [60, 60], executor=client)
        finally:
            timer.cancel()
        assert time.monotonic() - start < 30  # not the 60 s the tasks would sleep, nor forever
