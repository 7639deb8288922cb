"""Small matplotlib helpers shared by the preview, the demo and the report figures."""

from __future__ import annotations


def pyplot():
    """matplotlib.pyplot on the file-only Agg backend (no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def draw_row(axes, row: int, panels, titles, fontsize: int = 10) -> None:
    """Shows `panels` (images) in row `row` of an axes grid, titled on the first row."""
    for col, panel in enumerate(panels):
        ax = axes[row, col]
        ax.imshow(panel, interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        if row == 0:
            ax.set_title(titles[col], fontsize=fontsize)
