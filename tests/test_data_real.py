"""Real dataset formats: files written by the tests in each dataset's own encoding, every
id-map entry, simulator exports read back through the real loaders, and `data check`."""

import json

import cv2
import numpy as np
import pytest

from spigan.data import io
from spigan.data.export import export
from spigan.data.real import real_frames
from spigan.errors import SpiganError
from spigan.ontology import (
    CAMVID_CLASSES,
    CATEGORIES_7,
    CITYSCAPES_TO_7,
    CITYSCAPES_TO_16,
    CLASSES_16,
    IGNORE,
    SYNTHIA_TO_7,
    SYNTHIA_TO_16,
)

# ---------------------------------------------------------------------------------------
# Id maps, entry by entry, against DATASETS.md
# ---------------------------------------------------------------------------------------










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








# ---------------------------------------------------------------------------------------
# data check
# ---------------------------------------------------------------------------------------




def test_vistas_palette_labels_are_read_as_indices(tmp_path):
    """Mapillary distributes Vistas labels as 8-bit palette PNGs: pixel value = label index,
    the palette holds display colours. OpenCV would return the colours; we need the indices."""
    from PIL import Image

    indices = (np.arange(6 * 8).reshape(6, 8) % 66).astype(np.uint8)
    image = Image.fromarray(indices, mode="P")
    image.putpalette([(7 * i) % 256 for i in range(768)])
    image.save(tmp_path / "label.png")
    assert io.is_palette_png(tmp_path / "label.png")
    assert cv2.imread(str(tmp_path / "label.png"), cv2.IMREAD_UNCHANGED).ndim == 3  # what OpenCV would give
    assert np.array_equal(io.read_index_png(tmp_path / "label.png"), indices)


@pytest.mark.parametrize("config_name", ["config.json", "config_v1.2.json"])
def test_vistas_split_as_distributed_checks_and_evaluates(tmp_path, config_name, tiny_config, capsys):
    """A Vistas split laid out as Mapillary ships it (JPEG images, palette labels, the label
    list in config.json or config_v1.2.json) passes `data check` and scores under the
    7-category protocol."""
    from spigan.cli import main

    export("photo", 3, 32, 64, tmp_path / "vistas", split="val", layout="vistas", progress=False)
    if config_name != "config.json":
        (tmp_path / "vistas" / "config.json").rename(tmp_path / "vistas" / config_name)
    labels = sorted((tmp_path / "vistas" / "validation" / "labels").glob("*.png"))
    assert labels and all(io.is_palette_png(p) for p in labels)
    assert main(["data", "check", "--dataset", "vistas", "--root", str(tmp_path / "vistas"), "--split", "val",
                 "--quiet"]) == 0
    frames = real_frames("vistas", tmp_path / "vistas", "val", "7-category", (32, 64), resize_labels=False)
    assert set(np.unique(frames[0]["labels"])) - {255} <= set(range(7))

    from spigan.train import train

    cfg = tiny_config("train.method=source_only", "train.iterations=1", "data.ontology=7-category",
                      "data.protocol=7-category")
    train(cfg, tmp_path / "run", progress=False)
    capsys.readouterr()
    assert main(["evaluate", str(tmp_path / "run" / "checkpoints" / "last.pt"), "--dataset", "vistas", "--root",
                 str(tmp_path / "vistas"), "--split", "val"]) == 0
    out = capsys.readouterr().out
    assert "[7-category]" in out and "vehicle" in out and "mIoU" in out


def test_evaluation_at_the_training_size_resizes_labels(tmp_path):
    export("photo", 2, 32, 64, tmp_path / "camvid", split="val", layout="camvid", progress=False)
    native = real_frames("camvid", tmp_path / "camvid", "val", "camvid-11", (16, 32), resize_labels=False)
    resized = real_frames("camvid", tmp_path / "camvid", "val", "camvid-11", (16, 32), resize_labels=True)
    assert native[0]["labels"].shape == (32, 64) and resized[0]["labels"].shape == (16, 32)
    assert native[0]["image"].shape == resized[0]["image"].shape == (16, 32, 3)


