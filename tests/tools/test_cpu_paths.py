"""tools/cpu_paths.py: each path forces another CPU code path, with one thread, and runs nbval."""
from __future__ import annotations

from tools import cpu_paths


def test_every_path_forces_kernels_and_threads():
    for env in cpu_paths.PATHS.values():
        assert env["OMP_NUM_THREADS"] == "1"
        assert {"ATEN_CPU_CAPABILITY", "ONEDNN_MAX_CPU_ISA", "MKL_ENABLE_INSTRUCTIONS"} <= set(env)
    assert cpu_paths.PATHS[cpu_paths.SLOWEST]["ATEN_CPU_CAPABILITY"] == "default"


def test_command_runs_nbval_and_keeps_each_paths_times_apart():
    cmd = cpu_paths.command("avx2", ["chapters/01_why_not_fully_connected.ipynb"])
    assert cmd[1:4] == ["-m", "pytest", "--nbval"]
    assert f"--chapter-times={cpu_paths.times_file('avx2')}" in cmd
    assert cpu_paths.times_file("avx2") != cpu_paths.times_file("default")
    assert cmd[-1] == "chapters/01_why_not_fully_connected.ipynb"
