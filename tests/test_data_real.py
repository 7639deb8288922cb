"""Real dataset formats: files written by the tests in each dataset's own encoding, every
id-map entry, simulator exports read back through the real loaders, and `data check`."""

import json
import subprocess
import sys

import cv2
import numpy as np
import pytest

from spigan.data import io
from spigan.data.check import check_dataset
from spigan.data.export import export
from spigan.data.ontology import (CAMVID_CLASSES, CATEGORIES_7, CITYSCAPES_TO_7, CITYSCAPES_TO_16, CLASSES_16,
                                  IGNORE, SYNTHIA_CLASSES, SYNTHIA_TO_7, SYNTHIA_TO_16, TABLE_16_TO_CAMVID,
                                  VISTAS_NAMES, vistas_to_7)
from spigan.data.real import real_frames
from spigan.errors import SpiganError
from spigan.sim.dataset import SimFrames

# ---------------------------------------------------------------------------------------
# Id maps, entry by entry, against DATASETS.md
# ---------------------------------------------------------------------------------------


def test_synthia_to_16_entry_by_entry():
    expected = {"road": 3, "sidewalk": 4, "building": 2, "wall": 21, "fence": 5, "pole": 7, "traffic light": 15,
                "traffic sign": 9, "vegetation": 6, "sky": 1, "person": 10, "rider": 17, "car": 8, "bus": 19,
                "motorcycle": 12, "bicycle": 11}
    for name, synthia_id in expected.items():
        assert SYNTHIA_TO_16[synthia_id] == CLASSES_16.index(name)
    for synthia_id in (0, 13, 14, 16, 18, 20, 22):  # void, parking, road-work, terrain, truck, train, lanes
        assert synthia_id not in SYNTHIA_TO_16
    assert len(SYNTHIA_TO_16) == 16


def test_cityscapes_to_16_entry_by_entry():
    expected = {7: "road", 8: "sidewalk", 11: "building", 12: "wall", 13: "fence", 17: "pole", 19: "traffic light",
                20: "traffic sign", 21: "vegetation", 23: "sky", 24: "person", 25: "rider", 26: "car", 28: "bus",
                32: "motorcycle", 33: "bicycle"}
    for label_id in range(34):
        if label_id in expected:
            assert CITYSCAPES_TO_16[label_id] == CLASSES_16.index(expected[label_id])
        else:  # terrain 22, truck 27, train 31 and the rest are ignored
            assert label_id not in CITYSCAPES_TO_16


def test_7_categories_entry_by_entry():
    cityscapes = {7: "flat", 8: "flat", 11: "construction", 12: "construction", 13: "construction",
                  17: "object", 19: "object", 20: "object", 21: "nature", 22: "nature", 23: "sky", 24: "human",
                  25: "human", **{i: "vehicle" for i in range(26, 34)}}
    assert {k: CATEGORIES_7[v] for k, v in CITYSCAPES_TO_7.items()} == cityscapes
    synthia = {"road": "flat", "sidewalk": "flat", "lanemarking": "flat", "parking-slot": "flat",
               "building": "construction", "fence": "construction", "wall": "construction", "pole": "object",
               "traffic sign": "object", "traffic light": "object", "vegetation": "nature", "terrain": "nature",
               "sky": "sky", "pedestrian": "human", "rider": "human", "car": "vehicle", "bicycle": "vehicle",
               "motorcycle": "vehicle", "truck": "vehicle", "bus": "vehicle", "train": "vehicle"}
    assert {SYNTHIA_CLASSES[k]: CATEGORIES_7[v] for k, v in SYNTHIA_TO_7.items()} == synthia
    vistas = vistas_to_7(list(VISTAS_NAMES))
    got = {VISTAS_NAMES[k]: CATEGORIES_7[v] for k, v in vistas.items()}
    assert got["Road"] == "flat" and got["Lane Marking - General"] == "flat" and got["Curb"] == "construction"
    assert got["Terrain"] == "nature" and got["Traffic Sign (Front)"] == "object" and got["Motorcyclist"] == "human"
    assert got["Wheeled Slow"] == "vehicle" and got["Sky"] == "sky"
    for unmapped in ("Bird", "Mountain", "Water", "Banner", "Car Mount", "Ego Vehicle", "Unlabeled", "Trash Can"):
        assert unmapped not in got
    assert len(got) == 45


