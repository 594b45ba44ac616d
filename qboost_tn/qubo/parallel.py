"""Run independent tasks (one annealing problem each) serially, in worker processes, or on a dask cluster.

Results come back in task order whatever the execution order, so with per-task seeds a parallel run equals
the serial one. A worker that dies raises :class:`RuntimeError`; Ctrl-C cancels what is queued, stops the
workers and re-raises :class:`KeyboardInterrupt`.

No worker outlives its parent: workers ask the kernel to kill them when the parent dies (Linux
``PR_SET_PDEATHSIG``; elsewhere a thread polls the parent's pid), so SIGKILL to the parent leaves nothing
behind. While a pool runs in the main thread, SIGTERM raises :class:`Terminated` (a
:class:`KeyboardInterrupt`), which takes the Ctrl-C path: the pool is stopped and the caller can record the
run as interrupted. :func:`sigterm_raises` gives callers the same for a whole run.

On dask, a call whose tasks the cluster can no longer run (every worker gone, or tasks the scheduler lost)
raises :class:`RuntimeError` after :data:`DASK_STALL_SECONDS` instead of waiting forever.
"""
from __future__ import annotations

import concurrent.futures as cf
import contextlib
import ctypes
import multiprocessing
import os
import signal
import sys
import threading
import time

from joblib import effective_n_jobs
from tqdm.auto import tqdm

from .._text import shown

EXECUTORS = ("serial", "processes", "dask")
# How often a worker without PR_SET_PDEATHSIG checks that its parent is alive.
PARENT_POLL_SECONDS = 0.5
# How long a dask call may see no live worker, or tasks the scheduler no longer runs, before it gives up.
DASK_STALL_SECONDS = 10.0
# How often the dask wait checks the cluster while nothing completes.
DASK_POLL_SECONDS = 1.0


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived (``kill PID``, a batch scheduler): handled like Ctrl-C, so runs end as interrupted."""


@contextlib.contextmanager
def sigterm_raises():
    """Within the block, SIGTERM raises :class:`Terminated` in the main thread instead of killing the process.

    Does nothing outside the main thread, or when a SIGTERM handler other than the default is already in
    place (the caller's own handling wins). The previous handler is restored on exit.
    """
    if threading.current_thread() is not threading.main_thread() or \
            signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        yield
        return

    def _raise(signum, frame):
        raise Terminated(f"terminated by signal {signal.Signals(signum).name}")

    signal.signal(signal.SIGTERM, _raise)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _die_with_parent(parent_pid):
    """Pool worker initializer: end this worker when ``parent_pid`` dies, whatever kills it.

    A worker busy in a compiled annealer sees no signal handler, and a parent killed by SIGKILL cannot stop
    it; without this it would be re-parented to PID 1, finish its solve and wait forever for the next one.
    """
    # A SIGTERM handler inherited from the parent (sigterm_raises) would only run after the compiled solve:
    # the pool's terminate() must end the worker at once.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    armed = False
    if sys.platform.startswith("linux"):
        try:
            PR_SET_PDEATHSIG = 1
            armed = ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) == 0
        except (OSError, AttributeError):
            armed = False
    if os.getppid() != parent_pid:  # the parent died before the request took effect
        os._exit(1)
    if not armed:
        threading.Thread(target=_watch_parent, args=(parent_pid,), daemon=True, name="qboost-tn-parent").start()


def _watch_parent(parent_pid):
    while os.getppid() == parent_pid:
        time.sleep(PARENT_POLL_SECONDS)
    os._exit(1)


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
    raise ValueError(f"unknown executor {shown(executor)}; use None, {list(EXECUTORS)}, a dask.distributed.Client "
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
        with sigterm_raises():
            pool = cf.ProcessPoolExecutor(max_workers=min(jobs, len(tasks)), mp_context=context,
                                          initializer=_die_with_parent, initargs=(os.getpid(),))
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
        if process.is_alive():
            process.kill()
            process.join(timeout=5)


def _run_dask(fn, tasks, client, bar):
    from distributed import get_client, wait

    if client == "dask":
        try:
            client = get_client()
        except ValueError as exc:
            raise RuntimeError("executor='dask' needs a running dask.distributed Client; create one "
                               "(e.g. Client(LocalCluster())) or pass it as executor=client") from exc
    futures = client.map(fn, tasks, pure=False)
    index = {future.key: i for i, future in enumerate(futures)}
    results = [None] * len(tasks)
    pending = set(futures)
    stalled_since = None
    try:
        while pending:
            # Not ``as_completed``: it waits on client-side notifications alone, and a lost one (a worker
            # killed at the wrong moment) left it waiting forever after the scheduler had failed the task.
            try:
                done, pending = wait(pending, timeout=DASK_POLL_SECONDS, return_when="FIRST_COMPLETED")
            except TimeoutError:
                done = set()
            for future in done:
                try:
                    results[index[future.key]] = future.result()
                except Exception as exc:
                    if type(exc).__name__ == "KilledWorker":
                        raise RuntimeError(f"a dask worker died while solving ({exc}); the cluster gave up on "
                                           "the task") from exc
                    raise
                bar.update()
            if done:
                stalled_since = None
                continue
            stall = _dask_stall(client, [future.key for future in pending])
            if stall is None:
                stalled_since = None
            elif stalled_since is None:
                stalled_since = time.monotonic()
            elif time.monotonic() - stalled_since > DASK_STALL_SECONDS:
                raise RuntimeError(f"the dask cluster cannot finish the solves: {stall} for over "
                                   f"{DASK_STALL_SECONDS:.0f} s; restart the cluster or use executor='processes'")
        return results
    except BaseException:
        client.cancel(futures)
        raise


def _dask_stall(client, keys):
    """Why the scheduler will not finish ``keys`` (no live worker, tasks failed or forgotten), or None."""

    # Defined here so that cloudpickle sends it by value: the scheduler need not import qboost_tn.
    def states(dask_scheduler, keys):
        return len(dask_scheduler.workers), [dask_scheduler.tasks[k].state if k in dask_scheduler.tasks
                                             else "forgotten" for k in keys]

    try:
        n_workers, task_states = client.run_on_scheduler(states, keys=keys)
    except Exception as exc:  # the scheduler itself is unreachable
        return f"the scheduler does not answer ({type(exc).__name__}: {exc})"
    lost = sorted({state for state in task_states if state in ("erred", "forgotten")})
    if lost:
        return f"the scheduler reports tasks {'/'.join(lost)} while this call still waits for them"
    if n_workers == 0:
        return "no live worker"
    return None
