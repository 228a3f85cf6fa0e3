"""The course's exercises: one checker per exercise, ``check_<name>(fn)``.

In a notebook::

    from helpers.exercises import check_dense_params
    dense_params = check_dense_params(dense_params)   # prints a verdict, returns a function

Each chapter's checkers live in ``helpers/exercises/chNN.py`` and are imported below by name,
chapter by chapter; each module's ``EXERCISES`` list is collected into :data:`EXERCISES`
(``{"1.1": Exercise, ...}``). The framework is documented in :mod:`helpers.exercises.core`.
"""
from __future__ import annotations

from helpers.exercises import ch01, ch02, ch03, ch04, ch05, ch06, ch07, ch08, ch09
from helpers.exercises.ch01 import (
    check_correlation_at_distance,
    check_dense_params,
    check_image_to_vector,
    check_place_on_canvas,
)
from helpers.exercises.ch02 import (
    check_conv2d_im2col,
    check_diagonal_edge_filter,
    check_multichannel_by_hand,
    check_output_size,
)
from helpers.exercises.ch03 import (
    check_blur_downsample,
    check_max_pool_backward,
    check_max_pool_loops,
    check_stack_shapes,
)
from helpers.exercises.ch04 import (
    check_conv_stack_parameters,
    check_conv_volume,
    check_mean_aware_score,
)
from helpers.exercises.ch05 import (
    check_field_box,
    check_receptive_field_size,
    check_resnet_layers,
)
from helpers.exercises.ch06 import (
    check_conv_macs,
    check_dropout,
    check_layer_costs,
    check_shift_images,
    check_vgg_block,
)
from helpers.exercises.ch07 import (
    check_batch_norm,
    check_bottleneck_block,
    check_residual_block,
    check_shortcut_params,
)
from helpers.exercises.ch08 import check_attention, check_patchify, check_separable_params
from helpers.exercises.ch09 import check_design, check_field_per_million, check_stack_profile
from helpers.exercises.core import (
    Case,
    Exercise,
    Mistake,
    Verdict,
    check,
    checker,
    failing_case,
    is_reference,
    run_check,
)

CHAPTER_MODULES = (ch01, ch02, ch03, ch04, ch05, ch06, ch07, ch08, ch09)


def _collect(modules) -> dict[str, Exercise]:
    """``{"1.1": Exercise, ...}`` from the modules' ``EXERCISES`` lists, each number once and in
    its own chapter."""
    found: dict[str, Exercise] = {}
    for module in modules:
        chapter = str(int(module.__name__.rsplit(".ch", 1)[1]))
        for ex in module.EXERCISES:
            if ex.number.split(".")[0] != chapter:
                raise ValueError(f"{module.__name__}: Exercise {ex.number} belongs to another "
                                 "chapter")
            if ex.number in found:
                raise ValueError(f"{module.__name__}: Exercise {ex.number} is defined twice")
            found[ex.number] = ex
    return found


EXERCISES: dict[str, Exercise] = _collect(CHAPTER_MODULES)


def exercise(number: str) -> Exercise:
    """The Exercise with this number, e.g. ``exercise("1.2")``."""
    try:
        return EXERCISES[str(number)]
    except KeyError:
        raise ValueError(f"no exercise {number!r}; known: {sorted(EXERCISES)}") from None


__all__ = [
    "EXERCISES", "Case", "Exercise", "Mistake", "Verdict", "check", "checker", "exercise",
    "failing_case", "is_reference", "run_check",
    # chapter 1
    "check_correlation_at_distance", "check_dense_params", "check_image_to_vector",
    "check_place_on_canvas",
    # chapter 2
    "check_conv2d_im2col", "check_diagonal_edge_filter", "check_multichannel_by_hand",
    "check_output_size",
    # chapter 3
    "check_blur_downsample", "check_max_pool_backward", "check_max_pool_loops",
    "check_stack_shapes",
    # chapter 4
    "check_conv_stack_parameters", "check_conv_volume", "check_mean_aware_score",
    # chapter 5
    "check_field_box", "check_receptive_field_size", "check_resnet_layers",
    # chapter 6
    "check_conv_macs", "check_dropout", "check_layer_costs", "check_shift_images",
    "check_vgg_block",
    # chapter 7
    "check_batch_norm", "check_bottleneck_block", "check_residual_block",
    "check_shortcut_params",
    # chapter 8
    "check_attention", "check_patchify", "check_separable_params",
    # chapter 9
    "check_design", "check_field_per_million", "check_stack_profile",
]
