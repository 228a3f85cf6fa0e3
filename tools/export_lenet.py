"""The weights of the website's "draw a digit" explorer: the chapter's LeNet-5, trained again.

    python -m tools.export_lenet            # train, check, write tools/static/explorers/...
    python -m tools.export_lenet --check    # train and compare with the committed asset
                                            # (the recipe, and every weight to within 1e-4)

Chapter 6 trains LeNet-5 on MNIST for two epochs (its cell "Training LeNet-5 on MNIST") with
``helpers.experiments.lenet_mnist.LENET_MNIST``; this tool trains it with the same recipe object
and the same function (``train_lenet_mnist``), on the CPU with one thread so that the run
repeats bit for bit on one machine (:data:`RECIPE` is what the asset records; another CPU
rounds differently, see :func:`compare`), evaluates the network on the
10,000 test digits, refuses to write anything below :data:`MIN_ACCURACY` (the chapter's claim
``ch06.lenet-acc``), and writes :data:`ASSET`: a JSON document with every tensor as
little-endian float32 bytes in base64 with its shape, the recipe, the test accuracy, the torch
version, the SHA-256 of the weights, and one test digit of each class (uint8 pixels in base64)
for the explorer's keyboard path. ``tools/static/explorers/draw_digit.js`` reads it in the
browser. The document is wrapped in a one-line script (:func:`as_script`) that stores it in
``window.CNN_COURSE_WEIGHTS["lenet5_mnist"]``: a page opened from disk (``file://``, as
``make book`` suggests) may load a script but not ``fetch()`` a JSON file.
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import sys
from pathlib import Path

import numpy as np
import torch

from helpers.data import MNIST_NORM, load_mnist
from helpers.device import SEED_SHIFT_ENV
from helpers.experiments.lenet_mnist import LENET_MNIST, train_lenet_mnist
from helpers.models import lenet5
from helpers.train import evaluate, make_loader
from tools import book

ASSET = book.EXPLORERS_DIR / "lenet5_mnist.js"
FORMAT = "cnn-course/lenet5-weights/1"
GLOBAL = "CNN_COURSE_WEIGHTS"   # the page's window.<GLOBAL>[<asset's stem>] holds the document
MIN_ACCURACY = 0.98
# Retrained on another CPU (other vector instructions) or torch build, the weights round
# differently in their last digits (about 1e-6 here); --check accepts differences up to this.
WEIGHT_TOLERANCE = 1e-4
# Chapter 6's recipe (one object, in helpers/) as the asset records it, with this tool's device.
RECIPE = {**LENET_MNIST.record(), "device": "cpu", "threads": 1}


def train_lenet() -> tuple[torch.nn.Module, float]:
    """The chapter's LeNet-5 trained by ``LENET_MNIST`` on the CPU with one thread; returns
    (model, test accuracy)."""
    if os.environ.get(SEED_SHIFT_ENV, "0") != "0":
        raise SystemExit(f"unset {SEED_SHIFT_ENV}: the asset is the chapter's default run")
    torch.set_num_threads(RECIPE["threads"])
    x_train, y_train, x_test, y_test = load_mnist()
    model, _ = train_lenet_mnist(x_train, y_train, LENET_MNIST, device=RECIPE["device"],
                                 progress=False)
    test = make_loader(x_test, y_test, batch_size=1000, device=RECIPE["device"], **MNIST_NORM)
    return model, evaluate(model, test, device=RECIPE["device"])[1]


def tensors_of(model: torch.nn.Module) -> dict[str, np.ndarray]:
    """Every tensor of the state dict as a C-contiguous little-endian float32 array."""
    return {name: np.ascontiguousarray(t.detach().cpu().contiguous().numpy(), dtype="<f4")
            for name, t in model.state_dict().items()}


def weights_sha256(tensors: dict[str, np.ndarray]) -> str:
    """SHA-256 of the tensors' bytes, concatenated in the state dict's order."""
    digest = hashlib.sha256()
    for array in tensors.values():
        digest.update(array.tobytes())
    return digest.hexdigest()


def samples(per_class: int = 1) -> list[dict]:
    """The first ``per_class`` test digits of each class: index, label, uint8 pixels (base64)."""
    _, _, x_test, y_test = load_mnist()
    picked = sorted(i for c in range(10) for i in np.flatnonzero(y_test == c)[:per_class])
    return [{"index": int(i), "label": int(y_test[i]),
             "pixels": base64.b64encode(x_test[i].astype(np.uint8).tobytes()).decode()}
            for i in picked]


def asset(model: torch.nn.Module, accuracy: float) -> dict:
    """The JSON document written to :data:`ASSET`."""
    tensors = tensors_of(model)
    return {
        "format": FORMAT, "model": "helpers.models.lenet5(input_size=28)", "recipe": RECIPE,
        "normalisation": MNIST_NORM, "test_accuracy": round(float(accuracy), 6),
        "torch_version": torch.__version__, "sha256": weights_sha256(tensors),
        "tensors": {name: {"shape": list(a.shape), "float32_base64":
                           base64.b64encode(a.tobytes()).decode()}
                    for name, a in tensors.items()},
        "samples": samples(),
    }


def _assignment(path: Path) -> str:
    return f'(window.{GLOBAL} = window.{GLOBAL} || {{}})["{Path(path).stem}"] =\n'


def as_script(doc: dict, path: Path = ASSET) -> str:
    """The asset's text: a comment, then ``(window.CNN_COURSE_WEIGHTS = ...)["<stem>"] =``
    and the document as JSON."""
    return ("/* The weights of the website's draw-a-digit explorer (chapter 6's LeNet-5), written "
            "by `python -m tools.export_lenet`. A script, not a JSON file, so that a page opened "
            "from disk can load it. */\n" + _assignment(path) + json.dumps(doc, indent=1) + ";\n")


def read_document(path: Path = ASSET) -> dict:
    """The JSON document inside an asset written by :func:`as_script`."""
    text = Path(path).read_text()
    head, sep, body = text.partition(_assignment(path))
    if not sep or not body.rstrip().endswith(";"):
        raise ValueError(f"{path}: not a weights script written by tools.export_lenet")
    return json.loads(body.rstrip()[:-1])


def read_asset(path: Path = ASSET) -> tuple[dict[str, torch.Tensor], dict]:
    """(state dict, the document) of an asset written by this tool; checks its SHA-256."""
    doc = read_document(path)
    if doc.get("format") != FORMAT:
        raise ValueError(f"{path}: not a {FORMAT} file")
    arrays = {name: np.frombuffer(base64.b64decode(t["float32_base64"]), dtype="<f4")
              .reshape(t["shape"]) for name, t in doc["tensors"].items()}
    if weights_sha256(arrays) != doc["sha256"]:
        raise ValueError(f"{path}: the weights do not match their SHA-256")
    return {name: torch.from_numpy(a.copy()) for name, a in arrays.items()}, doc


def load_model(path: Path = ASSET) -> tuple[torch.nn.Module, dict]:
    """The asset's LeNet-5, in evaluation mode, and its document."""
    state, doc = read_asset(path)
    model = lenet5(input_size=28)
    model.load_state_dict(state)
    return model.eval(), doc