def test_sim_to_camvid_entry_by_entry():
    expected = {"road": "road", "sidewalk": "pavement", "building": "building", "wall": "building", "fence": "fence",
                "pole": "pole", "traffic light": "sign symbol", "traffic sign": "sign symbol", "vegetation": "tree",
                "sky": "sky", "person": "pedestrian", "rider": "bicyclist", "car": "car", "bus": "car",
                "motorcycle": "bicyclist", "bicycle": "bicyclist"}
    for i, name in enumerate(CLASSES_16):
        assert CAMVID_CLASSES[TABLE_16_TO_CAMVID[i]] == expected[name]
    assert TABLE_16_TO_CAMVID[IGNORE] == IGNORE


# ---------------------------------------------------------------------------------------
# Files in each dataset's own encoding
# ---------------------------------------------------------------------------------------


def write_synthia(root, names=("0000000.png",), size=(6, 8)):
    h, w = size
    ids = np.arange(h * w, dtype=np.uint16).reshape(h, w) % 23
    for name in names:
        io.write_png_atomic(root / "RGB" / name, np.full((h, w, 3), 100, np.uint8))
        label = np.zeros((h, w, 3), np.uint16)
        label[..., 2] = ids  # red: the class id
        label[..., 1] = 976 + ids  # green: instance ids above 255, as in the real files
        label[..., 0] = 3
        io.write_png_atomic(root / "GT" / "LABELS" / name, label)
        io.write_png_atomic(root / "Depth" / "Depth" / name, (ids.astype(np.uint16) * 1000 + 150))
    return ids


def test_synthia_reads_the_red_channel_of_16_bit_labels(tmp_path):
    ids = write_synthia(tmp_path)
    frames = real_frames("synthia", tmp_path, "train", "16-class", size=None, depth=True)
    frame = frames[0]
    expected = np.array([SYNTHIA_TO_16.get(int(i), IGNORE) for i in ids.ravel()]).reshape(ids.shape)
    np.testing.assert_array_equal(frame["labels"], expected)
    np.testing.assert_allclose(frame["depth"], (ids * 1000 + 150) / 100.0)  # centimetres -> metres
    seven = real_frames("synthia", tmp_path, "train", "7-category", size=None)[0]["labels"]
    np.testing.assert_array_equal(seven, np.vectorize(lambda i: SYNTHIA_TO_7.get(int(i), IGNORE))(ids))


def test_synthia_labels_read_the_pillow_way_are_refused(tmp_path):
    """An 8-bit RGB label file (what Pillow makes of the real ones) is not silently used."""
    write_synthia(tmp_path)
    cv2.imwrite(str(tmp_path / "GT" / "LABELS" / "0000000.png"), np.zeros((6, 8, 3), np.uint8))
    with pytest.raises(SpiganError, match="16-bit multi-channel"):
        real_frames("synthia", tmp_path, "train", "16-class", size=None)[0]


def write_cityscapes(root, split="val", size=(4, 9)):
    h, w = size
    ids = (np.arange(h * w) % 34).astype(np.uint8).reshape(h, w)
    io.write_png_atomic(root / "leftImg8bit" / split / "aachen" / "aachen_000000_000019_leftImg8bit.png",
                        np.zeros((h, w, 3), np.uint8))
    io.write_png_atomic(root / "gtFine" / split / "aachen" / "aachen_000000_000019_gtFine_labelIds.png", ids)
    return ids


