"""tools.bench: torch.utils.benchmark times the conv; the CLI writes the Markdown table that
tools.timings puts on the maintainer page."""
from __future__ import annotations

from torch.utils import benchmark

from tools import bench

TINY = (bench.BenchShape("tiny", (2, 2, 8, 8), 3, 3, padding=1),)
NAIVE = bench.BenchShape("naive", (1, 1, 5, 5), 2, 3)


def test_measurements_come_from_torch_utils_benchmark():
    results, naive = bench.measure(shapes=TINY, min_run_time=0.01, naive_shape=NAIVE)
    (r,) = results
    measurements = r["measurements"] + naive["measurements"]
    assert all(isinstance(m, benchmark.Measurement) for m in measurements)
    assert r["torch_ms"] == 1e3 * r["measurements"][0].median > 0
    assert r["ratio"] == r["ours_ms"] / r["torch_ms"]
    assert naive["speedup"] == naive["naive_ms"] / naive["fast_ms"]
    shown = bench.compare(results, naive)
    assert bench.LABEL in shown and "tiny" in shown and "from scratch" in shown
    assert "NumPy loops" in shown


def test_bench_writes_a_markdown_table(tmp_path):
    table = bench.run(shapes=TINY, min_run_time=0.01, naive_shape=NAIVE, device=None)
    assert "| tiny |" in table and "×" in table and "faster" in table
    assert "`torch.utils.benchmark`" in table


def test_cli_writes_the_file_the_maintainer_page_reads(tmp_path, monkeypatch):
    monkeypatch.setattr(bench, "SHAPES", TINY)
    monkeypatch.setattr(bench, "NAIVE_SHAPE", NAIVE)
    out = tmp_path / "conv_benchmark.md"
    table = bench.main(["--out", str(out), "--min-run-time", "0.01"])
    assert out.read_text(encoding="utf-8") == table
    assert table.startswith("| shape |") and "| tiny |" in table