# ---------------------------------------------------------------------------------------
# The generic folder dataset (docs/ADDING_A_DATASET.md)
# ---------------------------------------------------------------------------------------


def write_folder(root, mapping: str, files=(("val", "a"),), values=(7, 8, 0, 7), image_suffix="", label_suffix=""):
    root.mkdir(parents=True, exist_ok=True)
    (root / "mapping.yaml").write_text(mapping)
    for split, stem in files:
        io.write_png_atomic(root / "images" / split / f"{stem}{image_suffix}.png", np.full((2, 2, 3), 90, np.uint8))
        io.write_png_atomic(root / "labels" / split / f"{stem}{label_suffix}.png",
                            np.array(values, np.uint8).reshape(2, 2))
    return root


def test_folder_dataset_maps_values_by_its_mapping_file_with_suffixes_and_subfolders(tmp_path):
    mapping = ("ontology: camvid-11\nclasses: {road: [7, 9], pavement: 8}\nignore: 0\n"
               "image_suffix: _leftImg8bit\nlabel_suffix: _gtFine_labelIds\n")
    root = write_folder(tmp_path / "mine", mapping, files=(("val", "city/a"), ("val", "b")),
                        image_suffix="_leftImg8bit", label_suffix="_gtFine_labelIds")
    io.write_png_atomic(root / "images" / "val" / "stray.png", np.zeros((2, 2, 3), np.uint8))  # no suffix: skipped
    frames = real_frames("folder", root, "val", "camvid-11", size=None)
    assert [it.image.name for it in frames.items] == ["b_leftImg8bit.png", "a_leftImg8bit.png"]
    assert frames.items[1].labels == root / "labels" / "val" / "city" / "a_gtFine_labelIds.png"
    road, pavement = 3, 4  # CamVid's indices
    assert frames[1]["labels"].tolist() == [[road, pavement], [IGNORE, road]]
    with pytest.raises(SpiganError, match="has no mapping to the 16-class ontology"):
        real_frames("folder", root, "val", "16-class", size=None)


def test_folder_dataset_reads_gray_rgba_and_16_bit_photos_but_not_colour_labels(tmp_path):
    """Issue 24.3: photos are converted to 8-bit RGB; labels stay exact."""
    mapping = "ontology: camvid-11\nclasses: {road: [7, 9], pavement: 8}\nignore: 0\n"
    root = write_folder(tmp_path / "mine", mapping, files=(("val", "gray"), ("val", "rgba"), ("val", "deep")))
    images = root / "images" / "val"
    io.write_png_atomic(images / "gray.png", np.full((2, 2), 90, np.uint8))
    io.write_png_atomic(images / "rgba.png", np.full((2, 2, 4), 90, np.uint8))
    io.write_png_atomic(images / "deep.png", np.full((2, 2, 3), 90 * 257, np.uint16))
    frames = real_frames("folder", root, "val", "camvid-11", size=None)
    for k in range(3):
        assert frames[k]["image"].tolist() == np.full((2, 2, 3), 90).tolist(), frames.items[k].image
    io.write_png_atomic(root / "labels" / "val" / "gray.png", np.full((2, 2, 3), 7, np.uint8))
    frames = real_frames("folder", root, "val", "camvid-11", size=None)
    with pytest.raises(SpiganError, match="gray.png: expected an 8-bit single-channel label image, got a 3-channel"):
        frames[[it.image.stem for it in frames.items].index("gray")]


