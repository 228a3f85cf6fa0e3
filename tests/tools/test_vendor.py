"""Vendored third-party files: MathJax matches its SHA256SUMS; a fetched package is used only
if its tarball has the pinned SHA-256 (tools.vendor; no network here)."""
from __future__ import annotations

import io
import tarfile

import pytest

from tools import vendor
from tools.book import ROOT

MATHJAX = ROOT / "tools" / "static" / "mathjax"


def test_mathjax_files_match_their_sha256sums():
    assert vendor.check_sums(MATHJAX) == []
    assert (MATHJAX / "tex-chtml.js").is_file() and (MATHJAX / "LICENSE").is_file()


def test_check_sums_finds_changed_missing_and_unlisted_files(tmp_path):
    (tmp_path / "a.js").write_text("a")
    (tmp_path / "b.js").write_text("b")
    (tmp_path / "README.md").write_text("ours")
    (tmp_path / "SHA256SUMS").write_text(
        f"{vendor.sha256(b'a')}  ./a.js\n{vendor.sha256(b'x')}  ./b.js\n"
        f"{vendor.sha256(b'c')}  ./sub/c.js\n")
    (tmp_path / "extra.js").write_text("e")
    assert vendor.check_sums(tmp_path) == [
        "missing: sub/c.js", "not in SHA256SUMS: extra.js", "changed: b.js"]


def _tarball(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(f"package/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def test_unpack_checks_the_tarball_and_keeps_only_the_listed_files(tmp_path, monkeypatch):
    monkeypatch.setattr(vendor, "VENDOR_DIR", tmp_path)
    tarball = _tarball({"x.min.js": b"x()", "LICENSE": b"MIT", "src/big.js": b"..."})
    pkg = vendor.Package("x", "1.0.0", vendor.sha256(tarball), ("x.min.js", "LICENSE"))
    folder = vendor.unpack(pkg, tarball)
    assert folder == tmp_path / "x-1.0.0"
    assert sorted(p.name for p in folder.iterdir()) == ["LICENSE", "x.min.js"]
    with pytest.raises(ValueError, match="SHA-256"):
        vendor.unpack(pkg, tarball + b"tampered")
    with pytest.raises(ValueError, match="no package/missing.js"):
        vendor.unpack(vendor.Package("x", "1.0.0", pkg.sha256, ("missing.js",)), tarball)


def test_packages_are_pinned_to_a_version_and_a_sha256_from_the_npm_registry():
    for name, pkg in vendor.PACKAGES.items():
        assert pkg.name == name and pkg.version.count(".") == 2 and len(pkg.sha256) == 64
        assert pkg.url == f"https://registry.npmjs.org/{name}/-/{name}-{pkg.version}.tgz"
    with pytest.raises(ValueError, match="unknown package"):
        vendor.package("left-pad")
