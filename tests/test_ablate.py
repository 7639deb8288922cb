"""The ablation: aggregation on hand-made results, resumability, and the figures."""

import json
import os
import signal

import cv2
import numpy as np
import pytest
import yaml

from spigan import train as train_module
from spigan.ablate import ablate, run_config
from spigan.cli import main
from spigan.config import Config, load_config, to_dict
from spigan.errors import SpiganError
from spigan.report import aggregate, load_runs
from spigan.train import Interrupted
from test_train import TINY


def fake_run(folder, method, seed, miou, per_image, iou_a, default="last"):
    folder.mkdir(parents=True)
    cfg = to_dict(Config())
    cfg["train"]["method"], cfg["train"]["seed"] = method, seed
    (folder / "config.yaml").write_text(yaml.safe_dump(cfg))
    scores = {"miou": miou, "iou": {"a": iou_a, "b": None}, "per_image_miou": per_image}
    results = {"protocol": "toy", "default": default, "checkpoints": {"last": scores, default: scores},
               "early_stopping_iteration": 40 if default == "early_stop" else None}
    (folder / "results.json").write_text(json.dumps(results))
    return folder


def test_aggregation_by_hand(tmp_path):
    runs = load_runs([
        fake_run(tmp_path / "so0", "source_only", 0, 0.30, [0.5, 0.5, 0.2], 0.3),
        fake_run(tmp_path / "so1", "source_only", 1, 0.20, [0.1, 0.1, 0.1], 0.2),
        fake_run(tmp_path / "sp0", "spigan", 0, 0.40, [0.6, 0.4, None], 0.4, default="early_stop"),
        fake_run(tmp_path / "sp1", "spigan", 1, 0.50, [0.0, 0.2, 0.3], 0.5, default="early_stop"),
    ])
    table = aggregate(runs, "default")
    sp = table["methods"]["spigan"]
    assert sp["miou"] == pytest.approx((0.45, 0.05))  # mean, population std over seeds
    assert [s["seed"] for s in sp["seeds"]] == [0, 1] and sp["seeds"][0]["checkpoint"] == "early_stop"
    # seed 0: image 1 lower (0.4 < 0.5), image 0 higher, image 2 n/a -> 1/2; seed 1: 1/3 lower (0.0 < 0.1)
    assert sp["seeds"][0]["negative_transfer"] == pytest.approx(0.5)
    assert sp["seeds"][1]["negative_transfer"] == pytest.approx(1 / 3)
    assert sp["negative_transfer"][0] == pytest.approx((0.5 + 1 / 3) / 2)
    assert table["methods"]["source_only"]["iou"]["a"] == pytest.approx((0.25, 0.05))
    assert np.isnan(table["methods"]["source_only"]["iou"]["b"][0])  # n/a in every seed
    assert "negative_transfer" not in table["methods"]["source_only"]


def test_runs_with_different_protocols_are_refused(tmp_path):
    a = fake_run(tmp_path / "a", "spigan", 0, 0.4, [0.4], 0.4)
    b = fake_run(tmp_path / "b", "spigan", 1, 0.4, [0.4], 0.4)
    results = json.loads((b / "results.json").read_text())
    results["protocol"] = "other"
    (b / "results.json").write_text(json.dumps(results))
    from spigan.errors import SpiganError

    with pytest.raises(SpiganError, match="different protocols"):
        load_runs([a, b])


