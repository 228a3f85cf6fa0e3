"""Helpers for the CNN course: what the chapters import, in the order the book needs it.

Every public function is tested against PyTorch in ``tests/`` (the tests mirror this layout).

Throughout the book
    device          get_device, seed_everything, to_numpy: one place for devices and seeds
    data            load_mnist, load_fashion_mnist, load_image (checked against SHA256SUMS)
    train           make_loader, fit, evaluate, subset: one small training loop
    summary         count_parameters, count_macs, parameter_breakdown, summary
    claims          claim: a sentence of the text, checked against the value it quotes;
                    computed: a quoted number that could not have failed; below: a bound
    plots           every figure: plots.figures, plots.animation, plots.explorers (widgets)
    exercises       check_<name>: one checker per exercise, chapter by chapter

Chapter 1  Why not fully connected?
    models.mlp, models.small_cnn; experiments.translation, experiments.locality,
    experiments.scaling
Chapter 2  Convolution and padding
    layers          conv2d_naive (loops), im2col, conv2d, Conv2d, conv_output_size: from scratch
    filters         hand-made kernels (Sobel, blur, sharpen) and what they find
Chapter 3  Stride and pooling
    layers          max_pool2d, avg_pool2d, MaxPool2d, AvgPool2d, blur_pool2d (anti-aliased);
                    experiments.invariance
Chapter 4  Feature maps
    plots.figures   show_filters, show_feature_maps; plots.feature_maps (signed maps, colour
                    filters); experiments.learned_filters, experiments.patch_ica
Chapter 5  Receptive fields
    receptive_field receptive_field (analytic), measured_receptive_field (by gradients);
                    experiments.effective_field, plots.explorers
Chapter 6  LeNet, AlexNet, VGG
    models.lenet, models.alexnet, models.vgg; experiments.training_recipes,
                    experiments.lenet_mnist (the one LeNet-5 recipe: chapter and explorer);
                    plots.architectures (architecture_diagram, cost_chart)
    digits          preprocess_digit (a drawing made MNIST-like: fit 20x20, centre of mass to
                    the centre), lenet_maps; plots.lenet_digit (digit_explorer: draw a digit)
Chapter 7  Residual networks
    models.resnet (BasicBlock, PlainBlock, PreActBlock, Bottleneck, cifar_resnet, plain_net);
    experiments.depth; plots.blocks (block diagrams drawn from the zoo's blocks)
Chapter 8  What a trained network sees
    attribution     occlusion, saliency, smoothgrad, integrated_gradients, class_activation_map,
                    grad_cam, rank_correlation, randomize_top_layers (sanity checks), fgsm, pgd,
                    visualise_unit, top_patches; plots.attribution (maps, cascade, robustness)
Chapter 9  Vision transformers
    attention       scaled_dot_product_attention, MultiHeadSelfAttention
    memory          largest_tensor_bytes: the largest tensor a call creates (fused attention)
    models.vit, models.mobilenet, models.convnext; experiments.scaling, experiments.data_size;
    plots.vit_diagram (the ViT pipeline, attention maps, accuracy against data)
Chapter 10 Summary
    models          get_model, MODEL_NAMES: the whole zoo by name; summary.parameter_breakdown

``helpers.experiments`` holds code that exists to run one chapter's experiment;
``helpers.models`` one model family per module, each small variant beside its family.
"""
# The imports follow the book, not the alphabet.
# ruff: noqa: I001

# throughout the book
from helpers.claims import claim
from helpers.data import load_fashion_mnist, load_image, load_mnist
from helpers.device import get_device, seed_everything, to_numpy
from helpers.train import History, evaluate, fit, make_loader, steps_to_reach, subset
from helpers.summary import count_macs, count_parameters, parameter_breakdown, summary

# chapters 2-3: the layers, from scratch
from helpers.layers import (
    AvgPool2d,
    Conv2d,
    MaxPool2d,
    avg_pool2d,
    conv2d,
    conv2d_naive,
    conv2d_naive_backward,
    conv_output_size,
    im2col,
    max_pool2d,
)

# chapter 5: receptive fields
from helpers.receptive_field import ReceptiveField, measured_receptive_field, receptive_field

# chapters 6-10: the model zoo; chapter 6: a drawn digit made MNIST-like
from helpers.models import MODEL_NAMES, get_model
from helpers.digits import preprocess_digit

# chapter 9: attention
from helpers.attention import MultiHeadSelfAttention, scaled_dot_product_attention

__all__ = [
    # throughout the book
    "claim", "load_fashion_mnist", "load_image", "load_mnist", "get_device", "seed_everything",
    "to_numpy", "History", "evaluate", "fit", "make_loader", "steps_to_reach", "subset",
    "count_macs", "count_parameters", "parameter_breakdown", "summary",
    # chapters 2-3
    "AvgPool2d", "Conv2d", "MaxPool2d", "avg_pool2d", "conv2d", "conv2d_naive",
    "conv2d_naive_backward", "conv_output_size", "im2col", "max_pool2d",
    # chapter 5
    "ReceptiveField", "measured_receptive_field", "receptive_field",
    # chapters 6-10
    "MODEL_NAMES", "get_model", "preprocess_digit",
    # chapter 9
    "MultiHeadSelfAttention", "scaled_dot_product_attention",
]
