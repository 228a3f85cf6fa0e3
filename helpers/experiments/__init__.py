"""The chapters' experiments: code that exists to run one chapter's measurement, one module per
experiment, named by what it studies. The reusable ideas (layers, models, receptive fields,
training) live one level up, in :mod:`helpers`.

    chapter 1  translation       digits moved around a canvas: does a network still see them?
               locality          how strongly a pixel predicts its neighbours, by distance
               scaling           fit y = c * x**a to measured costs (also chapter 9)
    chapter 3  invariance        how much a feature map changes when the input shifts 1-3 px
    chapter 4  learned_filters   how much structure (orientation, smoothness) is in filters
               patch_ica         filters learned without labels from colour photo patches (ICA)
    chapter 5  effective_field   receptive fields measured layer by layer; the effective field
    chapter 6  lenet_mnist       the one LeNet-5 recipe (the chapter's run, the explorer's weights)
               training_recipes  ReLU against tanh; dropout and random shifts
    chapter 7  depth             plain against residual networks as depth grows

    >>> from helpers.experiments.translation import translation_datasets
"""
from helpers.data import FASHION_NORM, MNIST_NORM
from helpers.experiments.depth import (
    block_gradient_norms,
    block_gradient_rms,
    depth_sweep,
    downsample,
    last_epoch_error,
    residual_stages,
    strip_batchnorm,
)
from helpers.experiments.effective_field import (
    MeasuredRow,
    central_mass,
    conv_stack,
    draw_effective_field,
    effective_receptive_field,
    gaussian_fit,
    measured_markdown,
    measured_table,
    one_channel_copy,
)
from helpers.experiments.invariance import relative_change, shift_sensitivity, shifted_crops
from helpers.experiments.learned_filters import (
    dominant_orientation,
    filter_structure,
    fraction_oriented,
    neighbour_correlation,
    orientation_coherence,
)
from helpers.experiments.locality import correlation_at_distance, correlation_profile, pixel_pairs
from helpers.experiments.scaling import PowerLaw, fit_power_law, time_call
from helpers.experiments.training_recipes import (
    AugmentedLoader,
    random_shift,
    steps_to_error,
    train_and_score,
)
from helpers.experiments.translation import (
    CORNERS,
    corner_names,
    ink_extent,
    place_on_canvas,
    shifted_from_centre,
    translation_datasets,
)

__all__ = [
    # chapter 1
    "CORNERS", "corner_names", "ink_extent", "place_on_canvas", "shifted_from_centre",
    "translation_datasets", "correlation_at_distance", "correlation_profile", "pixel_pairs",
    "PowerLaw", "fit_power_law", "time_call",
    # chapter 3
    "relative_change", "shift_sensitivity", "shifted_crops",
    # chapter 4
    "dominant_orientation", "filter_structure", "fraction_oriented", "neighbour_correlation",
    "orientation_coherence",
    # chapter 5
    "MeasuredRow", "central_mass", "conv_stack", "draw_effective_field",
    "effective_receptive_field", "gaussian_fit", "measured_markdown", "measured_table",
    "one_channel_copy",
    # chapter 6 (MNIST_NORM, FASHION_NORM are defined in helpers.data)
    "FASHION_NORM", "MNIST_NORM", "AugmentedLoader", "random_shift", "steps_to_error",
    "train_and_score",
    # chapter 7
    "block_gradient_norms", "block_gradient_rms", "depth_sweep", "downsample", "last_epoch_error",
    "residual_stages", "strip_batchnorm",
]
