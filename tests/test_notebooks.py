"""The notebooks execute top to bottom on small settings (QBOOST_TN_SMALL=1), so they never go stale; they are
stored without outputs."""
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
BANK = ROOT.parent / "shared" / "data" / "bank-marketing"
NEEDS = {"02_mpo_bank_marketing.ipynb": (BANK, "Bank Marketing data not found at ../shared/data/bank-marketing")}


def test_the_notebooks_are_there():
    names = [p.name for p in NOTEBOOKS]
    assert {"01_shallow_wide_mnist.ipynb", "02_mpo_bank_marketing.ipynb", "03_comparison.ipynb"} <= set(names)
    assert all(name[:2].isdigit() for name in names), "notebooks are numbered in reading order"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_stored_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert not cell.outputs and cell.execution_count is None, f"{path.name}: clear outputs before committing"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_executes_on_small_settings(path, tmp_path, monkeypatch):
    from nbclient import NotebookClient

    needed = NEEDS.get(path.name)
    if needed and not needed[0].exists():
        pytest.skip(needed[1])
    monkeypatch.setenv("QBOOST_TN_SMALL", "1")
    monkeypatch.setenv("QBOOST_TN_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("QBOOST_TN_BANK", str(BANK))
    monkeypatch.delenv("MPLBACKEND", raising=False)  # the kernel's own inline backend, as a user's Jupyter has
    nb = nbformat.read(path, as_version=4)
    # Runs in the notebook's own folder, where relative paths in it resolve for a user too.
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors
    images = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if "image/png" in o.get("data", {})]
    assert images, f"{path.name} displays no figure"
    if path.name == "03_comparison.ipynb":
        reports = list((tmp_path / "runs").glob("mnist-*/report.html"))
        assert len(reports) == 1
