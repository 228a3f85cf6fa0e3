"""The one look every figure of the course shares: black on white, whatever the matplotlib
style or the notebook theme, and the same colours for receptive fields in every chapter.

matplotlib is imported only when a figure is drawn, so ``import helpers`` (and every chapter
experiment) works where matplotlib is not installed."""
from __future__ import annotations

from functools import wraps

LIGHT = {
    "figure.facecolor": "white", "axes.facecolor": "white", "savefig.facecolor": "white",
    "axes.edgecolor": "black", "axes.labelcolor": "black", "text.color": "black",
    "xtick.color": "black", "ytick.color": "black", "grid.color": "#b0b0b0",
    "legend.facecolor": "white", "legend.edgecolor": "#cccccc",
}   # plus matplotlib's default colour cycle, whatever the current style's is
RF_COLOURS = ("#d62728", "#ff7f0e", "#2ca02c", "#1f77b4", "#9467bd", "#8c564b")


def light_figure(func):
    """Decorate a function that returns a Figure: draw it inside the white-background style
    :data:`LIGHT`, close it in pyplot (so a notebook shows it once, as the cell's value) and
    return it. Every figure of the course is drawn through this."""
    @wraps(func)
    def wrapper(*args, **kwargs):
        import matplotlib
        import matplotlib.pyplot as plt

        style = {**LIGHT, "axes.prop_cycle": matplotlib.rcParamsDefault["axes.prop_cycle"]}
        with plt.rc_context(style):
            fig = func(*args, **kwargs)
        fig.patch.set_facecolor("white")
        plt.close(fig)
        return fig
    return wrapper
