"""helpers.plots.architectures: the boxes follow the zoo's models; the figures draw."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from helpers.models import alexnet, lenet5, small_vgg, vgg16
from helpers.plots.architectures import (
    Box,
    architecture_diagram,
    cost_chart,
    default_layer_costs,
    layer_boxes,
)
from helpers.summary import count_macs, count_parameters

pytestmark = pytest.mark.usefixtures("agg_backend")


def test_lenet_boxes_follow_the_layers():
    boxes = layer_boxes(lenet5(), (1, 32, 32))
    assert [b.kind for b in boxes] == ["conv", "pool", "conv", "pool", "fc", "fc", "fc"]
    assert [b.shape for b in boxes] == [(6, 28, 28), (6, 14, 14), (16, 10, 10), (16, 5, 5),
                                        (120,), (84,), (10,)]
    assert boxes[0].label == "conv 5×5" and boxes[1].label == "avg 2×2 /2"
    assert boxes[0].text == "conv 5×5\n6×28×28"


def test_vgg_stages_are_merged_and_native_adaptive_pool_dropped():
    with torch.device("meta"):
        boxes = layer_boxes(vgg16(), (3, 224, 224))
    convs = [b for b in boxes if b.kind == "conv"]
    assert [b.repeat for b in convs] == [2, 2, 3, 3, 3]
    assert sum(b.repeat for b in convs) == 13
    assert convs[0].text.startswith("2 × conv 3×3")
    assert [b.shape for b in boxes if b.kind == "fc"] == [(4096,), (4096,), (1000,)]
    assert not any(b.label.startswith("avg pool to") for b in boxes)


def test_alexnet_first_conv_has_its_stride():
    with torch.device("meta"):
        boxes = layer_boxes(alexnet(), (3, 224, 224))
    assert boxes[0] == Box("conv", "conv 11×11 /4", (64, 55, 55))
    assert boxes[-4].shape == (256, 6, 6)


def test_adaptive_pool_that_resizes_is_kept_and_mode_restored():
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.AdaptiveAvgPool2d(2), nn.Flatten(),
                          nn.Linear(8, 3))
    model.train()
    boxes = layer_boxes(model, (1, 9, 9))
    assert [b.label for b in boxes] == ["conv 3×3", "avg pool to", "FC"]
    assert boxes[1].shape == (2, 2, 2)
    assert model.training


def test_default_layer_costs_match_the_counters():
    model = small_vgg(channels=(4, 8), hidden=16)
    costs = default_layer_costs(model, (1, 28, 28))
    assert sum(p for p, _ in costs.values()) == count_parameters(model)
    assert sum(m for _, m in costs.values()) == count_macs(model, (1, 28, 28))
    assert list(costs) == [n for n, m in model.named_modules()
                           if isinstance(m, (nn.Conv2d, nn.Linear))]


def test_figures_draw():
    fig = architecture_diagram({"LeNet-5": (lenet5(), (1, 32, 32)),
                                "small VGG": (small_vgg(), (1, 28, 28))})
    assert len(fig.axes) == 2
    assert fig.axes[0].get_title(loc="left") == "LeNet-5"
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert texts[0] == "input\n1×32×32" and "FC\n10" in texts
    chart = cost_chart({"conv": (10, 900), "fc": (90, 100)}, title="t", names=["a", "b"])
    ax = chart.axes[0]
    widths = [p.get_width() for p in ax.patches]
    assert widths == pytest.approx([10, 90, 90, 10])
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a", "b"]


def test_cost_chart_rejects_bad_input():
    with pytest.raises(ValueError, match="empty"):
        cost_chart({})
    with pytest.raises(ValueError, match="names"):
        cost_chart({"a": (1, 1)}, names=["a", "b"])


def test_c3_table_is_lecuns_table_one():
    import numpy as np

    from helpers.plots.architectures import LENET_C3_TABLE
    t = np.array(LENET_C3_TABLE)
    assert t.shape == (6, 16)
    assert list(t.sum(axis=0)) == [3] * 6 + [4] * 9 + [6]       # inputs per C3 map
    # maps 0-5 read 3 neighbouring S2 maps (cyclically), 6-11 four neighbouring maps
    for m in range(6):
        assert set(np.flatnonzero(t[:, m])) == {m % 6, (m + 1) % 6, (m + 2) % 6}
        assert set(np.flatnonzero(t[:, 6 + m])) == {(m + i) % 6 for i in range(4)}
    assert t.sum() * 25 + 16 == 1516                          # the paper's C3 parameters


def test_connection_table_draws_one_x_per_connection():
    from helpers.plots.architectures import LENET_C3_TABLE, connection_table
    fig = connection_table()
    assert sum(t.get_text() == "X" for t in fig.axes[0].texts) == 60
    assert min(t.get_fontsize() for t in fig.axes[0].texts) >= 9
    with pytest.raises(ValueError):
        connection_table([[0, 2]])
    assert len(LENET_C3_TABLE) == 6


def test_volume_diagram_labels_every_box_readably():
    from helpers.plots.architectures import volume_diagram
    fig = volume_diagram(lenet5(), (1, 32, 32), title="LeNet-5")
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert "1×32×32" in texts and "6×28×28" in texts and "10" in texts
    assert min(t.get_fontsize() for t in fig.axes[0].texts) >= 9
    with pytest.raises(ValueError):
        volume_diagram(lenet5(), (1, 32, 32), per_row=0)


def test_race_chart_draws_a_mean_line_per_arm():
    from helpers.plots.architectures import race_chart
    races = [{"net": "n", "arm": arm, "lr": lr, "seed": s, "steps": None if lr == 0.1 else 50 + s}
             for arm in ("a", "b") for lr in (0.01, 0.1) for s in (0, 1, 2)]
    fig = race_chart(races, ("n",), ("a", "b"), max_steps=100)
    means = [line.get_ydata() for line in fig.axes[0].lines if line.get_label() in ("a", "b")]
    assert [list(m) for m in means] == [[51.0, 101.0], [51.0, 101.0]]
    with pytest.raises(ValueError):
        race_chart(races, ("other",), ("a",), max_steps=100)


def test_layer_boxes_can_keep_every_convolution():
    block = small_vgg(channels=(8,), convs_per_stage=3).features
    merged = layer_boxes(block, (1, 28, 28))
    single = layer_boxes(block, (1, 28, 28), merge=False)
    assert [b.repeat for b in merged if b.kind == "conv"] == [3]
    assert [b.kind for b in single] == ["conv", "conv", "conv", "pool"]
    assert all(b.repeat == 1 for b in single)


@pytest.mark.parametrize("kernels", [(3,), (3, 3), (3, 3, 3), (5, 3)])
def test_stacked_field_footprints_are_the_fields_of_the_layers_above(kernels):
    import numpy as np

    from helpers.plots.architectures import stacked_field_footprints
    from helpers.receptive_field import receptive_field
    prints = stacked_field_footprints(kernels, side=11)
    assert len(prints) == len(kernels) + 1 and prints[-1].sum() == 1
    for start, footprint in enumerate(prints[:-1]):
        stack = nn.Sequential(*[nn.Conv2d(1, 1, k, padding=(k - 1) // 2) for k in kernels[start:]])
        side = receptive_field(stack).size
        rows, cols = np.nonzero(footprint)
        assert footprint.sum() == side * side               # a full square ...
        assert rows.min() + rows.max() == cols.min() + cols.max() == 10   # ... centred
    with pytest.raises(ValueError):
        stacked_field_footprints((3, 3, 3), side=5)
    with pytest.raises(ValueError):
        stacked_field_footprints((2,))


def test_vgg_block_figure_draws_the_block_and_its_field_readably():
    from helpers.plots.architectures import vgg_block_figure
    with torch.device("meta"):
        block = vgg16().features[10:17]
    fig = vgg_block_figure(block, (128, 56, 56))
    texts = [t.get_text() for ax in fig.axes for t in ax.texts] + [t.get_text() for t in fig.texts]
    assert "128×56×56" in texts and texts.count("256×56×56") == 3 and "256×28×28" in texts
    assert any("7×7 field" in t and "27 weights" in t and "(one 7×7: 49)" in t for t in texts)
    titles = [ax.get_title() for ax in fig.axes[1:]]
    assert titles == ["block input\n(128×56×56)\n7×7 units", "after conv 1\n5×5 units",
                      "after conv 2\n3×3 units", "after conv 3\none unit"]
    sizes = [t.get_fontsize() for ax in fig.axes for t in [*ax.texts, ax.title]
             if t.get_text()] + [t.get_fontsize() for t in fig.texts]
    assert min(sizes) >= 9
    with pytest.raises(ValueError):
        vgg_block_figure(nn.Sequential(nn.Conv2d(1, 1, 3)), (1, 8, 8))   # shrinks the maps


def test_race_threshold_chart_draws_means_and_the_reference():
    import numpy as np

    from helpers.plots.architectures import race_threshold_chart
    summary = {"20%": {"tanh_steps": [10, 20, 30], "relu_steps": [20, 20, 20],
                       "speedups": [0.5, 1.0, 1.5]},
               "10%": {"tanh_steps": [100, 200, 301], "relu_steps": [50, 50, 50],
                       "speedups": [2.0, 4.0, 6.02]}}
    fig = race_threshold_chart(summary, ("tanh", "ReLU"), max_steps=300, reference=6.0,
                               reference_label="paper", ratio_label="tanh / ReLU")
    left, right = fig.axes
    means = {line.get_label(): list(line.get_ydata()) for line in left.lines}
    assert means["tanh"] == [20.0, 601 / 3] and means["ReLU"] == [20.0, 50.0]
    ratio = [line for line in right.lines if line.get_label() == "mean ± sd over the seeds"][0]
    assert np.allclose(ratio.get_ydata(), [1.0, 12.02 / 3], rtol=0, atol=1e-9)
    assert any(np.allclose(line.get_ydata(), 6.0) for line in right.lines)
    assert [t.get_text() for t in left.get_xticklabels()] == ["20%", "10%"]
    with pytest.raises(ValueError):
        race_threshold_chart({})
    with pytest.raises(ValueError):
        race_threshold_chart({"20%": {"tanh_steps": [1]}})
