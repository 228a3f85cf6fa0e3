"""Moving digits around: place small images on a larger blank canvas.

Chapter 1 uses this to build the *translation experiment*: train on digits at the centre of
a 56×56 canvas, then test on the same kind of digits pushed into the corners.

    place_on_canvas(digit, 56, top=14, left=14)      # (28, 28) -> (56, 56)
    positions(56, 28)["top-left"]                     # (0, 0)
    shifted_from_centre(digits, 56, dy=-6, dx=-6)     # 6 px up and left of the centre
    translation_datasets(x_train, x_test, 56)         # centred train / centred test / corner test
"""
from __future__ import annotations

import numpy as np

CORNERS = ("top-left", "top-right", "bottom-left", "bottom-right")
POSITIONS = ("centre", *CORNERS)


def _canvas_shape(canvas_size) -> tuple[int, int]:
    if isinstance(canvas_size, (int, np.integer)) and not isinstance(canvas_size, bool):
        shape = (int(canvas_size), int(canvas_size))
    elif (isinstance(canvas_size, (tuple, list)) and len(canvas_size) == 2
          and all(isinstance(s, (int, np.integer)) for s in canvas_size)):
        shape = (int(canvas_size[0]), int(canvas_size[1]))
    else:
        raise ValueError(f"canvas_size must be an int or an (height, width) pair of ints, "
                         f"got {canvas_size!r}")
    if min(shape) <= 0:
        raise ValueError(f"canvas_size must be positive, got {canvas_size!r}")
    return shape


def place_on_canvas(digit, canvas_size, top: int, left: int) -> np.ndarray:
    """Paste ``digit`` onto a zero canvas with its top-left pixel at ``(top, left)``.

    ``(h, w) -> (S, S)`` or, for a stack, ``(N, h, w) -> (N, S, S)`` where ``S = canvas_size``
    (an int, or a ``(height, width)`` pair for a rectangular canvas). The canvas has the
    digit's dtype; the input is not modified. The digit must fit entirely:
    ``0 <= top <= S_h - h`` and ``0 <= left <= S_w - w``.
    """
    digit = np.asarray(digit)
    if digit.ndim not in (2, 3):
        raise ValueError(f"digit must have shape (h, w) or (N, h, w), got {digit.shape}")
    ch, cw = _canvas_shape(canvas_size)
    h, w = digit.shape[-2:]
    if not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in (top, left)):
        raise ValueError(f"top and left must be ints, got top={top!r}, left={left!r}")
    if not (0 <= top <= ch - h and 0 <= left <= cw - w):
        raise ValueError(f"a {h}x{w} digit at top={top}, left={left} does not fit on a "
                         f"{ch}x{cw} canvas (need 0 <= top <= {ch - h}, 0 <= left <= {cw - w})")
    canvas = np.zeros(digit.shape[:-2] + (ch, cw), dtype=digit.dtype)
    canvas[..., top:top + h, left:left + w] = digit
    return canvas