def test_cityscapes_label_ids(tmp_path):
    ids = write_cityscapes(tmp_path)
    labels = real_frames("cityscapes", tmp_path, "val", "16-class", size=None)[0]["labels"]
    np.testing.assert_array_equal(labels, np.vectorize(lambda i: CITYSCAPES_TO_16.get(int(i), IGNORE))(ids))
    labels7 = real_frames("cityscapes", tmp_path, "val", "7-category", size=None)[0]["labels"]
    np.testing.assert_array_equal(labels7, np.vectorize(lambda i: CITYSCAPES_TO_7.get(int(i), IGNORE))(ids))


def test_vistas_names_come_from_the_config_file(tmp_path):
    names = ["Sky", "Road", "Car", "Unlabeled"]  # a different order than the real list
    (tmp_path / "config.json").write_text(json.dumps({"labels": [{"readable": n, "name": n.lower()} for n in names]}))
    io.write_png_atomic(tmp_path / "validation" / "labels" / "a.png", np.array([[0, 1, 2, 3]], np.uint8))
    io.write_file_atomic(tmp_path / "validation" / "images" / "a.jpg", cv2.imencode(".jpg", np.zeros((1, 4, 3), np.uint8))[1])
    labels = real_frames("vistas", tmp_path, "val", "7-category", size=None)[0]["labels"]
    assert labels.tolist() == [[CATEGORIES_7.index("sky"), CATEGORIES_7.index("flat"), CATEGORIES_7.index("vehicle"),
                                IGNORE]]
    io.write_png_atomic(tmp_path / "validation" / "labels" / "a.png", np.array([[0, 1, 2, 4]], np.uint8))
    with pytest.raises(SpiganError, match="label id 4 is outside Vistas"):
        real_frames("vistas", tmp_path, "val", "7-category", size=None)[0]


def test_camvid_segnet_layout_and_void(tmp_path):
    io.write_png_atomic(tmp_path / "val" / "x.png", np.zeros((2, 6, 3), np.uint8))
    io.write_png_atomic(tmp_path / "valannot" / "x.png", np.array([[0, 1, 2, 3, 10, 11]] * 2, np.uint8))
    labels = real_frames("camvid", tmp_path, "val", "camvid-11", size=None)[0]["labels"]
    assert labels[0].tolist() == [0, 1, 2, 3, 10, IGNORE]


def test_resizing_keeps_labels_nearest_and_evaluation_at_label_resolution(tmp_path):
    write_cityscapes(tmp_path, size=(8, 16))
    train = real_frames("cityscapes", tmp_path, "val", "16-class", size=(4, 8), resize_labels=True)[0]
    assert train["image"].shape == (4, 8, 3) and train["labels"].shape == (4, 8)
    assert set(np.unique(train["labels"])) <= set(CITYSCAPES_TO_16.values()) | {IGNORE}
    evaluation = real_frames("cityscapes", tmp_path, "val", "16-class", size=(4, 8), resize_labels=False)[0]
    assert evaluation["image"].shape == (4, 8, 3) and evaluation["labels"].shape == (8, 16)


@pytest.mark.parametrize("dataset, root_setup, message", [
    ("cityscapes", lambda r: None, "leftImg8bit/val: folder not found"),
    ("synthia", lambda r: (r / "RGB").mkdir(), "GT/LABELS: folder not found"),
    ("camvid", lambda r: ((r / "val").mkdir(), (r / "valannot").mkdir()), "no \\*.png images found"),
    ("vistas", lambda r: ((r / "validation" / "images").mkdir(parents=True),
                          (r / "validation" / "labels").mkdir()), "no config.json"),
])
def test_wrong_layouts_are_named(tmp_path, dataset, root_setup, message):
    root_setup(tmp_path)
    with pytest.raises(SpiganError, match=message):
        real_frames(dataset, tmp_path, "val", {"vistas": "7-category", "camvid": "camvid-11"}.get(dataset, "16-class"),
                    size=None)


# ---------------------------------------------------------------------------------------
# Simulator exports, read back by the real loaders
# ---------------------------------------------------------------------------------------


