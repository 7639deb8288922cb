"""`spigan evaluate` and `spigan predict` (files, folders, globs, videos) on a finished tiny run."""

import json

import cv2
import numpy as np

import spigan
from spigan.cli import main
from spigan.predict import gather_inputs


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


def test_cli_predict_writes_labels_colours_overlay_and_depth_at_the_image_size(finished_run, tmp_path, capsys):
    folder, _ = finished_run
    image = tmp_path / "street.png"
    rgb = np.random.default_rng(0).integers(0, 255, (40, 70, 3), dtype=np.uint8)
    cv2.imwrite(str(image), rgb[..., ::-1])
    ckpt = folder / "spigan" / "checkpoints" / "last.pt"
    assert main(["predict", str(ckpt), str(image), "--out", str(tmp_path / "pred"), "--quiet"]) == 0
    assert capsys.readouterr().out.strip() == f"wrote 6 file(s) for 1 image(s) under {tmp_path / 'pred'}"
    assert sorted(p.name for p in (tmp_path / "pred").iterdir()) == [
        "classes.json", "street_color.png", "street_depth.png", "street_depth_cm.png", "street_labels.png",
        "street_overlay.png"]
    labels = cv2.imread(str(tmp_path / "pred" / "street_labels.png"), cv2.IMREAD_UNCHANGED)
    model = spigan.load(ckpt, device="cpu")
    assert labels.shape == (40, 70) and labels.dtype == np.uint8
    assert np.array_equal(labels, model.segment(rgb))  # training-ontology indices
    color = cv2.imread(str(tmp_path / "pred" / "street_color.png"))[..., ::-1]
    assert np.array_equal(color, model.colorize(labels))
    for kind in ("overlay", "depth"):
        assert cv2.imread(str(tmp_path / "pred" / f"street_{kind}.png")).shape == (40, 70, 3)


def test_predict_writes_metric_depth_in_centimetres_and_the_classes(finished_run, tmp_path):
    """Issue 24.4: depth came only as a colour picture; NAME_depth_cm.png holds the numbers."""
    folder, _ = finished_run
    rgb = np.random.default_rng(1).integers(0, 255, (40, 70, 3), dtype=np.uint8)
    cv2.imwrite(str(tmp_path / "street.png"), rgb[..., ::-1])
    assert main(["predict", str(folder / "spigan"), str(tmp_path / "street.png"), "--out", str(tmp_path / "pred"),
                 "--quiet"]) == 0
    model = spigan.load(folder / "spigan", device="cpu")
    centimetres = cv2.imread(str(tmp_path / "pred" / "street_depth_cm.png"), cv2.IMREAD_UNCHANGED)
    assert centimetres.dtype == np.uint16 and centimetres.shape == (40, 70)
    metres = model.depth(rgb)
    assert np.abs(centimetres / 100.0 - np.minimum(metres, 655.35)).max() <= 0.01
    assert len(np.unique(centimetres)) > 1  # not a constant that the tolerance would hide
    classes = json.loads((tmp_path / "pred" / "classes.json").read_text())
    assert classes["ontology"] == model.ontology
    assert [c["id"] for c in classes["classes"]] == list(range(len(model.classes)))
    assert [c["name"] for c in classes["classes"]] == list(model.classes)
    assert [tuple(c["color"]) for c in classes["classes"]] == [tuple(colour) for colour in model.palette]
    assert "centimetres" in classes["depth_cm"]


def test_cli_predict_confidence_and_a_checkpoint_without_p(finished_run, tmp_path):
    folder, _ = finished_run
    cv2.imwrite(str(tmp_path / "a.png"), np.full((20, 30, 3), 90, np.uint8))
    assert main(["predict", str(folder / "source_only"), str(tmp_path / "a.png"), "--out", str(tmp_path / "p"),
                 "--confidence", "--alpha", "0.3", "--quiet"]) == 0
    assert sorted(p.name for p in (tmp_path / "p").iterdir()) == [
        "a_color.png", "a_confidence.png", "a_entropy.png", "a_labels.png", "a_overlay.png", "classes.json"]
    assert "depth_cm" not in json.loads((tmp_path / "p" / "classes.json").read_text())  # no P, no depth
    confidence = cv2.imread(str(tmp_path / "p" / "a_confidence.png"), cv2.IMREAD_UNCHANGED)
    assert confidence.shape == (20, 30) and confidence.min() >= 255 // 16  # at least 1 / classes


def test_folders_and_globs_keep_subfolders_and_never_share_a_name(finished_run, tmp_path):
    folder, _ = finished_run
    photos = tmp_path / "photos"
    for rel in ("x.png", "sub/x.png", "y.png", "y.jpg", "notes.txt"):
        (photos / rel).parent.mkdir(parents=True, exist_ok=True)
        if rel.endswith("txt"):
            (photos / rel).write_text("not an image")
        else:
            cv2.imwrite(str(photos / rel), np.full((16, 24, 3), 50, np.uint8))
    (tmp_path / "other").mkdir()
    cv2.imwrite(str(tmp_path / "other" / "x.png"), np.full((16, 24, 3), 50, np.uint8))
    items = gather_inputs([str(photos), str(tmp_path / "other" / "x.png"), str(photos / "x.png")])
    names = [it.name for it in items]
    assert len(items) == 5 and len(set(names)) == 5  # photos/x.png named twice: predicted once
    assert "sub/x" in names and {"y_jpg", "y_png"} <= set(names)
    assert {"photos/x_png", "other/x_png"} <= set(names)
    globbed = gather_inputs([str(photos / "*.png"), str(photos / "**" / "x.png")])
    assert sorted(it.name for it in globbed) == ["sub/x", "x", "y"]
    ckpt = str(folder / "spigan" / "checkpoints" / "last.pt")
    assert main(["predict", ckpt, str(photos), "--out", str(tmp_path / "out"), "--quiet", "--batch-size", "3"]) == 0
    written = sorted(p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("*_labels.png"))
    assert written == ["sub/x_labels.png", "x_labels.png", "y_jpg_labels.png", "y_png_labels.png"]


