"""report.html opened in real headless Chromium: the table and every image must render.

The page's inline script records, after load, how many images decoded (``#render-check``); Chromium's
``--dump-dom`` prints the DOM after that script ran. Skips, saying why, where Chromium is not installed.
"""
import re
import shutil
import subprocess

import pytest

from qboost_tn.experiments import run_experiment
from qboost_tn.experiments.report import write_report

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Chromium not installed (Debian: apt-get install chromium; "
                                                         ".ci/run installs it)")

CONFIG = {
    "name": "browser",
    "data": {"name": "digits"},
    "split": {"n_train": 100, "n_val": 50, "n_test": 150},
    "models": [{"kind": "logistic-regression", "name": "logreg"},
               {"kind": "logistic-regression", "name": "sparse-logreg", "params": {"l1_ratio": 1.0, "C": 0.5}}],
}


def rendered_dom(page, profile) -> str:
    result = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--no-first-run", "--disable-component-update", "--disable-sync", f"--user-data-dir={profile}",
         "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def render_check(dom):
    tag = re.search(r'<p id="render-check"[^>]*>', dom)
    assert tag, "the check script's element is missing from the DOM"
    return {k: int(v) for k, v in re.findall(r'data-([a-z-]+)="(\d+)"', tag.group(0))}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return run_experiment(CONFIG, out=tmp_path_factory.mktemp("browser") / "run", progress=False)


def test_table_and_every_image_render(run, tmp_path):
    dom = rendered_dom(run.report, tmp_path / "profile")
    check = render_check(dom)
    # overview plot, size frontier + one weight-map figure per model
    assert check == {"images": 4, "rendered": 4, "table-rows": 2}, check
    widths = [int(w) for w in re.findall(r'data-natural-width="(\d+)"', dom)]
    assert len(widths) == 4 and min(widths) > 100
    assert "sparse-logreg" in dom and "ROC-AUC per class" in dom


def test_a_broken_image_is_caught(run, tmp_path):
    """The check is not a formality: corrupt one embedded PNG and the browser reports it undecoded."""
    html = run.report.read_text()
    start = html.index("data:image/png;base64,") + len("data:image/png;base64,")
    broken = tmp_path / "report.html"
    broken.write_text(html[:start] + "AAAA" + html[start + 400:])
    check = render_check(rendered_dom(broken, tmp_path / "profile"))
    assert check["images"] == 4 and check["rendered"] == 3


def test_report_rebuilds_from_the_run_directory(run):
    before = run.report.read_text()
    write_report(run.path)
    after = run.report.read_text()
    # Only the image bytes may differ (none do: they are read back from figures/).
    assert after == before
