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
