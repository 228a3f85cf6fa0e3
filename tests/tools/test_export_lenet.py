"""tools.export_lenet: the committed weights asset of the "draw a digit" explorer."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from helpers.data import MNIST_NORM, load_mnist
from helpers.experiments.lenet_mnist import LENET_MNIST
from helpers.models import lenet5
from helpers.train import evaluate, make_loader
from tools import export_lenet


def test_the_assets_accuracy_is_its_weights_accuracy():
    model, doc = export_lenet.load_model()
    _, _, x_test, y_test = load_mnist()
    test = make_loader(x_test, y_test, batch_size=1000, device="cpu", **MNIST_NORM)
    accuracy = evaluate(model, test, device="cpu")[1]
    assert round(accuracy, 6) == doc["test_accuracy"]
    assert doc["test_accuracy"] >= export_lenet.MIN_ACCURACY


def test_the_asset_records_the_chapters_recipe_and_stays_small():
    doc = export_lenet.read_document()
    recipe = {**LENET_MNIST.record(), "device": "cpu", "threads": 1}   # the helper's, once
    assert doc["recipe"] == recipe
    assert export_lenet.RECIPE == recipe
    assert doc["normalisation"] == MNIST_NORM
    assert set(doc["tensors"]) == set(lenet5(input_size=28).state_dict())
    assert sorted(s["label"] for s in doc["samples"]) == list(range(10))
    assert export_lenet.ASSET.stat().st_size < 400_000


def test_tampered_weights_are_refused(tmp_path):
    doc = export_lenet.read_document()
    tensor = doc["tensors"]["classifier.5.bias"]
    tensor["float32_base64"] = export_lenet.base64.b64encode(
        np.zeros(10, "<f4").tobytes()).decode()
    path = tmp_path / "w.js"
    path.write_text(export_lenet.as_script(doc, path))
    with pytest.raises(ValueError, match="SHA-256"):
        export_lenet.read_asset(path)


@pytest.fixture
def saved(tmp_path, monkeypatch):
    """(a seeded LeNet-5, the path of its asset with test accuracy 0.5, no sample digits)."""
    monkeypatch.setattr(export_lenet, "samples", lambda: [])
    torch.manual_seed(0)
    model = lenet5(input_size=28)
    path = tmp_path / "w.js"
    path.write_text(export_lenet.as_script(export_lenet.asset(model, 0.5), path))
    return model, path


def test_round_trip(saved):
    model, path = saved
    loaded, doc = export_lenet.load_model(path)
    for name, tensor in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[name], tensor)
    assert doc["test_accuracy"] == 0.5


def test_compare_accepts_rounding_but_not_other_weights_or_recipes(saved, monkeypatch):
    model, path = saved
    assert export_lenet.compare(model, path) == (True, "the same weights, bit for bit")
    with torch.no_grad():
        model.classifier[5].bias.add_(1e-6)          # another CPU's rounding
    same, verdict = export_lenet.compare(model, path)
    assert same and "to within" in verdict
    with torch.no_grad():
        model.classifier[5].bias.add_(1e-2)          # another network
    assert export_lenet.compare(model, path)[0] is False
    monkeypatch.setattr(export_lenet, "RECIPE", {**export_lenet.RECIPE, "lr": 0.1})
    assert export_lenet.compare(lenet5(input_size=28), path) == (
        False, "a different recipe (the asset records another one)")


def test_the_asset_is_a_script_that_defines_the_document(tmp_path):
    """The page loads the weights with a <script> (file:// refuses fetch): the file assigns
    the JSON document to window.CNN_COURSE_WEIGHTS["lenet5_mnist"]; anything else is refused."""
    text = export_lenet.ASSET.read_text()
    assert '(window.CNN_COURSE_WEIGHTS = window.CNN_COURSE_WEIGHTS || {})["lenet5_mnist"] =' in text
    assert export_lenet.ASSET.suffix == ".js"
    path = tmp_path / "w.js"
    path.write_text(json.dumps(export_lenet.read_document()))      # bare JSON: not the format
    with pytest.raises(ValueError, match="not a weights script"):
        export_lenet.read_document(path)
