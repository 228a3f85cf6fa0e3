"""helpers.experiments.pool_stride: chapter 3's pooled and strided networks and the numbers
of their full run."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import helpers.layers as scratch
from helpers.experiments.pool_stride import held_out, mean_sd, plateau_gain, pool_stride_nets
from helpers.summary import count_parameters


def test_both_networks_have_the_same_parameter_shapes_and_output():
    nets = pool_stride_nets()
    pooled, strided = nets["pooled"](), nets["strided"]()
    assert [p.shape for p in pooled.parameters()] == [p.shape for p in strided.parameters()]
    assert count_parameters(pooled) == 8 * 9 + 8 + 16 * 8 * 9 + 16 + 784 * 10 + 10
    x = torch.rand(2, 1, 28, 28)
    assert pooled(x).shape == strided(x).shape == (2, 10)


def test_scratch_layers_compute_the_same_pooled_network():
    torch_net, scratch_net = pool_stride_nets()["pooled"](), pool_stride_nets(scratch)["pooled"]()
    scratch_net.load_state_dict(torch_net.state_dict())
    x = torch.rand(3, 1, 28, 28)
    assert torch.allclose(torch_net(x), scratch_net(x), atol=1e-5)


def test_held_out_images_are_not_training_images():
    x = np.arange(40 * 4, dtype=np.uint8).reshape(40, 2, 2)
    y = np.repeat(np.arange(2), 20)
    xv, yv = held_out(x, y, x[:10], 10)
    assert len(yv) == 10
    assert not {bytes(a) for a in xv} & {bytes(a) for a in x[:10]}


def test_mean_sd_and_plateau_gain():
    assert mean_sd([1.0, 3.0]) == (2.0, pytest.approx(np.sqrt(2)))
    assert mean_sd([5.0]) == (5.0, 0.0)
    assert plateau_gain([0.1, 0.5, 0.8, 0.81], last=2) == pytest.approx(0.31)
    with pytest.raises(ValueError):
        mean_sd([])
    with pytest.raises(ValueError):
        plateau_gain([0.1, 0.2], last=2)


def test_averaged_network_shares_the_shapes_and_bad_names_are_refused():
    from helpers.experiments.pool_stride import compare_pool_stride
    nets = pool_stride_nets()
    assert [p.shape for p in nets["averaged"]().parameters()] == \
        [p.shape for p in nets["pooled"]().parameters()]
    with pytest.raises(ValueError, match="names"):
        compare_pool_stride(smoke=True, names=("no-such-net",))