def test_killed_ablation_continues_without_redoing_finished_runs(tmp_path, monkeypatch):
    config = tmp_path / "tiny.yaml"
    config.write_text("name: tiny\n")
    overrides = TINY + [f"data.cache_dir={tmp_path / 'cache'}", "train.iterations=2", "train.checkpoint_every=1",
                        "train.log_every=1", "data.val_frames=4"]
    real = train_module.run_iteration
    calls = {"n": 0}

    def interrupting(*args, **kwargs):  # SIGINT during the 2nd iteration of the 3rd run (no_pi)
        calls["n"] += 1
        if calls["n"] == 6:
            os.kill(os.getpid(), signal.SIGINT)
        return real(*args, **kwargs)

    monkeypatch.setattr(train_module, "run_iteration", interrupting)
    with pytest.raises(Interrupted):
        ablate(config, 1, tmp_path / "abl", overrides, progress=False)
    assert (tmp_path / "abl" / "source_only-s0" / "results.json").exists()
    assert (tmp_path / "abl" / "base-s0" / "results.json").exists()
    assert not (tmp_path / "abl" / "no_pi-s0" / "results.json").exists()
    assert (tmp_path / "abl" / "no_pi-s0" / "checkpoints" / "last.pt").exists()
    finished = {m: (tmp_path / "abl" / f"{m}-s0" / "results.json").stat().st_mtime_ns for m in ("source_only", "base")}

    monkeypatch.setattr(train_module, "run_iteration", real)
    resumed = []
    real_resume = train_module.resume_run
    monkeypatch.setattr(train_module, "resume_run",
                        lambda d, p=True, **kw: resumed.append(d.name) or real_resume(d, p, **kw))
    tables = ablate(config, 1, tmp_path / "abl", overrides, progress=False)
    assert resumed == ["no_pi-s0"]
    for m, stamp in finished.items():
        assert (tmp_path / "abl" / f"{m}-s0" / "results.json").stat().st_mtime_ns == stamp  # not redone
    assert set(tables["default"]["methods"]) == {"source_only", "base", "no_pi", "spigan", "target_only"}
    for name in ("report.md", "report.csv", "report.json"):
        assert (tmp_path / "abl" / name).stat().st_size > 200
    figures = {os.path.basename(k): v for k, v in tables["figures"].items()}
    assert figures["segmentation.png"] == (4, 5)  # photo, source_only, no_pi, spigan, ground truth
    assert figures["adaptation.png"] == (4, 3)  # source frame, no_pi, spigan
    assert {"losses_spigan.png", "losses_no_pi.png", "losses_base.png"} <= set(figures)
    for name in figures:
        image = cv2.imread(str(tmp_path / "abl" / "figures" / name))
        assert image.shape[0] > 200 and image.shape[1] > 400 and image.std() > 20

    # --methods reports a subset, reusing the finished runs
    assert main(["ablate", str(config), *overrides, "--seeds", "1", "--out", str(tmp_path / "abl"), "--quiet",
                 "--methods", "spigan", "source_only"]) == 0
    report = json.loads((tmp_path / "abl" / "report.json").read_text())
    assert set(report["default"]["methods"]) == {"source_only", "spigan"}


def test_figure_examples_are_spread_over_the_split():
    from spigan.report import spread

    assert spread(10, 4) == [0, 3, 6, 9]
    assert spread(3, 3) == [0, 1, 2]


def test_out_folder_of_another_configuration_is_refused(tmp_path):
    config = tmp_path / "tiny.yaml"
    config.write_text("name: tiny\n")
    overrides = TINY + [f"data.cache_dir={tmp_path / 'cache'}", "train.iterations=1", "data.val_frames=2"]
    saved = to_dict(run_config(load_config(config, overrides), "source_only", 0))
    del saved["train"]["channels_last"]  # saved before that option existed: still the same configuration
    (tmp_path / "abl" / "source_only-s0").mkdir(parents=True)
    (tmp_path / "abl" / "source_only-s0" / "config.yaml").write_text(yaml.safe_dump(saved))
    ablate(config, 1, tmp_path / "abl", overrides, methods=("source_only",), progress=False)

    saved["train"]["lr"] = 0.5
    (tmp_path / "other" / "source_only-s0").mkdir(parents=True)
    (tmp_path / "other" / "source_only-s0" / "config.yaml").write_text(yaml.safe_dump(saved))
    with pytest.raises(SpiganError, match="another configuration"):
        ablate(config, 1, tmp_path / "other", overrides, methods=("source_only",), progress=False)


def test_parallel_runs_equal_sequential_ones(tmp_path):
    """--jobs 2 trains in two worker processes with one thread each: the same losses and
    scores as one run after the other with one thread."""
    config = tmp_path / "tiny.yaml"
    config.write_text("name: tiny\n")
    overrides = TINY + [f"data.cache_dir={tmp_path / 'cache'}", "train.iterations=2", "data.val_frames=2",
                        "train.threads=1"]
    methods = ("source_only", "base")
    ablate(config, 1, tmp_path / "seq", overrides, methods=methods, progress=False)
    ablate(config, 1, tmp_path / "par", overrides[:-1], methods=methods, progress=False, jobs=2)
    for m in methods:
        seq, par = (json.loads((tmp_path / d / f"{m}-s0" / "results.json").read_text()) for d in ("seq", "par"))
        assert par["threads"] == {"setting": 1, "min": 1, "max": 1}
        assert par["checkpoints"]["last"]["miou"] == seq["checkpoints"]["last"]["miou"]
        rows = [(tmp_path / d / f"{m}-s0" / "metrics.jsonl").read_text().splitlines() for d in ("seq", "par")]
        strip = lambda line: {k: v for k, v in json.loads(line).items() if not k.startswith("time/")}  # noqa: E731
        assert [strip(r) for r in rows[0]] == [strip(r) for r in rows[1]]


def test_bad_ablation_counts_are_refused(tmp_path):
    with pytest.raises(SpiganError, match="--seeds"):
        ablate(tmp_path / "none.yaml", 0, tmp_path / "abl")
    with pytest.raises(SpiganError, match="--jobs"):
        ablate(tmp_path / "none.yaml", 1, tmp_path / "abl", jobs=0)
