"""The shipped data: present, checksummed, loadable, and a clear error when damaged."""
from __future__ import annotations

import shutil

import numpy as np
import pytest

from helpers import data


def test_every_manifest_file_matches_its_checksum():
    files = data.manifest()
    assert set(files) == {"mnist.npz", "fashion_mnist.npz",
                          *(f"images/{n}.png" for n in data.IMAGE_NAMES)}
    for name, digest in files.items():
        assert data.sha256(data.DATA_DIR / name) == digest, name


@pytest.mark.parametrize("loader", [data.load_mnist, data.load_fashion_mnist])
def test_datasets_have_the_published_sizes(loader):
    x_train, y_train, x_test, y_test = loader()
    assert x_train.shape == (60_000, 28, 28) and x_test.shape == (10_000, 28, 28)
    assert x_train.dtype == np.uint8 and y_train.dtype == np.int64
    assert sorted(np.unique(y_train)) == list(range(10))
    assert np.bincount(y_test).min() >= 890  # every class is well represented


def test_images_load_in_colour_and_grey():
    cat = data.load_image("chelsea")
    assert cat.shape == (300, 451, 3) and cat.dtype == np.uint8
    grey = data.load_image("chelsea", gray=True)
    assert grey.shape == (300, 451)
    with pytest.raises(ValueError, match="unknown image"):
        data.load_image("dog")


@pytest.fixture
def data_copy(tmp_path):
    target = tmp_path / "data"
    shutil.copytree(data.DATA_DIR, target, ignore=shutil.ignore_patterns("fashion_mnist.npz"))
    return target


def test_corrupt_file_is_named_with_restore_hint(data_copy):
    path = data_copy / "mnist.npz"
    raw = bytearray(path.read_bytes())
    raw[1000] ^= 0xFF
    path.write_bytes(bytes(raw))
    with pytest.raises(data.DataFileError, match=r"data/mnist\.npz is corrupt.*git checkout"):
        data.load_mnist(data_dir=data_copy)


def test_missing_file_is_named_with_restore_hint(data_copy):
    with pytest.raises(data.DataFileError, match=r"fashion_mnist\.npz is missing.*build_data"):
        data.load_fashion_mnist(data_dir=data_copy)


def test_missing_manifest_is_reported(data_copy):
    (data_copy / "SHA256SUMS").unlink()
    with pytest.raises(data.DataFileError, match="manifest"):
        data.load_image("coffee", data_dir=data_copy)


def test_idx_parser_round_trip():
    import importlib.util

    spec = importlib.util.spec_from_file_location("build_data", data.DATA_DIR / "build_data.py")
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    arr = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    raw = b"\x00\x00\x08\x03" + b"".join(n.to_bytes(4, "big") for n in arr.shape) + arr.tobytes()
    assert np.array_equal(build.read_idx(raw), arr)
    with pytest.raises(ValueError):
        build.read_idx(b"\x00\x00\x0d\x01\x00\x00\x00\x01\x00")
