"""What the units of each layer respond to: the dataset patches that excite them most, cropped
to their receptive field (Zeiler & Fergus 2014, section 4), for chapter 4.

    top_activations(model, layer_names, images, k)   -> {layer: TopPatches}
    crop_fields(images, image_index, positions, field, fill)
    class_purity(labels)        share of a unit's top images in its commonest class

A unit of layer ``L`` is one output channel; its response to an image is its largest value over
all positions (``amax`` over the map), and its top ``k`` images are the ``k`` images with the
largest response. The position of that maximum and the layer's receptive field
(:func:`helpers.receptive_field.receptive_field`) give the input patch that produced it: only
those pixels can change the unit's value there.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from helpers.receptive_field import ReceptiveField, receptive_field

__all__ = ["TopPatches", "class_purity", "crop_fields", "top_activations"]


@dataclass(frozen=True)
class TopPatches:
    """The top ``k`` images of each of the ``C`` units of one layer.

    ``image_index`` (C, k): indices into the images, strongest first; ``positions`` (C, k, 2):
    the (row, column) of the unit's largest value in each; ``values`` (C, k): that value;
    ``field``: the layer's receptive field, whose ``box(i, j)`` is the input patch of unit (i, j).
    """

    image_index: np.ndarray
    positions: np.ndarray
    values: np.ndarray
    field: ReceptiveField


def _prefix(model: nn.Sequential, name: str) -> nn.Sequential:
    names = [n for n, _ in model.named_children()]
    if name not in names:
        raise ValueError(f"no child {name!r} in the model; children: {names}")
    return model[:names.index(name) + 1]


@torch.no_grad()
def top_activations(model: nn.Sequential, layer_names, images: torch.Tensor, k: int = 9,
                    batch_size: int = 500) -> dict[str, TopPatches]:
    """For each named child of the ``nn.Sequential`` ``model`` (the output of the model up to and
    including it: (N, C, H', W')), the ``k`` images of ``images`` (N, C_in, H, W) with the largest
    response of each unit, where a unit's response to an image is the largest value of its map.
    """
    if images.ndim != 4:
        raise ValueError(f"images must be (N, C, H, W), got shape {tuple(images.shape)}")
    if not 1 <= k <= len(images):
        raise ValueError(f"k must be in [1, {len(images)}], got {k}")
    was_training = model.training
    model.eval()
    out = {}
    for name in layer_names:
        part = _prefix(model, name)
        best, where = [], []
        for start in range(0, len(images), batch_size):
            maps = part(images[start:start + batch_size])           # (n, C, H', W')
            flat = maps.flatten(2)
            value, index = flat.max(dim=2)                           # (n, C)
            best.append(value)
            where.append(index)
            width = maps.shape[-1]
        best, where = torch.cat(best), torch.cat(where)              # (N, C)
        values, image_index = best.topk(k, dim=0)                    # (k, C)
        flat_pos = where.gather(0, image_index)                      # (k, C)
        positions = torch.stack([flat_pos // width, flat_pos % width], dim=-1)   # (k, C, 2)
        field = receptive_field(part, input_size=tuple(images.shape[-2:]))
        out[name] = TopPatches(image_index.T.numpy(), positions.transpose(0, 1).numpy(),
                               values.T.numpy(), field)
    model.train(was_training)
    return out


def crop_fields(images, image_index, positions, field: ReceptiveField, fill: float = 0.0
                ) -> np.ndarray:
    """The receptive-field patches of the units at ``positions`` (..., 2) in the images
    ``image_index`` (...) of ``images`` (N, H, W): -> (..., size, size), where the field
    leaves the image (into the padding) filled with ``fill``."""
    imgs = np.asarray(images)
    if imgs.ndim != 3:
        raise ValueError(f"images must be (N, H, W), got shape {imgs.shape}")
    image_index = np.asarray(image_index)
    positions = np.asarray(positions)
    if positions.shape != image_index.shape + (2,):
        raise ValueError(f"positions must be {image_index.shape + (2,)}, got {positions.shape}")
    s, pad = field.size, field.size
    padded = np.pad(imgs, ((0, 0), (pad, pad), (pad, pad)), constant_values=fill)
    out = np.empty(image_index.shape + (s, s), dtype=padded.dtype)
    for idx in np.ndindex(image_index.shape):
        top, left, _, _ = field.box(*positions[idx])
        out[idx] = padded[image_index[idx], top + pad:top + pad + s, left + pad:left + pad + s]
    return out


def class_purity(labels) -> np.ndarray:
    """(C, k) class labels of each unit's top k images -> (C,): the share of them that belong
    to the unit's commonest class (1/k when all differ, 1 when all agree)."""
    labels = np.asarray(labels)
    if labels.ndim != 2 or labels.shape[1] < 1:
        raise ValueError(f"labels must be (C, k), got shape {labels.shape}")
    return np.array([np.bincount(row).max() / len(row) for row in labels.astype(np.int64)])
