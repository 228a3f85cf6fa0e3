"""Every figure of the course, in one place. Each function returns a matplotlib ``Figure``
(or an HTML animation) and never calls ``plt.show()``.

    figures.py    image_grid, show_filters, show_feature_maps, plot_history,
                  plot_receptive_field, plot_curve                   chapters 1-9
    animation.py  sliding_window_html, sliding_window_figure        chapters 2, 3
    explorers.py  conv_explorer, receptive_field_explorer (widgets, with a static picture
                  where no kernel runs), stride_schedule             chapter 5
    blocks.py     block_layout, draw_blocks: residual-block diagrams from the
                  zoo's modules                                     chapter 7
    style.py      LIGHT, RF_COLOURS, light_figure: the look every figure shares

    >>> from helpers.plots import image_grid, plot_curve
"""
from helpers.plots.animation import (
    sliding_window_animation,
    sliding_window_figure,
    sliding_window_html,
)
from helpers.plots.blocks import block_layout, draw_blocks
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
    "LIGHT", "RF_COLOURS", "block_layout", "conv_explorer", "draw_blocks", "image_grid",
    "light_figure", "plot_curve", "plot_history", "plot_receptive_field",
    "receptive_field_explorer", "show_feature_maps",
    "show_filters", "sliding_window_animation", "sliding_window_figure", "sliding_window_html",
    "stride_schedule",
]
