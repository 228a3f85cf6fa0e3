"""helpers.experiments.hierarchy: top images against a brute-force search, crops against the
receptive field's box, class purity, ValueError on bad input."""
from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest
import torch
from torch import nn

from helpers.experiments.hierarchy import class_purity, crop_fields, top_activations


def _net():
    torch.manual_seed(0)
    return nn.Sequential(OrderedDict(conv1=nn.Conv2d(1, 3, 3, padding=1), relu1=nn.ReLU(),
                                     pool=nn.MaxPool2d(2), conv2=nn.Conv2d(3, 2, 3, padding=1),
                                     relu2=nn.ReLU()))


def test_top_activations_match_a_brute_force_search():
    net = _net()
    images = torch.randn(20, 1, 12, 12)
    tops = top_activations(net, ["relu1", "relu2"], images, k=3, batch_size=7)
    with torch.no_grad():
        maps = net(images)                                            # (20, 2, 6, 6)
    best = maps.flatten(2).amax(dim=2)                                # (20, 2)
    for unit in range(2):
        expected = torch.argsort(best[:, unit], descending=True)[:3].numpy()
        np.testing.assert_array_equal(tops["relu2"].image_index[unit], expected)
        for n, (i, j) in zip(expected, tops["relu2"].positions[unit]):
            assert maps[n, unit, i, j] == best[n, unit]
    assert tops["relu1"].field.size == 3 and tops["relu2"].field.size == 8
    with pytest.raises(ValueError, match="no child"):
        top_activations(net, ["conv9"], images)
    with pytest.raises(ValueError):
        top_activations(net, ["relu1"], images[:, 0])
    with pytest.raises(ValueError):
        top_activations(net, ["relu1"], images, k=21)


def test_crop_fields_cut_the_box_and_fill_outside():
    net = _net()
    field = top_activations(net, ["relu2"], torch.randn(4, 1, 12, 12), k=1)["relu2"].field
    images = np.arange(2 * 12 * 12, dtype=float).reshape(2, 12, 12)
    crops = crop_fields(images, np.array([[1, 0]]), np.array([[[2, 3], [0, 0]]]), field, fill=-1)
    top, left, bottom, right = field.box(2, 3)
    np.testing.assert_array_equal(crops[0, 0], images[1, top:bottom, left:right])
    assert crops.shape == (1, 2, field.size, field.size)
    assert (crops[0, 1][0] == -1).all()          # unit (0, 0) reaches into the padding
    with pytest.raises(ValueError):
        crop_fields(images, np.array([1]), np.array([[1, 1], [2, 2]]), field)


def test_class_purity():
    np.testing.assert_allclose(class_purity([[1, 1, 1, 1], [0, 1, 2, 3], [2, 2, 5, 5]]),
                               [1.0, 0.25, 0.5])
    with pytest.raises(ValueError):
        class_purity([1, 2, 3])
