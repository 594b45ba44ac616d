"""Run independent tasks (one annealing problem each) serially, in worker processes, or on a dask cluster.

Results come back in task order whatever the execution order, so with per-task seeds a parallel run equals
the serial one. A worker that dies raises :class:`RuntimeError`; Ctrl-C cancels what is queued, stops the
workers and re-raises :class:`KeyboardInterrupt`.
"""
from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os

from tqdm.auto import tqdm

EXECUTORS = ("serial", "processes", "dask")


def effective_n_jobs(n_jobs) -> int:
    """scikit-learn's convention: None -> 1, -1 -> every core, -2 -> all but one, ..."""
    if n_jobs is None:
        return 1
    if int(n_jobs) != n_jobs or n_jobs == 0:
        raise ValueError(f"n_jobs must be a non-zero integer or None, got {n_jobs!r}")
    cores = os.cpu_count() or 1
    return max(1, int(n_jobs) if n_jobs > 0 else cores + 1 + int(n_jobs))


def _is_dask_client(obj) -> bool:
    try:
        from distributed import Client
    except ImportError:  # dask is optional
        return False
    return isinstance(obj, Client)


def check_executor(executor) -> None:
    if executor is None or executor in EXECUTORS or _is_dask_client(executor):
        return
    if isinstance(executor, cf.Executor):
        return
    raise ValueError(f"unknown executor {executor!r}; use None, {list(EXECUTORS)}, a dask.distributed.Client "
                     "or a concurrent.futures.Executor")


def run_tasks(fn, tasks, *, n_jobs=None, executor=None, progress=False, desc="solves") -> list:
    """``[fn(t) for t in tasks]``, possibly in parallel.

    Parameters
    ----------
    fn : callable
        A module-level function (it is pickled to the workers).
    tasks : list
        Picklable arguments, one per call.
    n_jobs : int or None
        Worker processes for ``executor="processes"`` (or ``None``, which picks processes when
        ``n_jobs > 1``).
    executor : None, "serial", "processes", "dask", dask.distributed.Client or concurrent.futures.Executor
        ``"dask"`` uses the current client (``distributed.get_client()``). Executors passed in are used as
        they are and left running.
    progress : bool
        Show a tqdm bar over the tasks.
    """
    check_executor(executor)
    tasks = list(tasks)
    jobs = effective_n_jobs(n_jobs)
    if executor is None:
        executor = "processes" if jobs > 1 and len(tasks) > 1 else "serial"
    with tqdm(total=len(tasks), desc=desc, disable=not progress, leave=False) as bar:
        if executor == "serial":
            results = []
            for task in tasks:
                results.append(fn(task))
                bar.update()
            return results
        if executor == "dask" or _is_dask_client(executor):
            return _run_dask(fn, tasks, executor, bar)
        if isinstance(executor, cf.Executor):
            return _collect(executor, fn, tasks, bar, owned=False)
        # fork where it exists: workers start in milliseconds, and a user's script without an
        # ``if __name__ == "__main__"`` guard is not re-run in every worker (spawn and forkserver do that).
        context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods()
                                              else "spawn")
        pool = cf.ProcessPoolExecutor(max_workers=min(jobs, len(tasks)), mp_context=context)
        return _collect(pool, fn, tasks, bar, owned=True)


def _collect(pool, fn, tasks, bar, owned):
    futures = {}
    try:
        futures = {pool.submit(fn, task): i for i, task in enumerate(tasks)}
        results = [None] * len(tasks)
        for future in cf.as_completed(futures):
            results[futures[future]] = future.result()
            bar.update()
        if owned:
            pool.shutdown(wait=True)
        return results
    except cf.process.BrokenProcessPool as exc:
        _stop(pool, futures, owned)
        raise RuntimeError("a worker process died (killed, or out of memory) before finishing its solve; "
                           "try fewer n_jobs or executor='serial'") from exc
    except BaseException:
        _stop(pool, futures, owned)
        raise


def _stop(pool, futures, owned):
    for future in futures:
        future.cancel()
    if not owned:
        return
    # Worker processes are busy inside a compiled annealer that does not see the interrupt; end them so
    # the caller is not left waiting for solves nobody will read.
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        if process.is_alive():
            process.terminate()
    for process in processes:
        process.join(timeout=5)


def _run_dask(fn, tasks, client, bar):
    from distributed import as_completed, get_client

    if client == "dask":
        try:
            client = get_client()
        except ValueError as exc:
            raise RuntimeError("executor='dask' needs a running dask.distributed Client; create one "
                               "(e.g. Client(LocalCluster())) or pass it as executor=client") from exc
    futures = client.map(fn, tasks, pure=False)
    index = {future.key: i for i, future in enumerate(futures)}
    results = [None] * len(tasks)
    try:
        for future in as_completed(futures):
            try:
                results[index[future.key]] = future.result()
            except Exception as exc:
                if type(exc).__name__ == "KilledWorker":
                    raise RuntimeError(f"a dask worker died while solving ({exc}); the cluster gave up on "
                                       "the task") from exc
                raise
            bar.update()
        return results
    except BaseException:
        client.cancel(futures)
        raise
