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
    return it; if drawing fails, close the figures it opened. Every figure of the course is drawn
    through this."""
    @wraps(func)
    def wrapper(*args, **kwargs):
        import matplotlib
        import matplotlib.pyplot as plt

        style = {**LIGHT, "axes.prop_cycle": matplotlib.rcParamsDefault["axes.prop_cycle"]}
        before = set(plt.get_fignums())
        try:
            with plt.rc_context(style):
                fig = func(*args, **kwargs)
        except Exception:              # a bad argument found mid-drawing: no figure left open
            for number in set(plt.get_fignums()) - before:
                plt.close(number)
            raise
        fig.patch.set_facecolor("white")
        plt.close(fig)
        return fig
    return wrapper


def finish_axes(ax, xlabel: str | None = None, ylabel: str | None = None, *,
                title: str | None = None, legend: str | None = None, grid: float | None = 0.3,
                label_size: float | None = None, title_size: float | None = 10,
                legend_size: float = 9, tight: bool = True):
    """The lines that end most of the course's plots, in one call: axis labels (at
    ``label_size``, or matplotlib's size when None), a grid at opacity ``grid`` (None: no
    grid), a legend at ``legend`` (a matplotlib ``loc``, such as "upper left" or "best"; None:
    no legend), the title when one is given (at ``title_size``; None: matplotlib's title size),
    then ``tight_layout`` of the figure (``tight``).
    Returns the Axes' figure, so a plotting function can end with ``return finish_axes(...)``.
    """
    if grid is not None and not 0 <= grid <= 1:
        raise ValueError(f"grid is an opacity in [0, 1] or None, got {grid!r}")
    size = {} if label_size is None else {"fontsize": label_size}
    if xlabel is not None:
        ax.set_xlabel(xlabel, **size)
    if ylabel is not None:
        ax.set_ylabel(ylabel, **size)
    if grid is not None:
        ax.grid(True, alpha=grid)
    if legend is not None:
        ax.legend(fontsize=legend_size, loc=legend)
    if title:
        ax.set_title(title, **({} if title_size is None else {"fontsize": title_size}))
    if tight:
        ax.figure.tight_layout()
    return ax.figure
