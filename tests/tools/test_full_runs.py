"""tools.full_runs: the page round-trips, and a --smoke run of every job writes it."""
from __future__ import annotations

import pytest
import torch

from tools import full_runs
from tools.full_runs import RUNS, Result, load_results, main, render


def _result(name="lenet5-mnist", value=0.99) -> Result:
    return Result(name=name, chapter="06_lenet_alexnet_vgg", model="LeNet-5", parameters=61_706,
                  data="MNIST", epochs=20, recipe="SGD", metric="test accuracy", value=value,
                  target="99.05 %", seconds=600.0, date="2026-01-01", machine="a CPU",
                  per_epoch=[0.98, 0.99])


def test_render_and_load_round_trip(tmp_path):
    page = tmp_path / "full_runs.md"
    page.write_text(render({"lenet5-mnist": _result()}))
    text = page.read_text()
    assert text.startswith("# Full-length training runs")
    assert "| [`lenet5-mnist`](#lenet5-mnist), [chapter 6](06_lenet_alexnet_vgg.ipynb) |" in text
    assert "99.00 %" in text
    assert "in 10.0 min" in text and "(lenet5-mnist)=\n### `lenet5-mnist`" in text
    assert "after each epoch: 98.00 %, 99.00 %." in text
    assert "{doc}`06_lenet_alexnet_vgg`" in text
    assert load_results(page) == {"lenet5-mnist": _result()}


def test_load_results_of_a_missing_or_foreign_page(tmp_path):
    assert load_results(tmp_path / "nothing.md") == {}
    other = tmp_path / "other.md"
    other.write_text("# Something else\n")
    assert load_results(other) == {}


def test_smoke_run_of_every_job_writes_and_merges(tmp_path, monkeypatch):
    page = tmp_path / "runs.md"
    page.write_text(render({"lenet5-mnist": _result(value=0.5)}))
    threads = torch.get_num_threads()
    assert main(["--smoke", "--output", str(page)]) == 0
    assert torch.get_num_threads() == threads               # --smoke's 1 thread is undone
    results = load_results(page)
    assert list(results) == list(RUNS)
    for r in results.values():
        assert r.smoke and r.date and r.machine and r.seconds >= 0 and r.epochs in (0, 1)
    assert results["lenet5-mnist"].value != 0.5            # replaced by the new run
    assert 0.0 <= results["resnet8-fashion"].value <= 1.0
    text = page.read_text()
    assert "smoke test" in text and "Results: seed 0: plain [" in text
    assert results["degradation-seeds"].display.endswith("of 1")
    assert results["regularisation-seeds"].display.startswith("dropout ")
    assert len(results["lenet5-mnist"].extra["accuracies"]) == 1
    races = results["relu-vs-tanh"].extra["races"]
    assert {r["net"] for r in races} == {"LeNet-5", "8-conv plain"}
    assert {"tanh", "ReLU", "ReLU + He init"} <= set(races[0])

    # --only reruns one job and keeps the other rows
    calls = []

    def fake_run(smoke):
        calls.append(smoke)
        return _result(name="resnet8-fashion", value=0.93)

    monkeypatch.setitem(full_runs.RUNS, "resnet8-fashion", fake_run)
    assert main(["--smoke", "--only", "resnet8-fashion", "--output", str(page)]) == 0
    merged = load_results(page)
    assert calls == [True]
    assert merged["resnet8-fashion"].value == 0.93
    assert merged["lenet5-mnist"] == results["lenet5-mnist"]
    assert list(merged) == list(RUNS)


def test_unknown_job_is_rejected():
    with pytest.raises(SystemExit):
        main(["--only", "no-such-run", "--smoke"])
