"""Every class table and id map, entry by entry, against DATASETS.md; protocols."""


from spigan.ontology import (
    CAMVID_CLASSES,
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
