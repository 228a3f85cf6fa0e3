"""tools.bench: the conv benchmark writes a Markdown table."""
from __future__ import annotations

from tools import bench


def test_bench_writes_a_markdown_table(tmp_path):
    small = (bench.BenchShape("tiny", (2, 2, 8, 8), 3, 3, padding=1),)
    table = bench.run(shapes=small, repeats=1, warmup=0,
                      naive_shape=bench.BenchShape("naive", (1, 1, 5, 5), 2, 3), device=None)
    assert "| tiny |" in table and "×" in table and "faster" in table
    out = tmp_path / "bench.md"
    out.write_text(table, encoding="utf-8")
    assert out.read_text(encoding="utf-8").startswith("| shape |")
