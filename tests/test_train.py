"""A few iterations of the real train(), evaluate and predict on tiny frames, in process."""

import json

import cv2
import numpy as np
import pytest

from spigan.cli import main
from spigan.config import EarlyStoppingConfig, load_config
from spigan.train import EarlyStopping, load_checkpoint, train

TINY = ["model.generator_width=4", "model.generator_blocks=1", "model.discriminator_width=4",
        "model.fcn_width=8", "model.fcn_fc_dim=16", "model.perceptual_width=8", "model.fcn_input_padding=1",
        "data.size=[32,64]", "data.crop=[32,32]", "data.source_frames=4", "data.target_frames=4",
        "data.val_frames=3", "train.batch_size=2", "train.log_every=1", "train.checkpoint_every=2",
        "train.generator_steps=2"]


def tiny_config(tmp_path, *extra):
    return load_config(None, TINY + [f"data.cache_dir={tmp_path / 'cache'}", *extra])


@pytest.fixture(scope="module")
def spigan_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("run")
    cfg = tiny_config(tmp, "train.iterations=3", "early_stopping.warmup=1", "early_stopping.patience=1",
                      "early_stopping.margin=-100")  # fires at once, so both checkpoints exist
    results = train(cfg, tmp / "spigan", progress=False)
    return tmp, results


def test_run_directory_contents(spigan_run):
    tmp, results = spigan_run
    run = tmp / "spigan"
    assert (run / "config.yaml").exists()
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["iteration"] for r in rows] == [1, 2, 3]
    for term in ("discriminator", "adversarial", "task_source", "task_adapted", "privileged_source",
                 "privileged_adapted", "perceptual", "total"):
        assert all(np.isfinite(r[term]) for r in rows), term
    assert list((run / "tensorboard").glob("events.out.tfevents.*"))
    assert (run / "figures" / "losses.png").stat().st_size > 10_000
    state = load_checkpoint(run / "checkpoints" / "last.pt")
    assert set(state["networks"]) == {"task", "generator", "discriminator", "privileged"}
    assert set(state["optimizers"]) == set(state["networks"]) and state["iteration"] == 3
    assert state["early_stopping"]["fired_at"] == 1
    assert (run / "checkpoints" / "early_stop.pt").exists()
    assert results["early_stopping_iteration"] == 1 and results["default"] == "early_stop"
    assert set(results["checkpoints"]) == {"early_stop", "last"}
    assert results["imagenet_weights"] == {"task (VGG16)": False, "privileged (VGG16)": False,
                                           "perceptual φ (VGG19)": False}
    assert not list(run.glob("checkpoints/.*.tmp"))


def test_same_seed_same_losses(tmp_path):
    def losses(name):
        train(tiny_config(tmp_path, "train.iterations=3"), tmp_path / name, progress=False)
        return [json.loads(line) for line in (tmp_path / name / "metrics.jsonl").read_text().splitlines()]

    a, b = losses("a"), losses("b")
    for ra, rb in zip(a, b):
        assert {k: v for k, v in ra.items() if not k.startswith("time")} == \
               {k: v for k, v in rb.items() if not k.startswith("time")}


def test_channels_last_same_losses(tmp_path):
    def losses(name, *extra):
        train(tiny_config(tmp_path, "train.iterations=2", *extra), tmp_path / name, progress=False)
        return [json.loads(line) for line in (tmp_path / name / "metrics.jsonl").read_text().splitlines()]

    for ra, rb in zip(losses("plain"), losses("cl", "train.channels_last=true")):
        for key in ("discriminator", "adversarial", "task_source", "task_adapted", "perceptual", "total"):
            assert rb[key] == pytest.approx(ra[key], rel=1e-4, abs=1e-5), key


def test_source_only_run_and_cli_evaluate_and_predict(spigan_run, capsys):
    tmp, _ = spigan_run
    cfg = tiny_config(tmp, "train.method=source_only", "train.iterations=2")
    results = train(cfg, tmp / "source_only", progress=False)
    assert results["default"] == "last" and results["early_stopping_iteration"] is None
    state = load_checkpoint(tmp / "source_only" / "checkpoints" / "last.pt")
    assert set(state["networks"]) == {"task"}

    out = tmp / "eval.json"
    assert main(["evaluate", str(tmp / "spigan" / "checkpoints" / "last.pt"), "--dataset", "sim", "--split", "val",
                 "--baseline", str(tmp / "source_only" / "checkpoints" / "last.pt"), "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "mIoU" in printed and "negative-transfer ratio" in printed
    scores = json.loads(out.read_text())
    assert scores["protocol"] == "16-class" and len(scores["per_image_miou"]) == 3
    assert 0 <= scores["negative_transfer"] <= 1

    image = tmp / "street.png"
    cv2.imwrite(str(image), np.random.default_rng(0).integers(0, 255, (40, 70, 3), dtype=np.uint8))
    assert main(["predict", str(tmp / "spigan" / "checkpoints" / "last.pt"), str(image), "--out", str(tmp / "pred")]) == 0
    seg = cv2.imread(str(tmp / "pred" / "street_seg.png"))
    depth = cv2.imread(str(tmp / "pred" / "street_depth.png"))
    assert seg.shape == (40, 70, 3) and depth.shape == (40, 70, 3)


def test_cli_errors_are_one_line(tmp_path, capsys):
    assert main(["evaluate", str(tmp_path / "nope.pt")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "nope.pt: checkpoint not found" in err
    bad = tmp_path / "bad.yaml"
    bad.write_text("train: {lrr: 1}\n")
    assert main(["train", str(bad)]) == 2
    assert "train.lrr: unknown key" in capsys.readouterr().err


def test_early_stopping_rule():
    rule = EarlyStopping(EarlyStoppingConfig(smoothing=0.0, margin=0.5, patience=3, warmup=20))
    # D under half of G from iteration 10 on; values before the warm-up (20) are ignored
    fired = [it for it in range(10, 100, 10) if rule.update(it, 0.1, 0.5)]
    assert fired == [40] and rule.fired_at == 40
    rule = EarlyStopping(EarlyStoppingConfig(smoothing=0.0, margin=0.5, patience=2, warmup=0))
    seq = [(0.1, 0.5), (0.3, 0.5), (0.1, 0.5), (0.1, 0.5)]  # 0.3 is not under half of 0.5: streak resets
    assert [rule.update(i, d, g) for i, (d, g) in enumerate(seq, 1)] == [False, False, False, True]


def test_early_stopping_smoothing_starts_at_warmup():
    rule = EarlyStopping(EarlyStoppingConfig(smoothing=0.5, margin=0.5, patience=1, warmup=2))
    assert not rule.update(1, 5.0, 0.1)  # ignored: before the warm-up
    assert rule.update(2, 0.1, 0.5) and rule.ema_discriminator == 0.1
    rule.update(3, 0.3, 0.5)
    assert rule.ema_discriminator == 0.5 * 0.1 + 0.5 * 0.3