def positions(canvas_size, digit_size) -> dict[str, tuple[int, int]]:
    """``{name: (top, left)}`` for the centre and the four corners of the canvas.

    ``digit_size`` is an int or ``(h, w)``; the centre offset is ``(S - h) // 2``.
    """
    ch, cw = _canvas_shape(canvas_size)
    h, w = _canvas_shape(digit_size)
    if h > ch or w > cw:
        raise ValueError(f"a {h}x{w} digit does not fit on a {ch}x{cw} canvas")
    return {"centre": ((ch - h) // 2, (cw - w) // 2),
            "top-left": (0, 0), "top-right": (0, cw - w),
            "bottom-left": (ch - h, 0), "bottom-right": (ch - h, cw - w)}


def place_at(images, canvas_size, where) -> np.ndarray:
    """``(N, h, w) -> (N, S, S)``: every image at the named position (see :data:`POSITIONS`).

    ``where`` is one name, or a sequence of N names (one per image).
    """
    images = np.asarray(images)
    if images.ndim != 3:
        raise ValueError(f"images must have shape (N, h, w), got {images.shape}")
    table = positions(canvas_size, images.shape[1:])
    names = [where] * len(images) if isinstance(where, str) else list(where)
    if len(names) != len(images):
        raise ValueError(f"got {len(names)} positions for {len(images)} images")
    unknown = sorted(set(names) - set(POSITIONS))
    if unknown:
        raise ValueError(f"unknown positions {unknown}; choose from {POSITIONS}")
    out = np.zeros((len(images),) + _canvas_shape(canvas_size), dtype=images.dtype)
    for name in set(names):
        idx = np.flatnonzero(np.asarray(names) == name)
        out[idx] = place_on_canvas(images[idx], canvas_size, *table[name])
    return out


def shifted_from_centre(images, canvas_size, dy: int, dx: int) -> np.ndarray:
    """``(N, h, w) -> (N, S, S)``: the images at the centre position moved ``dy`` pixels down
    and ``dx`` pixels right (negative values move them up / left)."""
    images = np.asarray(images)
    if images.ndim != 3:
        raise ValueError(f"images must have shape (N, h, w), got {images.shape}")
    top, left = positions(canvas_size, images.shape[1:])["centre"]
    return place_on_canvas(images, canvas_size, top + dy, left + dx)


def ink_extent(images) -> np.ndarray:
    """``(N, h, w) -> (N, 2)``: height and width of the smallest box holding each image's
    non-zero pixels (0, 0 for a blank image)."""
    images = np.asarray(images)
    if images.ndim != 3:
        raise ValueError(f"images must have shape (N, h, w), got {images.shape}")
    out = np.zeros((len(images), 2), dtype=np.int64)
    for axis, col in ((2, 0), (1, 1)):  # rows with ink -> height; columns with ink -> width
        lit = (images != 0).any(axis=axis)
        first, last = lit.argmax(axis=1), lit.shape[1] - lit[:, ::-1].argmax(axis=1)
        out[:, col] = np.where(lit.any(axis=1), last - first, 0)
    return out


def corner_names(n: int) -> list[str]:
    """The four corners in turn, ``n`` names: each corner gets a quarter of the images."""
    if n < 0:
        raise ValueError(f"n must be non-negative, got {n}")
    return [CORNERS[i % len(CORNERS)] for i in range(n)]


def translation_datasets(x_train, x_test, canvas_size=56) -> dict[str, np.ndarray]:
    """The translation experiment's images, all ``(N, S, S)`` with the input dtype.

    ``"train"``: training digits at the centre; ``"test-centre"``: test digits at the centre;
    ``"test-corner"``: the same test digits, each pushed into a corner (the four corners in
    turn, so labels stay aligned with ``x_test``).
    """
    return {"train": place_at(x_train, canvas_size, "centre"),
            "test-centre": place_at(x_test, canvas_size, "centre"),
            "test-corner": place_at(x_test, canvas_size, corner_names(len(x_test)))}


# --------------------------------------------------------------------------- the experiment
# One code path for chapter 1 and ``tools/full_runs.py`` (run "translation-seeds"): the
# notebook's run is ``run_translation(0, ...)``, the full runs repeat it with seeds 0, 1, 2,
# so the full runs' seed ``s`` is the notebook's run under ``CNN_COURSE_SEED_SHIFT=s``.

ARMS = ("MLP", "CNN, flatten head", "CNN, global average pool")
TRUNK = (8, 16, 32)  # three conv + 2x2 max-pool stages: 56 -> 28 -> 14 -> 7, none drops a pixel
HIDDEN = 256               # the MLP's hidden units
CANVAS = 56
N_TRAIN, N_TEST, N_VAL = 6000, 2000, 2000
EPOCHS = 4                 # the same number of epochs (so the same steps) for every arm
LR_GRID = (3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1)  # Adam peak learning rates, per arm
HELD_OUT = 50_000          # training digits from this index on are held out to choose the lr


def build_arm(name: str, canvas_size: int = CANVAS):
    """The network of arm ``name`` (see :data:`ARMS`) for ``canvas_size`` x ``canvas_size`` inputs.

    ``"MLP"``: flatten, FC 256, ReLU, FC 10. The two CNNs share the trunk :data:`TRUNK`
    (3x3 conv with same padding, batch norm, ReLU, 2x2 max pool, per stage; ``S -> S / 8``);
    ``"CNN, flatten head"`` flattens the ``32 x S/8 x S/8`` map into a linear layer,
    ``"CNN, global average pool"`` averages each of the 32 maps over all positions first.
    """
    from helpers.models import mlp, small_cnn
    if name == "MLP":
        return mlp(in_features=canvas_size * canvas_size, hidden=(HIDDEN,))
    if name not in ARMS:
        raise ValueError(f"unknown arm {name!r}; choose from {ARMS}")
    if canvas_size % 2 ** len(TRUNK):
        raise ValueError(f"canvas_size must be a multiple of {2 ** len(TRUNK)} so that no "
                         f"pool drops a row or column, got {canvas_size}")
    return small_cnn(channels=TRUNK, batch_norm=True, input_size=canvas_size,
                     global_pool=name == ARMS[2])


def experiment_data(seed: int, n_train: int = N_TRAIN, n_test: int = N_TEST,
                    n_val: int = N_VAL, canvas_size: int = CANVAS, mnist=None) -> dict:
    """The digits of one run: ``n_train`` centred training canvases (a class-balanced subset
    of MNIST's first :data:`HELD_OUT` training digits, drawn with ``seed``), ``n_val`` centred
    held-out training canvases (for choosing the learning rate; the same for every seed) and
    ``n_test`` test digits at the centre and in the corners. ``mnist`` is
    ``load_mnist()``'s tuple (loaded if None). Images stay uint8, ``(N, S, S)``."""
    from helpers.train import subset
    if mnist is None:
        from helpers import load_mnist
        mnist = load_mnist()
    x_tr, y_tr, x_te, y_te = mnist
    x, y = subset(x_tr[:HELD_OUT], y_tr[:HELD_OUT], n_train, seed=seed)
    xt, yt = subset(x_te, y_te, n_test, seed=seed)
    sets = translation_datasets(x, xt, canvas_size)
    where = np.asarray(corner_names(n_test))
    return {"train": (sets["train"], y), "test-centre": (sets["test-centre"], yt),
            "test-corner": (sets["test-corner"], yt),
            **{f"test-{c}": (sets["test-corner"][where == c], yt[where == c]) for c in CORNERS},
            "val": (place_at(x_tr[HELD_OUT:HELD_OUT + n_val], canvas_size, "centre"),
                    y_tr[HELD_OUT:HELD_OUT + n_val]),
            "digits-test": (xt, yt)}


def train_arm(name: str, data: dict, *, seed: int, lr: float, epochs: int = EPOCHS,
              track: bool = False, progress: bool = True, max_steps: int | None = None):
    """Build arm ``name`` with ``seed``, train it on ``data["train"]`` (Adam, one-cycle up to
    ``lr``, batches of 128), and score it. Returns ``(model, record)``: ``record`` has the
    test accuracy at ``"centre"``, in each corner and over all corners (``"corner"``), the
    held-out ``"val"`` accuracy, ``"first_layer_init"`` (the first layer's initial weights)
    and, with ``track``, ``"val_per_epoch"`` (evaluating does not change the training)."""
    import torch

    from helpers.device import seed_everything
    from helpers.train import evaluate, fit, make_loader
    seed_everything(seed)
    model = build_arm(name, data["train"][0].shape[-1])
    if name != "MLP":
        model = model.to(memory_format=torch.channels_last)  # same results, faster on a CPU
    first = model.features[1] if name == "MLP" else model.features[0]
    init = first.weight.detach().clone()
    train = make_loader(*data["train"], batch_size=128, shuffle=True, seed=seed)
    val = make_loader(*data["val"], batch_size=500)
    history = fit(model, train, epochs=epochs, lr=lr, optimizer="adam", scheduler="onecycle",
                  seed=seed, val_loader=val if track else None, progress=progress,
                  max_steps=max_steps)
    record = {w: evaluate(model, make_loader(*data[f"test-{w}"], batch_size=500))[1]
              for w in ("centre", *CORNERS)}
    counts = {c: len(data[f"test-{c}"][1]) for c in CORNERS}   # "corner": all four together
    record["corner"] = sum(record[c] * counts[c] for c in CORNERS) / sum(counts.values())
    record["val"] = evaluate(model, val)[1]
    record["first_layer_init"] = init
    if track:
        record["val_per_epoch"] = list(history.val_acc)
    return model, record


def run_translation(seed: int, lrs: dict, *, arms=ARMS, epochs: int = EPOCHS,
                    n_train: int = N_TRAIN, n_test: int = N_TEST, n_val: int = N_VAL,
                    mnist=None, track: bool = False, progress: bool = True,
                    max_steps: int | None = None) -> tuple[dict, dict]:
    """Chapter 1's translation experiment with one seed: each arm of ``arms`` trained on the
    same centred digits with its learning rate ``lrs[arm]``. Returns ``(models, records)``,
    both keyed by arm (records as :func:`train_arm`)."""
    missing = [a for a in arms if a not in lrs]
    if missing:
        raise ValueError(f"no learning rate for {missing}")
    data = experiment_data(seed, n_train, n_test, n_val, mnist=mnist)
    models, records = {}, {}
    for arm in arms:
        models[arm], records[arm] = train_arm(arm, data, seed=seed, lr=lrs[arm], epochs=epochs,
                                              track=track, progress=progress,
                                              max_steps=max_steps)
    return models, records
