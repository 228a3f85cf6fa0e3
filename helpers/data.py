"""Load the course's data from ``data/``, checking every file against ``data/SHA256SUMS``.

Nothing here touches the network: the files are in the repository. ``data/README.md`` says
where each came from; ``python data/build_data.py`` rebuilds them byte for byte.
"""
from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

import numpy as np

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
IMAGE_NAMES = ("chelsea", "astronaut", "coffee", "camera")
MNIST_CLASSES = tuple(str(d) for d in range(10))
FASHION_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                   "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
MNIST_NORM = {"mean": 0.1307, "std": 0.3081}      # pixel mean and std of MNIST's training set
FASHION_NORM = {"mean": 0.2860, "std": 0.3530}    # the same for Fashion-MNIST

RESTORE_HINT = ("Restore it with `git checkout -- data/` (or re-clone the repository); "
                "maintainers can rebuild it with `python data/build_data.py`.")


class DataFileError(RuntimeError):
    """A data file is missing or does not match its recorded checksum."""


def manifest(data_dir: Path = DATA_DIR) -> dict[str, str]:
    """``{relative path: sha256}`` read from ``data/SHA256SUMS``."""
    sums = data_dir / "SHA256SUMS"
    if not sums.is_file():
        raise DataFileError(f"missing checksum manifest {sums}. {RESTORE_HINT}")
    pairs = (line.split(None, 1) for line in sums.read_text().splitlines() if line.strip())
    return {name.strip(): digest for digest, name in pairs}


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def verified_path(name: str, data_dir: Path = DATA_DIR) -> Path:
    """Path of ``data/<name>`` after checking it exists and matches the manifest."""
    expected = manifest(data_dir).get(name)
    if expected is None:
        known = sorted(manifest(data_dir))
        raise ValueError(f"{name!r} is not a file of this course; known: {known}")
    path = data_dir / name
    if not path.is_file():
        raise DataFileError(f"data file data/{name} is missing. {RESTORE_HINT}")
    if _cached_sha256(path, path.stat().st_mtime_ns, path.stat().st_size) != expected:
        raise DataFileError(f"data file data/{name} is corrupt (sha256 does not match "
                            f"data/SHA256SUMS). {RESTORE_HINT}")
    return path


@lru_cache(maxsize=32)
def _cached_sha256(path: Path, mtime_ns: int, size: int) -> str:
    return sha256(path)


def _load_npz(name: str, data_dir: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    with np.load(verified_path(name, data_dir)) as z:
        return z["x_train"], z["y_train"], z["x_test"], z["y_test"]


def load_mnist(data_dir: Path = DATA_DIR):
    """MNIST as ``(x_train, y_train, x_test, y_test)``: uint8 (N, 28, 28) images, int64 labels.

    60,000 training and 10,000 test digits (LeCun et al., 1998).
    """
    return _load_npz("mnist.npz", Path(data_dir))


def load_fashion_mnist(data_dir: Path = DATA_DIR):
    """Fashion-MNIST as ``(x_train, y_train, x_test, y_test)``, same layout as MNIST.

    Class names are in ``FASHION_CLASSES`` (Xiao et al., 2017; © Zalando, MIT licence).
    """
    return _load_npz("fashion_mnist.npz", Path(data_dir))


def load_image(name: str, gray: bool = False, data_dir: Path = DATA_DIR) -> np.ndarray:
    """A photo from ``data/images`` as uint8 (H, W, 3), or (H, W) with ``gray=True``.

    Grey conversion uses the ITU-R 601 luma weights 0.299 R + 0.587 G + 0.114 B.
    """
    if name not in IMAGE_NAMES:
        raise ValueError(f"unknown image {name!r}; choose one of {IMAGE_NAMES}")
    from PIL import Image

    with Image.open(verified_path(f"images/{name}.png", Path(data_dir))) as im:
        rgb = np.asarray(im.convert("RGB"))
    if not gray:
        return rgb
    luma = rgb.astype(np.float64) @ np.array([0.299, 0.587, 0.114])
    return np.clip(np.rint(luma), 0, 255).astype(np.uint8)