@pytest.mark.parametrize("mapping, message", [
    (None, "mapping.yaml: not found"),
    ("ontology: 19-class\nclasses: {road: 7}\n", "ontology: '19-class' is not one of"),
    ("ontology: 16-class\nclasses: {street: 7}\n", "classes: 'street' is not a 16-class class"),
    ("ontology: 16-class\nclasses: {road: 7, sidewalk: 7}\n", "label value 7 is given to both 'road' and 'sidewalk'"),
    ("ontology: 16-class\nclasses: {road: 7}\nignore: [7]\n", "ignore: label value 7 is also a class"),
    ("ontology: 16-class\nclasses: {road: 300}\n", "expected label values 0..255"),
    ("ontology: 16-class\nclasses: {road: 7}\ncolours: {}\n", "colours: unknown key"),
    ("ontology: 16-class\nclasses: {road: 7, sidewalk: 8}\n", "label value 0 is neither a class nor ignored"),
    ("[1, 2]\n", "expected a mapping with ontology, classes"),
])
def test_folder_mapping_mistakes_are_named(tmp_path, mapping, message):
    root = write_folder(tmp_path / "mine", mapping or "")
    if mapping is None:
        (root / "mapping.yaml").unlink()
    with pytest.raises(SpiganError, match=message):
        real_frames("folder", root, "val", "16-class", size=None)[0]


def test_folder_dataset_is_a_training_target_that_data_check_and_evaluate_read(tmp_path, tiny_config, capsys):
    from spigan.cli import main
    from spigan.train import train

    for split, count in (("train", 4), ("val", 3)):
        export("photo", count, 32, 64, tmp_path / "mine", split=split, layout="folder", progress=False)
    assert main(["data", "check", "--dataset", "folder", "--root", str(tmp_path / "mine"), "--split", "val",
                 "--quiet"]) == 0
    assert "no problems found" in capsys.readouterr().out
    cfg = tiny_config("train.iterations=1", "data.target=folder", f"data.target_root={tmp_path / 'mine'}")
    results = train(cfg, tmp_path / "run", progress=False)
    assert len(results["checkpoints"]["last"]["per_image_miou"]) == 3  # scored on the folder's val split
    assert main(["evaluate", str(tmp_path / "run" / "checkpoints" / "last.pt"), "--dataset", "folder", "--root",
                 str(tmp_path / "mine"), "--split", "val", "--device", "cpu"]) == 0
    assert "mIoU" in capsys.readouterr().out


# ---------------------------------------------------------------------------------------
# Sources beyond SYNTHIA: CARLA's camera outputs and a folder dataset with depth (issue 24.8)
# ---------------------------------------------------------------------------------------


def write_carla(root, tags, rgb_depth, name="000042"):
    """A CARLA frame saved raw, as `image.save_to_disk` writes it: BGRA PNGs, the semantic
    tag in red (instance-like noise in green and blue), depth in R + 256 G + 65536 B."""
    h, w = tags.shape
    io.write_png_atomic(root / "rgb" / f"{name}.png", np.full((h, w, 4), 77, np.uint8))
    semantic = np.zeros((h, w, 4), np.uint8)
    semantic[..., 2], semantic[..., 1], semantic[..., 0], semantic[..., 3] = tags, 200, 31, 255
    io.write_png_atomic(root / "semantic" / f"{name}.png", semantic)
    r, g, b = (np.asarray(rgb_depth, np.uint8)[..., c] for c in range(3))
    io.write_png_atomic(root / "depth" / f"{name}.png", np.dstack([b, g, r, np.full((h, w), 255, np.uint8)]))


