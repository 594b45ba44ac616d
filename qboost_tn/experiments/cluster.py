"""The dask cluster of a run whose models ask for ``executor: dask``.

A command-line run has no dask ``Client`` of its own, so ``executor: dask`` alone could never run: the run
starts a ``LocalCluster`` of ``dask.n_workers`` single-threaded worker processes for its duration (or uses the
client already current in the calling Python session) and closes what it started when the run ends.
"""
from __future__ import annotations

import contextlib
import importlib.util
import logging


def dask_models(cfg) -> list[int]:
    """Indices of the config's models whose ``executor`` is (or searches over) ``"dask"``."""
    found = []
    for i, model in enumerate(cfg["models"]):
        value = model.get("params", {}).get("executor") if isinstance(model.get("params"), dict) else None
        if value == "dask" or (isinstance(value, list) and "dask" in value):
            found.append(i)
    return found


def dask_rules(cfg) -> list[tuple[str, str]]:
    """Config problems: ``executor: dask`` without dask.distributed installed."""
    models = dask_models(cfg)
    if models and importlib.util.find_spec("distributed") is None:
        return [(f"models[{models[0]}].params.executor", "'dask' needs dask.distributed, which is not installed "
                                                         "(pip install 'qboost-tn[dask]'); or use 'processes'")]
    return []


@contextlib.contextmanager
def dask_cluster(cfg):
    """A dask client for the run when a model uses ``executor: dask``; None otherwise."""
    if not dask_models(cfg):
        yield None
        return
    from distributed import Client, LocalCluster, get_client

    try:
        yield get_client()  # the caller's own client (Python API) is used as it is
        return
    except ValueError:  # no client yet
        pass
    cluster = LocalCluster(n_workers=cfg["dask"]["n_workers"], threads_per_worker=1, processes=True,
                           dashboard_address=None)
    client = Client(cluster)
    try:
        yield client
    finally:
        # Workers still busy when the run stops are killed after a grace period; that is the intent, not news.
        quiet = logging.getLogger("distributed")
        level = quiet.level
        quiet.setLevel(logging.ERROR)
        try:
            client.close()
            cluster.close()
        finally:
            quiet.setLevel(level)


__all__ = ["dask_cluster", "dask_models", "dask_rules"]
