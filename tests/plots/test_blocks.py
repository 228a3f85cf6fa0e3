"""helpers.plots.blocks: the diagrams are read off the zoo's blocks."""
from __future__ import annotations

import pytest
from torch import nn

from helpers.models.resnet import BasicBlock, Bottleneck, PlainBlock, PreActBlock
from helpers.plots.blocks import block_layout, draw_blocks, layer_label


def test_layouts_follow_the_modules():
    basic = block_layout(BasicBlock(in_channels=16, out_channels=16))
    assert basic.branch == ["3x3 conv, 16", "BN", "ReLU", "3x3 conv, 16", "BN"]
    assert basic.shortcut == [] and basic.final_relu
    plain = block_layout(PlainBlock(in_channels=8, out_channels=8))
    assert plain.shortcut is None and plain.final_relu
    down = block_layout(BasicBlock(in_channels=16, out_channels=32, stride=2))
    assert down.branch[0] == "3x3 conv, 32, /2"
    assert down.shortcut == ["1x1 conv, 32, /2", "BN"]
    assert (down.in_channels, down.out_channels) == (16, 32)
    neck = block_layout(Bottleneck(in_channels=64, width=64))
    assert [b for b in neck.branch if "conv" in b] == ["1x1 conv, 64", "3x3 conv, 64",
                                                       "1x1 conv, 256"]
    assert neck.shortcut == ["1x1 conv, 256", "BN"]        # channels change: projection
    pre = block_layout(PreActBlock(in_channels=16, out_channels=16))
    assert pre.branch[:2] == ["BN", "ReLU"] and not pre.final_relu and pre.shortcut == []
    assert block_layout(PreActBlock(in_channels=8, out_channels=16, stride=2)).shortcut == [
        "1x1 conv, 16, /2"]


@pytest.mark.parametrize("block", [BasicBlock(in_channels=4, out_channels=8, stride=2),
                                   Bottleneck(in_channels=16, width=4),
                                   PreActBlock(in_channels=4, out_channels=4)])
def test_every_conv_and_bn_of_the_block_is_drawn(block):
    layout = block_layout(block)
    boxes = layout.branch + (layout.shortcut or [])
    convs = sum(isinstance(m, nn.Conv2d) for m in block.modules())
    norms = sum(isinstance(m, nn.BatchNorm2d) for m in block.modules())
    assert sum("conv" in b for b in boxes) == convs
    assert sum(b == "BN" for b in boxes) == norms


def test_figure_draws_one_panel_per_block():
    fig = draw_blocks({"plain": PlainBlock(in_channels=4, out_channels=4),
                       "projection": BasicBlock(in_channels=4, out_channels=8, stride=2),
                       "pre-activation": PreActBlock(in_channels=4, out_channels=4)})
    assert len(fig.axes) == 3 and [ax.get_title() for ax in fig.axes] == [
        "plain", "projection", "pre-activation"]
    assert fig.drawn["plain"] == {"boxes": 6, "adds": 0, "bottom": fig.drawn["plain"]["bottom"]}
    assert fig.drawn["projection"]["boxes"] == 7 and fig.drawn["projection"]["adds"] == 1
    assert fig.drawn["pre-activation"]["boxes"] == 6      # no ReLU after the sum
    assert len({ax.get_ylim() for ax in fig.axes}) == 1    # one scale for all panels


def test_bad_input():
    with pytest.raises(ValueError, match="empty"):
        draw_blocks({})
    with pytest.raises(ValueError, match="paths"):
        block_layout(nn.Conv2d(1, 1, 3))
    with pytest.raises(ValueError, match="no label"):
        layer_label(nn.Linear(2, 2))


def test_resnet_stage_shapes_read_off_resnet34():
    import torch

    from helpers.models import get_model
    from helpers.plots.blocks import resnet_stage_shapes

    with torch.device("meta"):
        rows = resnet_stage_shapes(get_model("resnet34"))
    assert [r["shape"] for r in rows] == [(3, 224, 224), (64, 112, 112), (64, 56, 56),
                                          (64, 56, 56), (128, 28, 28), (256, 14, 14),
                                          (512, 7, 7), (1000, 1, 1)]
    assert [r["blocks"] for r in rows[3:7]] == [3, 4, 6, 3]
    assert [r["projections"] for r in rows[3:7]] == [0, 1, 1, 1]
    assert sum(r["convs"] for r in rows) == 34          # the 34 of the name
    with pytest.raises(ValueError, match="torchvision-style"):
        resnet_stage_shapes(torch.nn.Linear(2, 2))


def test_plain_vs_resnet_diagram_and_degradation_curves():
    import numpy as np
    import torch

    from helpers.models import get_model
    from helpers.plots.blocks import (
        degradation_curves,
        plain_vs_resnet_diagram,
        resnet_stage_shapes,
    )

    with torch.device("meta"):
        fig = plain_vs_resnet_diagram(resnet_stage_shapes(get_model("resnet18")))
    assert len(fig.axes) == 2
    curves = {"plain": {"8 layers": np.ones((3, 5))}, "residual": {"8 layers": np.ones((3, 5))}}
    fig = degradation_curves(curves, curves)
    assert len(fig.axes) == 2 and len(fig.axes[0].lines) == 2      # train thin, test bold
    assert fig.axes[0].lines[1].get_linewidth() > fig.axes[0].lines[0].get_linewidth()
    with pytest.raises(ValueError, match="panels"):
        degradation_curves({"plain": {}}, curves)
    with pytest.raises(ValueError):
        plain_vs_resnet_diagram([])