def test_carla_decodes_24_bit_depth_and_reads_the_tag_in_red(tmp_path):
    tags = np.arange(29, dtype=np.uint8).reshape(1, 29)
    rgb_depth = np.zeros((1, 29, 3), np.uint8)
    rgb_depth[0, :5] = [(0, 0, 0), (255, 255, 255), (0, 0, 128), (1, 0, 0), (16, 39, 0)]
    write_carla(tmp_path, tags, rgb_depth)
    frame = real_frames("carla", tmp_path, "train", "16-class", size=None, depth=True)[0]
    metres = frame["depth"][0, :5]
    # 0 m; 1000 m (2^24 - 1); 128 x 65536 / (2^24 - 1) x 1000; 1000 / (2^24 - 1); (16 + 39 x 256) -> 0.596 m
    np.testing.assert_allclose(metres, [0, 1000, 500.0000298, 5.960465e-05, 0.5960465], rtol=1e-6, atol=1e-9)
    road, car, person = CLASSES_16.index("road"), CLASSES_16.index("car"), CLASSES_16.index("person")
    labels = frame["labels"][0]
    assert labels[1] == labels[24] == road and labels[14] == car and labels[12] == person  # road line is road
    assert [int(labels[t]) for t in (0, 10, 15, 17, 20, 21, 22, 23, 25, 26, 27, 28)] == [IGNORE] * 12
    seven = real_frames("carla", tmp_path, "train", "7-category", size=None)[0]["labels"][0]
    assert CATEGORIES_7[seven[15]] == "vehicle" and CATEGORIES_7[seven[10]] == "nature" and seven[25] == IGNORE
    camvid = real_frames("carla", tmp_path, "train", "camvid-11", size=None)[0]["labels"][0]
    assert CAMVID_CLASSES[camvid[16]] == "car" and CAMVID_CLASSES[camvid[9]] == "tree"  # a bus is a CamVid car
    # Before 0.9.14 tag 7 was road and 18 a traffic light; 0.9.14+ has them as traffic light and motorcycle.
    legacy = real_frames("carla_legacy", tmp_path, "train", "16-class", size=None)
    with pytest.raises(SpiganError, match="label id 28 is outside CARLA \\(tags before 0.9.14\\)'s ids \\(0..22\\)"):
        legacy[0]
    write_carla(tmp_path, np.array([[7, 18, 10]], np.uint8), np.zeros((1, 3, 3), np.uint8))
    assert [CLASSES_16[k] for k in legacy[0]["labels"][0]] == ["road", "traffic light", "car"]


def test_carla_files_saved_through_a_colour_converter_are_refused(tmp_path):
    """CARLA's docs save depth with ColorConverter.Depth (grey) and segmentation with
    CityScapesPalette (colours): neither holds the numbers, and neither is read as if it did."""
    write_carla(tmp_path, np.zeros((2, 2), np.uint8), np.full((2, 2, 3), 90, np.uint8))
    with pytest.raises(SpiganError, match="a grey depth picture .*ColorConverter.Raw"):
        real_frames("carla", tmp_path, "train", "16-class", size=None, depth=True)[0]
    write_carla(tmp_path, np.full((2, 2), 128, np.uint8), np.zeros((2, 2, 3), np.uint8))  # road's palette red
    with pytest.raises(SpiganError, match="label id 128 is outside CARLA"):
        real_frames("carla", tmp_path, "train", "16-class", size=None, depth=True)[0]
    io.write_png_atomic(tmp_path / "semantic" / "000042.png", np.zeros((2, 2), np.uint8))
    with pytest.raises(SpiganError, match="expected CARLA's raw semantic image"):
        real_frames("carla", tmp_path, "train", "16-class", size=None)[0]


def write_folder_source(root, depth_unit="cm"):
    mapping = "ontology: 16-class\nclasses: {road: 7, sidewalk: 8}\nignore: 0\n"
    root = write_folder(root, mapping + (f"depth: {{unit: {depth_unit}}}\n" if depth_unit else ""),
                        files=(("train", "a"), ("train", "sub/b")))
    return root


