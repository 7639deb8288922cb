"""The ablation report: aggregation over seeds and negative transfer on hand-made results."""

import json

import numpy as np
import pytest
import yaml

from spigan.config import Config, to_dict
from spigan.errors import SpiganError
from spigan.report import aggregate, load_runs


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
    with pytest.raises(SpiganError, match="different protocols"):
        load_runs([a, b])


def test_one_seed_shows_no_spread_and_the_evaluation_size(tmp_path):
    from spigan.report import markdown, starts_markdown

    runs = load_runs([fake_run(tmp_path / "so0", "source_only", 0, 0.30, [0.5], 0.3),
                      fake_run(tmp_path / "sp0", "spigan", 0, 0.40, [0.6], 0.4)])
    text = markdown(aggregate(runs, "default"), "t")
    assert "± " not in text and "one seed (no spread)" in text and "scored at: native" in text
    assert "| spigan | 40.0 |" in text.replace("**", "") or "**40.0**" in text
    assert starts_markdown(runs) == ""  # no run started from another's weights: no section (as before warm starts)


def test_gradient_shares_are_summarised_per_method(tmp_path):
    from spigan.report import gradient_shares, shares_markdown

    runs = []
    for seed, privileged in ((0, [0.1, 0.2, 0.3]), (1, [0.3, 0.3, 0.3])):
        folder = fake_run(tmp_path / f"sp{seed}", "spigan", seed, 0.4, [0.5], 0.4)
        rows = [{"iteration": i, "generator_gradient_share/adversarial": 1 - p, "generator_gradient_share/task": 0.0,
                 "generator_gradient_share/privileged": p, "generator_gradient_share/perceptual": 0.0}
                for i, p in enumerate(privileged)]
        (folder / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
        runs.append(folder)
    shares = gradient_shares(load_runs(runs))
    assert shares["spigan"]["privileged"] == pytest.approx((0.25, 0.05))  # medians 0.2 and 0.3
    assert "γ·L_P(G(x_s))" in shares_markdown(shares) and "25.0 ± 5.0" in shares_markdown(shares)