def write_video(path, frames: int, size=(24, 40)) -> None:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 5, (size[1], size[0]))
    assert writer.isOpened()
    for k in range(frames):
        writer.write(np.full((*size, 3), 30 * k, np.uint8))
    writer.release()


def test_cli_predict_on_a_video_writes_an_overlay_video_and_its_frames(finished_run, tmp_path):
    folder, _ = finished_run
    write_video(tmp_path / "drive.mp4", 5)
    assert main(["predict", str(folder / "spigan"), str(tmp_path / "drive.mp4"), "--out", str(tmp_path / "out"),
                 "--video-frames", "--batch-size", "2", "--quiet"]) == 0
    capture = cv2.VideoCapture(str(tmp_path / "out" / "drive_overlay.mp4"))
    frames = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(frame)
    assert len(frames) == 5 and frames[0].shape == (24, 40, 3)
    assert len(list((tmp_path / "out" / "drive").glob("*_labels.png"))) == 5
    assert len(list((tmp_path / "out" / "drive").glob("*_depth.png"))) == 5
    assert len(list((tmp_path / "out" / "drive").glob("*_depth_cm.png"))) == 5
    assert not list((tmp_path / "out").glob(".*"))  # no temporary left


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


def test_unreadable_files_found_in_a_folder_are_skipped_with_a_warning(finished_run, tmp_path, capsys):
    folder, _ = finished_run
    photos = tmp_path / "photos"
    photos.mkdir()
    cv2.imwrite(str(photos / "a.png"), np.full((16, 24, 3), 50, np.uint8))
    (photos / "cut.png").write_bytes(cv2.imencode(".png", np.zeros((16, 24, 3), np.uint8))[1].tobytes()[:30])
    (photos / "clip.mp4").write_text("not a video")
    assert main(["predict", str(folder / "spigan"), str(photos), "--out", str(tmp_path / "out"), "--quiet"]) == 0
    captured = capsys.readouterr()
    assert "spigan: skipped " in captured.err and "cut.png: not a readable image" in captured.err
    assert "clip.mp4: not a readable video" in captured.err
    assert captured.out.strip().endswith("for 1 image(s) under " + str(tmp_path / "out") +
                                         " (2 unreadable file(s) skipped, named above)")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "a_color.png", "a_depth.png", "a_depth_cm.png", "a_labels.png", "a_overlay.png", "classes.json"]
    assert main(["predict", str(folder / "spigan"), str(photos / "cut.png"), "--out", str(tmp_path / "o2")]) == 2


def test_gray_rgba_and_16_bit_photos_are_predicted_as_their_8_bit_rgb(finished_run, tmp_path, capsys):
    """Issue 24.3: they were refused ("expected an 8-bit RGB image, got RGBA")."""
    folder, _ = finished_run
    rgb = np.random.default_rng(0).integers(0, 256, (16, 24, 3), dtype=np.uint8)
    gray = rgb[..., 1]
    photos = tmp_path / "photos"
    photos.mkdir()
    cv2.imwrite(str(photos / "rgb.png"), rgb[..., ::-1])
    cv2.imwrite(str(photos / "rgba.png"), np.dstack([rgb[..., ::-1], np.full((16, 24), 7, np.uint8)]))
    cv2.imwrite(str(photos / "deep.png"), rgb[..., ::-1].astype(np.uint16) * 257)  # 16 bits, same picture
    cv2.imwrite(str(photos / "gray.png"), gray)
    cv2.imwrite(str(photos / "gray3.png"), np.dstack([gray] * 3))
    assert main(["predict", str(folder / "spigan"), str(photos), "--out", str(tmp_path / "out"), "--quiet"]) == 0
    assert "for 5 image(s)" in capsys.readouterr().out
    out = {p.stem: cv2.imread(str(p), cv2.IMREAD_UNCHANGED) for p in (tmp_path / "out").glob("*_labels.png")}
    assert np.array_equal(out["rgba_labels"], out["rgb_labels"]) and np.array_equal(out["deep_labels"],
                                                                                    out["rgb_labels"])
    assert np.array_equal(out["gray_labels"], out["gray3_labels"])


def test_an_output_folder_inside_the_input_folder_is_not_read_back(finished_run, tmp_path, capsys):
    folder, _ = finished_run
    cv2.imwrite(str(tmp_path / "a.png"), np.full((16, 24, 3), 50, np.uint8))
    for _ in range(2):
        assert main(["predict", str(folder / "spigan"), str(tmp_path), "--out", str(tmp_path / "pred"), "--quiet"]) == 0
        assert "for 1 image(s)" in capsys.readouterr().out
