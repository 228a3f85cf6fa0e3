"""helpers.experiments.data_size: the held-out split, training, choosing a rate, the sweep."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.optim.optimizer as optimizer_module

from helpers.experiments import data_size
from helpers.experiments.data_size import (
    choose_lr,
    data_sweep,
    hold_out,
    mean_sd,
    spread,
    train,
    tune_lr,
    validation_for,
)
from helpers.train import _optimizer


def _data(n=60):
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8), np.arange(n) % 10


def test_hold_out_is_disjoint_complete_and_fixed(monkeypatch):
    x, y = _data()
    x = x.copy()
    x[:, 0, 0] = np.arange(60)                        # an id in every image
    (xp, yp), (xv, yv) = hold_out(x, y, 15)
    assert len(xp) == 45 and len(xv) == 15 and len(yp) == 45 and len(yv) == 15
    ids_pool, ids_val = set(xp[:, 0, 0]), set(xv[:, 0, 0])
    assert not ids_pool & ids_val and len(ids_pool | ids_val) == 60
    monkeypatch.setenv("CNN_COURSE_SEED_SHIFT", "1")  # the split is data, not a seed
    (_, _), (xv2, _) = hold_out(x, y, 15)
    np.testing.assert_array_equal(xv, xv2)
    assert set(hold_out(x, y, 15, seed=1)[1][0][:, 0, 0]) != ids_val
    for bad in (0, 60):
        with pytest.raises(ValueError, match="n_validation"):
            hold_out(x, y, bad)


def test_train_is_reproducible_and_checks_epochs():
    x, y = _data(32)
    a = train(data_size.make_cnn, x, y, epochs=1, lr=1e-3, batch_size=16, seed=3)
    b = train(data_size.make_cnn, x, y, epochs=1, lr=1e-3, batch_size=16, seed=3)
    for p, q in zip(a.parameters(), b.parameters()):
        assert torch.equal(p, q)
    with pytest.raises(ValueError, match="epochs"):
        train(data_size.make_cnn, x, y, epochs=0, lr=1e-3)


def test_choose_lr_takes_the_best_and_the_smaller_on_a_tie(monkeypatch):
    scores = {1e-3: 0.5, 3e-3: 0.7, 1e-2: 0.7, 3e-2: 0.1}
    monkeypatch.setattr(data_size, "train_and_test", lambda *a, lr, **k: scores[lr])
    best, tried = choose_lr(None, None, None, None, None, lrs=list(scores)[::-1], epochs=1)
    assert best == 3e-3 and tried == scores
    with pytest.raises(ValueError, match="empty"):
        choose_lr(None, None, None, None, None, lrs=())


def test_data_sweep_shapes_and_rates(monkeypatch):
    calls = []

    def fake(build, x, y, xe, ye, *, lr, seed, epochs):
        calls.append((build(), len(x), lr, seed))
        return lr + seed

    monkeypatch.setattr(data_size, "train_and_test", fake)
    x, y = _data()
    out = data_sweep({"a": lambda: "A", "b": lambda: "B"}, (x, y), (x, y), sizes=(10, 20),
                     lrs={("a", 10): 1, ("a", 20): 2, ("b", 10): 3, ("b", 20): 4},
                     seeds=(0, 10), epochs=1)
    assert out == {"a": [[1, 11], [2, 12]], "b": [[3, 13], [4, 14]]}
    assert ("A", 20, 2, 10) in calls and len(calls) == 8


def test_spread_and_the_chapter_models():
    assert spread([0.5, 0.7, 0.6]) == pytest.approx((0.6, 0.5, 0.7))
    with pytest.raises(ValueError):
        spread([])
    assert data_size.make_cnn()(torch.zeros(2, 1, 28, 28)).shape == (2, 10)
    assert data_size.make_vit()(torch.zeros(2, 1, 28, 28)).shape == (2, 10)
    assert data_size.STEPS >= 1 and sorted(data_size.START_LRS) == list(data_size.START_LRS)
    assert len(data_size.TUNE_SEEDS) >= 2
    from helpers.summary import count_parameters
    small = count_parameters(data_size.make_vit_small())
    assert abs(small - count_parameters(data_size.make_cnn())) < 0.2 * small


def test_train_for_steps_records_a_curve():
    x, y = _data(40)
    model, curve = train(data_size.make_cnn, x, y, steps=7, lr=1e-3, batch_size=16,
                         curve=(x[:20], y[:20]), points=3)
    assert [step for step, _ in curve] == [2, 5, 7]                  # 7 steps over 3 epochs
    assert all(0 <= a <= 1 for _, a in curve)
    same = train(data_size.make_cnn, x, y, steps=7, lr=1e-3, batch_size=16)
    for p, q in zip(model.parameters(), same.parameters()):          # measuring changes nothing
        assert torch.equal(p, q)
    with pytest.raises(ValueError, match="exactly one"):
        train(data_size.make_cnn, x, y, steps=3, epochs=1, lr=1e-3)
    with pytest.raises(ValueError, match="exactly one"):
        train(data_size.make_cnn, x, y, lr=1e-3)


def test_validation_for_is_never_larger_than_the_training_set():
    x, y = _data(30)
    xv, yv = validation_for((x, y), 12)
    assert len(xv) == len(yv) == 12 and np.array_equal(xv, x[:12])
    assert len(validation_for((x, y), 100)[1]) == 30
    with pytest.raises(ValueError, match="n must"):
        validation_for((x, y), 0)


def test_tune_lr_widens_the_grid_until_the_best_is_inside(monkeypatch):
    def fake_train(build, x, y, *, lr, seed, curve, **kwargs):
        score = 1 - abs(np.log10(lr) - np.log10(0.3)) / 10 + seed / 1000   # best at 0.3
        return "model", [(1, score)]

    monkeypatch.setattr(data_size, "train", fake_train)
    x, y = _data(60)
    tuned = tune_lr(None, (x, y), 20, x, y, lrs=(1e-3, 1e-2, 3e-3), seeds=(0, 1), max_widen=5)
    assert sorted(tuned.scores) == [1e-3, 3e-3, 1e-2, 3e-2, 0.09, 0.27, 0.81]
    assert tuned.best == 0.27 and not tuned.at_edge
    assert [seed for seed, _, _ in tuned.runs[0.27]] == [0, 1]
    capped = tune_lr(None, (x, y), 20, x, y, lrs=(1e-3, 3e-3), seeds=(0,), max_widen=1)
    assert capped.at_edge and capped.best == 0.009             # reported honestly when capped
    with pytest.raises(ValueError, match="empty"):
        tune_lr(None, (x, y), 20, x, y, lrs=())


def test_mean_sd():
    assert mean_sd([1.0, 2.0, 3.0]) == pytest.approx((2.0, 1.0))
    assert mean_sd([4.0]) == (4.0, 0.0)
    with pytest.raises(ValueError):
        mean_sd([])


def test_recipes_train_reproducibly_and_change_the_training():
    x, y = _data(32)
    models = {}
    for recipe, kwargs in data_size.RECIPES.items():
        if kwargs.get("optimizer") == "adamw":            # its decay is given per run
            kwargs = {**kwargs, "weight_decay": 0.1}
        a = train(data_size.make_cnn, x, y, steps=4, lr=1e-2, batch_size=16, seed=3, **kwargs)
        b = train(data_size.make_cnn, x, y, steps=4, lr=1e-2, batch_size=16, seed=3, **kwargs)
        for p, q in zip(a.parameters(), b.parameters()):
            assert torch.equal(p, q), recipe
        models[recipe] = torch.cat([p.detach().flatten() for p in a.parameters()])
    plain, shifted, decayed = models.values()
    assert not torch.equal(plain, shifted) and not torch.equal(shifted, decayed)
    with pytest.raises(ValueError, match="optimizer"):
        train(data_size.make_cnn, x, y, steps=1, lr=1e-3, optimizer="lbfgs")


def test_the_patch_4_vit_has_more_tokens_and_the_same_parameters():
    from helpers.summary import count_parameters
    vit4, vit7 = data_size.make_vit_patch4(), data_size.make_vit()
    assert count_parameters(vit4) == count_parameters(vit7)
    assert vit4.features.position_embedding.embedding.shape[1] == 7 * 7 + 1
    assert vit7.features.position_embedding.embedding.shape[1] == 4 * 4 + 1
    assert vit4(torch.zeros(2, 1, 28, 28)).shape == (2, 10)


def test_the_decay_grid_is_sorted_and_widens():
    grid = data_size.DECAY_PER_STEP
    assert sorted(grid) == list(grid) and len(grid) >= 3 and data_size.DECAY_FACTOR > 1
    assert "weight_decay" not in data_size.RECIPES["shifts and flips, weight decay"]


def test_round_half_up_reads_the_decimal_number():
    from helpers.experiments.data_size import round_half_up
    assert f"{87.35:.1f}" == "87.3"                          # the binary float is below 87.35
    assert round_half_up(87.35) == 87.4 and round_half_up(87.35000000000001) == 87.4
    assert round_half_up(1.15) == 1.2 and round_half_up(-1.25) == -1.3
    assert round_half_up(0.21166, 2) == 0.21 and round_half_up(4.126666, 1) == 4.1
    assert round_half_up(1234567.0, 0) == 1234570.0          # 6 significant digits first
    with pytest.raises(ValueError):
        round_half_up(1.0, -1)


def test_decay_exempt_follows_timm_and_no_decay_matches_torch_param_groups():
    vit = data_size.make_vit()
    exempt = set(data_size.decay_exempt(vit))
    names = dict(vit.named_parameters())
    assert {"features.class_token.token", "features.position_embedding.embedding"} <= exempt
    assert all(names[n].ndim <= 1 for n in exempt if "token" not in n and "position" not in n)
    assert all(names[n].ndim >= 2 for n in set(names) - exempt)        # only matrices, kernels
    assert data_size.decay_exempt(data_size.make_cnn()) == [
        n for n, p in data_size.make_cnn().named_parameters() if n.endswith(".bias")]
    # one step of fit's AdamW with no_decay equals torch's AdamW built with two parameter groups
    torch.manual_seed(0)
    a, b = data_size.make_vit(), data_size.make_vit()
    b.load_state_dict(a.state_dict())
    for p, q in zip(a.parameters(), b.parameters()):
        p.grad = torch.randn_like(p)
        q.grad = p.grad.clone()
    opt_a = _optimizer(a, "adamw", 0.1, 0.9, 0.5, no_decay=exempt)
    opt_a.step()
    opt_b = torch.optim.AdamW(
        [{"params": [p for n, p in b.named_parameters() if n not in exempt]},
         {"params": [p for n, p in b.named_parameters() if n in exempt], "weight_decay": 0.0}],
        lr=0.1, weight_decay=0.5)
    opt_b.step()
    for (n, p), q in zip(a.named_parameters(), b.parameters()):
        assert torch.allclose(p, q, rtol=0, atol=1e-7), n


def test_adamw_in_train_decays_only_weight_matrices():
    x, y = _data(32)
    hooks = len(optimizer_module._global_optimizer_pre_hooks)
    data_size.seed_everything(3)
    start = {n: p.detach().clone() for n, p in data_size.make_vit().named_parameters()}
    model = train(data_size.make_vit, x, y, steps=3, lr=1e-3, batch_size=16, seed=3,
                  optimizer="adamw", weight_decay=900.0)       # per-step decay up to 0.9
    assert len(optimizer_module._global_optimizer_pre_hooks) == hooks   # hook removed
    exempt = set(data_size.decay_exempt(model))
    for n, p in model.named_parameters():
        ratio = (p.norm() / start[n].norm()).item() if start[n].norm() > 0 else None
        if n in exempt:
            assert (p - start[n]).abs().max() < 0.01, n       # Adam moves at most ~lr per step
        else:
            assert ratio < 0.2, n                             # shrunk by the decay
