"""`spigan demo` end to end at tiny size: both runs, the table, Figure 1, and reuse."""

import json

import cv2

from spigan.demo import run_demo


def test_demo_writes_table_summary_and_figure_then_reuses_its_runs(tmp_path, tiny, capsys):
    overrides = tiny("train.iterations=2", "data.val_frames=4", "early_stopping.warmup=1",
                     "early_stopping.patience=1", "early_stopping.margin=-100")[1]
    summary = run_demo(tmp_path / "demo", overrides, progress=False)
    text = (tmp_path / "demo" / "results.md").read_text()
    assert "| class | source_only | spigan |" in text and "negative transfer" in text and "[16-class]" in text
    assert "random initialisation" in text  # no ImageNet weights here, and the table says so
    saved = json.loads((tmp_path / "demo" / "summary.json").read_text())
    assert saved["protocol"] == "16-class" and saved["early_stopping_iteration"] == 1
    assert abs(saved["gain"] - (saved["miou"]["spigan"] - saved["miou"]["source_only"])) < 1e-12
    assert summary["miou"] == saved["miou"]
    figure = cv2.imread(str(tmp_path / "demo" / "figure1.png"))
    assert figure is not None and figure.shape[1] > 1000 and figure.shape[0] > 300 and figure.std() > 20

    before = (tmp_path / "demo" / "spigan" / "results.json").stat().st_mtime_ns
    capsys.readouterr()
    run_demo(tmp_path / "demo", overrides, progress=False)
    assert "reusing the finished run" in capsys.readouterr().out
    assert (tmp_path / "demo" / "spigan" / "results.json").stat().st_mtime_ns == before
