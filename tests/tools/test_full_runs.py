"""tools.full_runs: results round-trip through the JSON file the page is rendered from, the
committed page matches its file, and a --smoke run of every job writes both."""
from __future__ import annotations

import json

import pytest
import torch

from helpers import full_runs as recorded
from tools import full_runs
from tools.full_runs import RUNS, Result, load_results, main, render, save


def _result(name="lenet5-mnist", value=0.99) -> Result:
    return Result(name=name, chapter="06_lenet_alexnet_vgg", model="LeNet-5", parameters=61_706,
                  data="MNIST", epochs=20, recipe="SGD", metric="test accuracy", value=value,
                  target="99.05 %", seconds=600.0, date="2026-01-01", machine="a CPU",
                  per_epoch=[0.98, 0.99])


def test_save_and_load_round_trip(tmp_path):
    page = tmp_path / "full_runs.md"
    save({"lenet5-mnist": _result()}, page)
    text = page.read_text()
    assert text == render({"lenet5-mnist": _result()})
    assert "<!--" not in text, "the records live in the JSON file, not in the page"
    stored = json.loads((tmp_path / "full_runs.json").read_text())
    assert stored["lenet5-mnist"]["value"] == 0.99 and stored["lenet5-mnist"]["epochs"] == 20
    assert text.startswith("# Full-length training runs")
    assert "| [`lenet5-mnist`](#lenet5-mnist), [chapter 6](06_lenet_alexnet_vgg.ipynb) |" in text
    assert "99.00 %" in text
    assert "in 10.0 min" in text and "(lenet5-mnist)=\n### Chapter 6: " in text
    assert "\nRun `lenet5-mnist`: " in text
    assert "after each epoch: 98.00 %, 99.00 %." in text
    assert "{doc}`06_lenet_alexnet_vgg`" in text
    assert load_results(page) == {"lenet5-mnist": _result()}
    assert load_results(tmp_path / "full_runs.json") == load_results(page)


def test_load_results_of_a_page_without_records(tmp_path):
    assert load_results(tmp_path / "nothing.md") == {}
    other = tmp_path / "other.md"
    other.write_text("# Something else\n")
    assert load_results(other) == {}


def test_the_committed_page_is_rendered_from_the_committed_results():
    """chapters/full_runs.json is what the chapters read (helpers.full_runs, also on Colab);
    chapters/full_runs.md must be its rendering (python -m tools.full_runs)."""
    assert recorded.RESULTS == recorded.PAGE.with_suffix(".json") and recorded.RESULTS.is_file()
    results = recorded.load_results(recorded.PAGE)
    assert results == recorded.load_results() and list(results) == [k for k in RUNS
                                                                      if k in results]
    assert recorded.PAGE.read_text(encoding="utf-8") == render(results), (
        "chapters/full_runs.md is out of date: render it from chapters/full_runs.json")
    assert not any(r.smoke for r in results.values()), "smoke results are not results"


@pytest.mark.slow
def test_smoke_run_of_every_job_writes_and_merges(tmp_path, monkeypatch):
    page = tmp_path / "runs.md"
    save({"lenet5-mnist": _result(value=0.5)}, page)
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
    assert text == render(results), "the page is rendered from runs.json beside it"
    assert "smoke test" in text and "Results: seed 0: plain [" in text
    assert results["degradation-seeds"].display.endswith("of 1")
    assert results["regularisation-seeds"].display.startswith("dropout ")
    assert len(results["lenet5-mnist"].extra["accuracies"]) == 1
    races = results["relu-vs-tanh"].extra["races"]
    assert {r["net"] for r in races} == {"LeNet-5", "8-conv plain"}
    assert {r["arm"] for r in races} == set(full_runs.RACE_ARMS)
    assert set(results["relu-vs-tanh"].extra["summary"]) == {"LeNet-5", "8-conv plain"}

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


def test_race_speedups_picks_each_arms_fastest_rate():
    tanh, relu = full_runs.RACE_ARMS
    steps = {(tanh, 0.01): (100, 120), (tanh, 0.03): (80, 90), (tanh, 0.1): (None, 200),
             (relu, 0.01): (60, 50), (relu, 0.03): (70, 80), (relu, 0.1): (None, None)}
    races = [{"net": "n", "arm": arm, "lr": lr, "seed": seed, "steps": got[seed]}
             for (arm, lr), got in steps.items() for seed in (0, 1)]
    out = full_runs.race_speedups(races, "n", max_steps=300)
    assert out["lr"] == {tanh: 0.03, relu: 0.01}
    assert out["at_edge"] == {tanh: False, relu: True}
    assert out["tanh_steps"] == [80, 90] and out["relu_steps"] == [60, 50]
    assert out["speedups"] == [round(80 / 60, 4), round(90 / 50, 4)]