@pytest.mark.parametrize("unit, scale", [("mm", 1000), ("cm", 100), ("m", 1)])
def test_folder_source_reads_16_bit_depth_in_its_unit_and_npy_in_metres(tmp_path, unit, scale):
    root = write_folder_source(tmp_path / "mine", unit)
    io.write_png_atomic(root / "depth" / "train" / "a.png", np.array([[0, 1], [250, 65535]], np.uint16))
    (root / "depth" / "train" / "sub").mkdir()
    np.save(root / "depth" / "train" / "sub" / "b.npy", np.array([[1.5, 2.25], [0.0, 655.35]], np.float32))
    frames = real_frames("folder", root, "train", "16-class", size=None, depth=True)
    by_name = {it.image.stem: k for k, it in enumerate(frames.items)}
    np.testing.assert_allclose(frames[by_name["a"]]["depth"], np.array([[0, 1], [250, 65535]]) / scale, rtol=1e-7)
    np.testing.assert_allclose(frames[by_name["b"]]["depth"], [[1.5, 2.25], [0.0, 655.35]], rtol=1e-7)
    assert frames[by_name["a"]]["labels"].tolist() == [[0, 1], [IGNORE, 0]]  # road 7, sidewalk 8, void 0


@pytest.mark.parametrize("unit, write, message", [
    (None, lambda d: io.write_png_atomic(d / "a.png", np.ones((2, 2), np.uint16)), "says no unit"),
    ("cm", lambda d: io.write_png_atomic(d / "a.png", np.ones((2, 2), np.uint8)), "expected a 16-bit depth PNG"),
    ("cm", lambda d: np.save(d / "a.npy", np.ones((2, 2), np.int64)), "expected an \\(H, W\\) float array"),
    ("cm", lambda d: np.save(d / "a.npy", np.full((2, 2), np.inf)), "depth has NaN or infinite values"),
    ("cm", lambda d: np.save(d / "a.npy", np.ones((3, 2))), "depth size \\(HxW\\) 3x2 differs"),
    ("inches", lambda d: None, "depth: expected \\{unit: mm \\| cm \\| m\\}"),
])
def test_folder_source_depth_mistakes_are_named(tmp_path, unit, write, message):
    root = write_folder_source(tmp_path / "mine", unit)
    (root / "depth" / "train").mkdir(parents=True)
    write(root / "depth" / "train")
    with pytest.raises(SpiganError, match=message):
        real_frames("folder", root, "train", "16-class", size=None, depth=True)[0]


def test_a_folder_without_depth_is_no_source(tmp_path):
    root = write_folder_source(tmp_path / "mine")
    with pytest.raises(SpiganError, match="depth/train: folder not found .*a source's depth"):
        real_frames("folder", root, "train", "16-class", size=None, depth=True)
    write_cityscapes(tmp_path / "cs", split="train")
    with pytest.raises(SpiganError, match="cityscapes has no depth"):
        real_frames("cityscapes", tmp_path / "cs", "train", "16-class", size=None, depth=True)


@pytest.mark.parametrize("layout", ["carla", "folder"])
def test_carla_and_folder_sources_train_spigan_and_pass_data_check(tmp_path, tiny_config, caplog, capsys, layout):
    """Simulator frames exported in CARLA's raw encodings, and as a folder dataset with
    depth, are SPIGAN's source: read with their depth, they train a tiny run (the target is
    the built-in simulator's photo domain). A folder source without a val split shows its
    training frames in TensorBoard rather than turning the panels off."""
    import json as json_module

    from spigan.cli import main
    from spigan.train import train

    export("sim", 4, 32, 64, tmp_path / layout, split="train", layout=layout, progress=False)
    assert main(["data", "check", "--dataset", layout, "--root", str(tmp_path / layout), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "no problems found" in out and "depth range: " in out and "road" in out
    cfg = tiny_config("train.iterations=2", "train.log_every=1", f"data.source={layout}",
                      f"data.source_root={tmp_path / layout}")
    results = train(cfg, tmp_path / "run", progress=False)
    assert results["iterations"] == 2
    rows = [json_module.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert all(r["privileged_source"] > 0 and np.isfinite(r["privileged_source"]) for r in rows)  # depth read
    assert "logging off" not in caplog.text
