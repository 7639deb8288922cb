"""TensorBoard image panels and the optional target-validation curve: logged at their
cadence, and without changing what training computes."""

import json

import pytest

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from spigan.monitor import VALIDATION_TAG
from spigan.train import train


def losses(run):
    return [{k: v for k, v in json.loads(line).items() if not k.startswith("time")}
            for line in (run / "metrics.jsonl").read_text().splitlines()]


def events(run) -> EventAccumulator:
    acc = EventAccumulator(str(run / "tensorboard"), size_guidance={"images": 0, "scalars": 0})
    acc.Reload()
    return acc


def test_images_and_validation_are_logged_without_changing_the_losses(tmp_path, tiny_config):
    off = tiny_config("train.iterations=3", "train.image_every=0", "train.validate_every=0")
    on = tiny_config("train.iterations=3", "train.image_every=2", "train.validate_every=1")
    train(off, tmp_path / "off", progress=False)
    train(on, tmp_path / "on", progress=False)
    assert losses(tmp_path / "on") == losses(tmp_path / "off")

    acc = events(tmp_path / "on")
    tags = acc.Tags()
    assert {"images/source_0", "images/source_1", "images/target_0", "images/target_1"} <= set(tags["images"])
    source = acc.Images("images/source_0")
    assert [e.step for e in source] == [1, 2, 3]  # every image_every, and the first and the last
    # x_s | G(x_s) | P's depth | T(x_s) | y_s, each 32x64
    assert (source[0].width, source[0].height) == (5 * 64, 32)
    assert (acc.Images("images/target_0")[0].width, acc.Images("images/target_0")[0].height) == (3 * 64, 32)
    curve = acc.Scalars(VALIDATION_TAG)
    assert [e.step for e in curve] == [1, 2, 3] and all(0 <= e.value <= 1 for e in curve)
    assert not events(tmp_path / "off").Tags()["images"]
    assert VALIDATION_TAG not in events(tmp_path / "off").Tags()["scalars"]


def test_a_run_shorter_than_its_logging_intervals_logs_its_first_and_last_iterations(tmp_path, tiny_config):
    """Issue 24.6: with log_every 20 and image_every 500, a short run had one metrics row and
    no images. The row at iteration 1 closes no interval: the later rows are unchanged."""
    train(tiny_config("train.iterations=3", "train.image_every=0"), tmp_path / "every", progress=False)
    train(tiny_config("train.iterations=3", "train.log_every=20", "train.image_every=500"), tmp_path / "short",
          progress=False)
    every = [{k: v for k, v in r.items() if not k.startswith("generator_gradient")} for r in losses(tmp_path / "every")]
    short = losses(tmp_path / "short")
    assert [r["iteration"] for r in short] == [1, 3]
    assert short[0] == every[0]
    for key, value in short[1].items():  # iteration 3's row: the mean over iterations 1..3, as before
        if key != "iteration" and not key.startswith("generator_gradient"):  # measured at iteration 3 alone
            assert value == pytest.approx(sum(r[key] for r in every) / 3, rel=1e-9), key
    assert [e.step for e in events(tmp_path / "short").Images("images/source_0")] == [1, 3]
    assert (tmp_path / "short" / "figures" / "losses.png").exists()


def test_a_method_without_g_shows_the_image_its_segmentation_and_labels(tmp_path, tiny_config):
    train(tiny_config("train.method=source_only", "train.iterations=1", "train.image_every=1"), tmp_path / "run",
          progress=False)
    acc = events(tmp_path / "run")
    assert acc.Images("images/source_0")[0].width == 3 * 64


def test_a_split_it_cannot_read_turns_the_panels_off_with_one_warning(tiny_config, tmp_path, caplog):
    import logging

    import torch

    from spigan.build import build_networks
    from spigan.monitor import Monitor

    cfg = tiny_config("train.method=source_only", "data.target=camvid", f"data.target_root={tmp_path}")
    logged = []

    class Recorder:
        def image(self, *args):
            logged.append(args)

        text = scalar = image

    monitor = Monitor(cfg, build_networks(cfg, torch.device("cpu")), torch.device("cpu"), Recorder())
    with caplog.at_level(logging.WARNING, logger="spigan"):
        monitor.after(500)
        monitor.after(1000)
    assert caplog.text.count("train.image_every: TensorBoard logging off for this run") == 1
    assert "folder not found" in caplog.text and not logged
