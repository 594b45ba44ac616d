"""Parallel execution of independent solves: order, seeds, dead workers, interrupts, dask."""
import os

import numpy as np
import pytest
from sklearn.datasets import load_digits

from qboost_tn import QBoostClassifier, ShallowWideClassifier
from qboost_tn.qubo.base import task_seeds
from qboost_tn.qubo.parallel import effective_n_jobs, run_tasks


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
    assert effective_n_jobs(None) == 1
    assert effective_n_jobs(-1) == (os.cpu_count() or 1)
    with pytest.raises(ValueError, match="n_jobs"):
        effective_n_jobs(0)


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
