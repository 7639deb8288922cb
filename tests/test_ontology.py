"""Every class table and id map, entry by entry, against DATASETS.md; protocols."""


from spigan.ontology import (
    CAMVID_CLASSES,
    CARLA_LEGACY_TAGS,
    CARLA_LEGACY_TO_7,
    CARLA_LEGACY_TO_16,
    CARLA_TAGS,
    CARLA_TO_7,
    CARLA_TO_16,
    CATEGORIES_7,
    CITYSCAPES_TO_7,
    CITYSCAPES_TO_16,
    CLASSES_16,
    IGNORE,
    SYNTHIA_CLASSES,
    SYNTHIA_TO_7,
    SYNTHIA_TO_16,
    TABLE_16_TO_7,
    TABLE_16_TO_CAMVID,
    VISTAS_NAMES,
    vistas_to_7,
)


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


def test_carla_tags_and_their_classes_entry_by_entry():
    """CARLA's Docs/ref_sensors.md, "Semantic segmentation camera" (0.9.14+), and the list
    of 0.9.10-0.9.13 (tags changed in 0.9.14)."""
    assert CARLA_TAGS == (
        "unlabeled", "road", "sidewalk", "building", "wall", "fence", "pole", "traffic light", "traffic sign",
        "vegetation", "terrain", "sky", "pedestrian", "rider", "car", "truck", "bus", "train", "motorcycle",
        "bicycle", "static", "dynamic", "other", "water", "road line", "ground", "bridge", "rail track", "guard rail")
    assert CARLA_LEGACY_TAGS[:13] == ("unlabeled", "building", "fence", "other", "pedestrian", "pole", "road line",
                                      "road", "sidewalk", "vegetation", "vehicles", "wall", "traffic sign")
    assert CARLA_LEGACY_TAGS[13:] == ("sky", "ground", "bridge", "rail track", "guard rail", "traffic light",
                                      "static", "dynamic", "water", "terrain")
    to_16 = {1: "road", 24: "road", 2: "sidewalk", 3: "building", 4: "wall", 5: "fence", 6: "pole",
             7: "traffic light", 8: "traffic sign", 9: "vegetation", 11: "sky", 12: "person", 13: "rider", 14: "car",
             16: "bus", 18: "motorcycle", 19: "bicycle"}  # terrain 10, truck 15, train 17 ignored, as SYNTHIA's
    assert {k: CLASSES_16[v] for k, v in CARLA_TO_16.items()} == to_16
    to_7 = {1: "flat", 2: "flat", 24: "flat", 27: "flat", 3: "construction", 4: "construction", 5: "construction",
            26: "construction", 28: "construction", 6: "object", 7: "object", 8: "object", 9: "nature",
            10: "nature", 11: "sky", 12: "human", 13: "human", **{k: "vehicle" for k in range(14, 20)}}
    assert {k: CATEGORIES_7[v] for k, v in CARLA_TO_7.items()} == to_7  # 0, 20-23, 25 (ground) ignored
    legacy_16 = {1: "building", 2: "fence", 4: "person", 5: "pole", 6: "road", 7: "road", 8: "sidewalk",
                 9: "vegetation", 10: "car", 11: "wall", 12: "traffic sign", 13: "sky", 18: "traffic light"}
    assert {k: CLASSES_16[v] for k, v in CARLA_LEGACY_TO_16.items()} == legacy_16
    assert CATEGORIES_7[CARLA_LEGACY_TO_7[10]] == "vehicle" and CATEGORIES_7[CARLA_LEGACY_TO_7[22]] == "nature"
    assert {CARLA_LEGACY_TAGS[k] for k in range(23) if k not in CARLA_LEGACY_TO_7} == {
        "unlabeled", "other", "ground", "static", "dynamic", "water"}


def test_sim_to_camvid_entry_by_entry():
    expected = {"road": "road", "sidewalk": "pavement", "building": "building", "wall": "building", "fence": "fence",
                "pole": "pole", "traffic light": "sign symbol", "traffic sign": "sign symbol", "vegetation": "tree",
                "sky": "sky", "person": "pedestrian", "rider": "bicyclist", "car": "car", "bus": "car",
                "motorcycle": "bicyclist", "bicycle": "bicyclist"}
    for i, name in enumerate(CLASSES_16):
        assert CAMVID_CLASSES[TABLE_16_TO_CAMVID[i]] == expected[name]
    assert TABLE_16_TO_CAMVID[IGNORE] == IGNORE


def test_7_category_table_entry_by_entry():
    expected = {
        "road": "flat", "sidewalk": "flat", "building": "construction", "wall": "construction",
        "fence": "construction", "pole": "object", "traffic light": "object", "traffic sign": "object",
        "vegetation": "nature", "sky": "sky", "person": "human", "rider": "human", "car": "vehicle",
        "bus": "vehicle", "motorcycle": "vehicle", "bicycle": "vehicle",
    }
    for i, name in enumerate(CLASSES_16):
        assert CATEGORIES_7[TABLE_16_TO_7[i]] == expected[name]
    assert TABLE_16_TO_7[IGNORE] == IGNORE and TABLE_16_TO_7[16] == IGNORE
