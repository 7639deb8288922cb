"""`spigan evaluate` and `spigan predict` on a finished tiny run."""

import json

import cv2
import numpy as np

from spigan.cli import main


def test_cli_evaluate_with_a_baseline(finished_run, tmp_path, capsys):
    folder, _ = finished_run
    out = tmp_path / "eval.json"
    assert main(["evaluate", str(folder / "spigan" / "checkpoints" / "last.pt"), "--dataset", "sim", "--split", "val",
                 "--baseline", str(folder / "source_only" / "checkpoints" / "last.pt"), "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "mIoU" in printed and "negative-transfer ratio" in printed
    scores = json.loads(out.read_text())
    assert scores["protocol"] == "16-class" and len(scores["per_image_miou"]) == 3
    assert 0 <= scores["negative_transfer"] <= 1


def test_cli_predict_writes_segmentation_and_depth_at_the_image_size(finished_run, tmp_path):
    folder, _ = finished_run
    image = tmp_path / "street.png"
    cv2.imwrite(str(image), np.random.default_rng(0).integers(0, 255, (40, 70, 3), dtype=np.uint8))
    assert main(["predict", str(folder / "spigan" / "checkpoints" / "last.pt"), str(image), "--out",
                 str(tmp_path / "pred")]) == 0
    seg = cv2.imread(str(tmp_path / "pred" / "street_seg.png"))
    depth = cv2.imread(str(tmp_path / "pred" / "street_depth.png"))
    assert seg.shape == (40, 70, 3) and depth.shape == (40, 70, 3)


def test_cli_errors_are_one_line(tmp_path, capsys):
    assert main(["evaluate", str(tmp_path / "nope.pt")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "nope.pt: checkpoint not found" in err
    bad = tmp_path / "bad.yaml"
    bad.write_text("train: {lrr: 1}\n")
    assert main(["train", str(bad)]) == 2
    assert "train.lrr: unknown key" in capsys.readouterr().err


def test_cli_evaluate_on_a_real_layout_with_frames_and_the_papers_evaluation_size(finished_run, tmp_path):
    from spigan.data.export import export

    folder, _ = finished_run
    export("photo", 3, 48, 96, tmp_path / "cityscapes", split="val", progress=False)
    ckpt = str(folder / "spigan" / "checkpoints" / "last.pt")
    for size, expected in (("native", "native"), ("train", "32x64 (labels resized")):
        out = tmp_path / f"{size}.json"
        assert main(["evaluate", ckpt, "--dataset", "cityscapes", "--root", str(tmp_path / "cityscapes"), "--frames",
                     "2", "--eval-size", size, "--json", str(out)]) == 0
        scores = json.loads(out.read_text())
        assert len(scores["per_image_miou"]) == 2 and scores["eval_size"].startswith(expected)
