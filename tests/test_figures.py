"""Figures: the simulator preview, loss curves, the demo's Figure 1 (in test_demo), and the
spread of the examples they show."""

import cv2

from spigan.cli import main
from spigan.figures import plot_losses, spread


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


def test_figure_examples_are_spread_over_the_split():
    assert spread(10, 4) == [0, 3, 6, 9]
    assert spread(3, 3) == [0, 1, 2]
