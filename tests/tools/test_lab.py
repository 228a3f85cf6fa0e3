"""tools.lab (``make lab``): JupyterLab starts on the chapters, also as root, and serves them."""
from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from tools import book, lab

CHAPTER = "01_why_not_fully_connected.ipynb"
START_TIMEOUT = 120


def test_arguments_serve_the_chapters_and_allow_root_only_for_root():
    assert f"--ServerApp.root_dir={book.CHAPTERS_DIR}" in lab.arguments(root=False)
    assert "--allow-root" not in lab.arguments(root=False)
    assert "--allow-root" in lab.arguments(root=True)
    assert ("--allow-root" in lab.arguments()) == lab.running_as_root()
    cmd = lab.command(["--no-browser"])
    assert cmd[1:3] == ["-m", "jupyterlab"] and cmd[-1] == "--no-browser"


def test_the_makefile_runs_tools_lab():
    makefile = (book.ROOT / "Makefile").read_text(encoding="utf-8")
    target = makefile.split("\nlab:", 1)[1].split("\n\n", 1)[0]
    assert "-m tools.lab" in target


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, token: str):
    request = urllib.request.Request(url, headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, json.loads(response.read())


@pytest.mark.slow
@pytest.mark.skipif(not (book.CHAPTERS_DIR / CHAPTER).is_file(), reason=f"no {CHAPTER}")
def test_lab_starts_and_serves_a_chapter(tmp_path):
    """The server ``make lab`` starts (headless here: no browser, a free port on 127.0.0.1, a
    token) answers, and its contents API returns the chapter notebook."""
    port, token = _free_port(), secrets.token_hex(16)
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
           "JUPYTER_CONFIG_DIR": str(tmp_path / "config")}
    log = (tmp_path / "lab.log").open("w")
    server = subprocess.Popen(
        lab.command(["--no-browser", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
                     "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}"]),
        stdout=log, stderr=subprocess.STDOUT, env=env, cwd=tmp_path, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if server.poll() is not None:
                pytest.fail(f"jupyter lab exited ({server.returncode}):\n"
                            + (tmp_path / "lab.log").read_text())
            try:
                status, _ = _get(f"{base}/api/status", token)
                if status == 200:
                    break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"no answer in {START_TIMEOUT} s:\n"
                            + (tmp_path / "lab.log").read_text())
            time.sleep(0.5)
        status, model = _get(f"{base}/api/contents/{CHAPTER}", token)
        assert status == 200
        assert model["type"] == "notebook" and model["name"] == CHAPTER
        assert model["content"]["cells"], "the notebook's cells are served"
        with pytest.raises(urllib.error.HTTPError) as denied:
            _get(f"{base}/api/contents/{CHAPTER}", "not-the-token")
        assert denied.value.code == 403
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()
