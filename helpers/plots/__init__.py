"""Every figure of the course, in one place. Each function returns a matplotlib ``Figure``
(or an HTML animation) and never calls ``plt.show()``.

    figures.py    image_grid, show_filters, show_feature_maps, plot_history,
                  plot_receptive_field, plot_curve                   chapters 1-9
    animation.py  sliding_window_html, sliding_window_figure        chapters 2, 3
    conv_diagrams.py  im2col_figure, multichannel_figure, full_correlation_figure,
                  padding_modes_figure: convolutions cell by cell    chapter 2
    explorers.py  conv_explorer, receptive_field_explorer (widgets, with a static picture
                  where no kernel runs), stride_schedule             chapter 5
    feature_maps.py  photo_and_channels, signed_maps, filters_before_after,
                  colour_filters                                   chapter 4
    receptive_fields.py  plot_field_by_layer, plot_version_gap,
                  plot_effective_growth                             chapter 5
    architectures.py  architecture_diagram, cost_chart, layer_boxes  chapter 6
    blocks.py     block_layout, draw_blocks: residual-block diagrams from the
                  zoo's modules                                     chapter 7
    attribution.py  image_table, cascade_plot, robustness_plot: maps beside their
                  images, the sanity check, accuracy under attack   chapter 8
    vit_diagram.py  plot_vit_pipeline, plot_attention_maps, plot_attention_share,
                  plot_accuracy_vs_data                             chapter 9
    style.py      LIGHT, RF_COLOURS, light_figure: the look every figure shares

    >>> from helpers.plots import image_grid, plot_curve
"""
from helpers.plots.animation import (
    sliding_window_animation,
    sliding_window_figure,
    sliding_window_html,
)
from helpers.plots.blocks import block_layout, draw_blocks
from helpers.plots.conv_diagrams import (
    full_correlation_figure,
    im2col_figure,
    multichannel_figure,
    padding_modes_figure,
)
from helpers.plots.explorers import conv_explorer, receptive_field_explorer, stride_schedule
from helpers.plots.figures import (
    image_grid,
    plot_curve,
    plot_history,
    plot_receptive_field,
    show_feature_maps,
    show_filters,
)
from helpers.plots.style import LIGHT, RF_COLOURS, light_figure

__all__ = [
    "LIGHT", "RF_COLOURS", "block_layout", "conv_explorer", "draw_blocks",
    "full_correlation_figure", "im2col_figure", "image_grid", "light_figure",
    "multichannel_figure", "padding_modes_figure", "plot_curve", "plot_history",
    "plot_receptive_field", "receptive_field_explorer", "show_feature_maps",
    "show_filters", "sliding_window_animation", "sliding_window_figure", "sliding_window_html",
    "stride_schedule",
]