def compare(model: torch.nn.Module, path: Path = ASSET) -> tuple[bool, str]:
    """(same?, verdict): do ``model``'s weights and recipe match the asset at ``path``? Bit for
    bit on the CPU and torch build that wrote the asset; elsewhere (other vector instructions
    round differently) every weight within :data:`WEIGHT_TOLERANCE`."""
    state, doc = read_asset(path)
    if doc["recipe"] != RECIPE:
        return False, "a different recipe (the asset records another one)"
    if weights_sha256(tensors_of(model)) == doc["sha256"]:
        return True, "the same weights, bit for bit"
    mine = model.state_dict()
    if set(mine) != set(state) or any(mine[k].shape != state[k].shape for k in state):
        return False, "different weights (other tensors or shapes)"
    largest = max((mine[k].detach().cpu().float() - state[k]).abs().max().item() for k in state)
    if largest <= WEIGHT_TOLERANCE:
        return True, (f"the same weights to within {WEIGHT_TOLERANCE:g} (not bit for bit: this "
                      "CPU or torch build rounds differently)")
    return False, f"different weights (largest difference above {WEIGHT_TOLERANCE:g})"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=ASSET)
    parser.add_argument("--check", action="store_true",
                        help="compare with the asset at --out instead of writing it")
    args = parser.parse_args(argv)
    model, accuracy = train_lenet()
    print(f"test accuracy {accuracy:.2%} ({RECIPE['epochs']} epochs, torch {torch.__version__})")
    if accuracy < MIN_ACCURACY:
        print(f"below the chapter's {MIN_ACCURACY:.0%}: nothing written", file=sys.stderr)
        return 1
    if args.check:
        same, verdict = compare(model, args.out)
        print(f"{args.out}: {verdict}")
        return 0 if same else 1
    doc = asset(model, accuracy)
    args.out.write_text(as_script(doc, args.out))
    print(f"wrote {args.out} ({args.out.stat().st_size / 1024:.0f} KiB), sha256 {doc['sha256']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
