"""Simulator exports in SYNTHIA's, Cityscapes', Vistas' and CamVid's own layouts and
encodings, read back through the loaders real data takes."""

import cv2
import numpy as np
import pytest

from spigan.data.export import export
from spigan.data.real import real_frames
from spigan.sim.dataset import SimFrames


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


def test_sim_export_with_knobs_writes_those_frames(tmp_path):
    from spigan.sim.knobs import SimKnobs

    knobs = SimKnobs(camera=0.25, randomization=0.5)
    export("sim", 2, 24, 48, tmp_path, split="val", progress=False, knobs=knobs)
    frames = SimFrames("sim", "val", 2, 24, 48, knobs=knobs)
    loaded = real_frames("synthia", tmp_path, "train", "16-class", size=None, depth=True)
    for i in range(2):
        np.testing.assert_array_equal(loaded[i]["image"], frames[i].rgb)
        np.testing.assert_array_equal(loaded[i]["labels"], frames[i].labels)  # void distractors included
        np.testing.assert_allclose(loaded[i]["depth"], frames[i].depth, atol=0.005 + 1e-6)


@pytest.mark.parametrize("layout", ["carla", "folder"])
def test_sim_export_round_trips_through_the_carla_and_folder_source_loaders(tmp_path, layout):
    export("sim", 2, 24, 48, tmp_path, split="train", layout=layout, progress=False)
    frames = SimFrames("sim", "train", 2, 24, 48)
    loaded = real_frames(layout, tmp_path, "train", "16-class", size=None, depth=True)
    for i in range(2):
        np.testing.assert_array_equal(loaded[i]["labels"], frames[i].labels)
        np.testing.assert_array_equal(loaded[i]["image"], frames[i].rgb)
        # CARLA's 24 bits over 1000 m: 0.06 mm steps; the folder export: centimetres
        atol = 1000 / (2 ** 24 - 1) if layout == "carla" else 0.005 + 1e-6
        np.testing.assert_allclose(loaded[i]["depth"], frames[i].depth, atol=atol)


@pytest.mark.parametrize("layout, dataset, ontology", [("cityscapes", "cityscapes", "16-class"),
                                                       ("vistas", "vistas", "7-category"),
                                                       ("camvid", "camvid", "camvid-11"),
                                                       ("folder", "folder", "16-class"),
                                                       ("folder", "folder", "7-category"),
                                                       ("folder", "folder", "camvid-11")])
def test_photo_export_round_trips(tmp_path, layout, dataset, ontology):
    export("photo", 2, 24, 48, tmp_path, split="val", layout=layout, progress=False)
    frames = SimFrames("photo", "val", 2, 24, 48)
    loaded = real_frames(dataset, tmp_path, "val", ontology, size=None)
    from spigan.ontology import SIM_TO_ONTOLOGY

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