def test_sim_export_round_trips_through_the_synthia_loader(tmp_path):
    assert export("sim", 3, 24, 48, tmp_path, split="train", progress=False) == 3
    frames = SimFrames("sim", "train", 3, 24, 48)
    loaded = real_frames("synthia", tmp_path, "train", "16-class", size=None, depth=True)
    assert len(loaded) == 3
    for i in range(3):
        np.testing.assert_array_equal(loaded[i]["labels"], frames[i].labels)
        np.testing.assert_array_equal(loaded[i]["image"], frames[i].rgb)
        np.testing.assert_allclose(loaded[i]["depth"], frames[i].depth, atol=0.005 + 1e-6)
    raw = cv2.imread(str(tmp_path / "GT" / "LABELS" / "0000000.png"), cv2.IMREAD_UNCHANGED)
    assert raw.dtype == np.uint16 and raw.shape == (24, 48, 3)


@pytest.mark.parametrize("layout, dataset, ontology", [("cityscapes", "cityscapes", "16-class"),
                                                       ("vistas", "vistas", "7-category"),
                                                       ("camvid", "camvid", "camvid-11")])
def test_photo_export_round_trips(tmp_path, layout, dataset, ontology):
    export("photo", 2, 24, 48, tmp_path, split="val", layout=layout, progress=False)
    frames = SimFrames("photo", "val", 2, 24, 48)
    loaded = real_frames(dataset, tmp_path, "val", ontology, size=None)
    from spigan.data.ontology import SIM_TO_ONTOLOGY

    table = SIM_TO_ONTOLOGY[ontology]
    for i in range(2):
        expected = frames[i].labels if table is None else table[frames[i].labels]
        np.testing.assert_array_equal(loaded[i]["labels"], expected)


def test_export_is_resumable(tmp_path):
    assert export("photo", 3, 16, 32, tmp_path, split="train", progress=False) == 3
    assert export("photo", 3, 16, 32, tmp_path, split="train", progress=False) == 0
    next((tmp_path / "gtFine").rglob("*000001_gtFine_labelIds.png")).unlink()
    assert export("photo", 3, 16, 32, tmp_path, split="train", progress=False) == 1
    assert not list(tmp_path.rglob("*.tmp"))


# ---------------------------------------------------------------------------------------
# data check
# ---------------------------------------------------------------------------------------


def test_data_check_lists_every_problem(tmp_path):
    export("sim", 5, 16, 32, tmp_path, progress=False)
    (tmp_path / "GT" / "LABELS" / "0000001.png").unlink()  # missing
    (tmp_path / "Depth" / "Depth" / "0000002.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")  # corrupt
    io.write_png_atomic(tmp_path / "RGB" / "0000003.png", np.zeros((10, 10, 3), np.uint8))  # size mismatch
    bad = np.zeros((16, 32, 3), np.uint16)
    bad[0, 0, 2] = 99
    io.write_png_atomic(tmp_path / "GT" / "LABELS" / "0000004.png", bad)  # id outside SYNTHIA's
    report = check_dataset("synthia", str(tmp_path), "train", progress=False)
    problems = {p.split("/")[-1] + ":" + w for p, w in report.problems}
    assert any("0000001.png:file not found" in p for p in problems)
    assert any("0000002.png:not a readable image" in p for p in problems)
    assert any("0000003.png:label size 32x16 differs" in p for p in problems)
    assert any("0000003.png:depth size 32x16 differs" in p for p in problems)
    assert any("0000004.png:label id 99 is outside SYNTHIA" in p for p in problems)
    assert report.frames == 5 and report.depth_max > 0
    # In a subprocess, so that what OpenCV itself would print on stderr is seen too.
    run = subprocess.run([sys.executable, "-m", "spigan.cli", "data", "check", "--dataset", "synthia", "--root",
                          str(tmp_path), "--quiet"], capture_output=True, text=True)
    assert run.returncode == 2
    assert "5 problem(s)" in run.stdout
    assert run.stderr.strip().splitlines() == [f"spigan: error: {tmp_path}: 5 malformed or missing file(s), listed above"]
