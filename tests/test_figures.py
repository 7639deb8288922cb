"""Figures: the simulator preview, loss curves, the demo's Figure 1 (in test_demo), and the
spread of the examples they show."""

import cv2

from spigan.cli import main
from spigan.figures import loss_figure, plot_losses, pyplot, spread


def test_sim_preview_writes_a_grid(tmp_path):
    out = tmp_path / "preview.png"
    assert main(["sim", "preview", "--out", str(out), "--scenes", "2", "--size", "48x96"]) == 0
    image = cv2.imread(str(out))
    assert image is not None and image.shape[0] > 100 and image.shape[1] > 300
    assert image.std() > 20  # not a blank canvas


def test_loss_curves_leave_out_terms_a_method_lacks(tmp_path):
    history = [{"iteration": i, "task_source": 1.0 / i, "task_adapted": 0.0, "discriminator": 0.25,
                "adversarial": 0.3} for i in range(1, 6)]
    path = plot_losses(history, 3, tmp_path / "losses.png", "toy")
    image = cv2.imread(str(path))
    assert image.shape[1] > 800 and image.std() > 10


def test_loss_curves_of_a_single_row_show_its_points_and_every_scale(tmp_path):
    """Issue 24.6: a run shorter than log_every drew single points without markers (blank
    panels), and L_P in metres (about 60) flattened the terms near 1."""
    row = {"iteration": 1, "task_source": 2.5, "task_adapted": 2.4, "perceptual": 1.1, "privileged_source": 61.0,
           "privileged_adapted": 58.0, "discriminator": 0.25, "adversarial": 0.3,
           **{f"generator_gradient_share/{t}": 0.25 for t in ("adversarial", "task", "privileged", "perceptual")}}
    fig = loss_figure([row], None)
    terms, adversarial, shares = fig.axes[:3]
    assert terms.get_yscale() == "log"
    for ax, count in ((terms, 5), (adversarial, 2), (shares, 4)):
        assert len(ax.lines) == count
        assert all(line.get_marker() == "o" and len(line.get_xdata()) == 1 for line in ax.lines)
    pyplot().close(fig)
    two = loss_figure([row, {**row, "iteration": 20}], None)  # lines of two or more points need no markers
    assert all(line.get_marker() in (None, "None", "") for line in two.axes[0].lines)
    pyplot().close(two)


def test_figure_examples_are_spread_over_the_split():
    assert spread(10, 4) == [0, 3, 6, 9]
    assert spread(3, 3) == [0, 1, 2]
