"""numba's compile is paid once per machine: the kernels are cached on disk, and where no cache location is
writable they still work, compiled per process."""
import subprocess
import sys

CACHE_KIND = "from qboost_tn.qubo.anneal import kernels as k; print(type(k.anneal_sums._cache).__name__)"


def _run(code):
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()


def test_the_kernels_are_cached_on_disk():
    assert _run(CACHE_KIND) == ["FunctionCache"]


def test_without_a_writable_cache_location_the_kernels_compile_per_process():
    # numba raises "no locator available" when neither __pycache__, NUMBA_CACHE_DIR nor the user's cache folder
    # can be written (a read-only install run by a user without a home); emptying its locator list is that case.
    code = "import numba.core.caching as c; c.CacheImpl._locator_classes = []\n" + CACHE_KIND
    assert _run(code) == ["NullCache"]
