"""Class lists, colour palettes, id maps, evaluation protocols and dataset names: every
table of names of the project lives here, as plain data that tests check entry by entry.

The training ontology is the 16-class SYNTHIA->Cityscapes protocol (or 7 categories, or
CamVid's 11 classes). Evaluation protocols (16 classes, 13 classes, 7 categories) are
defined over it. A leaf module: it imports nothing from the project but its errors.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spigan.errors import SpiganError

IGNORE = 255  # void / unlabelled, never counted by the metrics

# The 16 classes, in the index order of the SYNTHIA->Cityscapes protocol.
CLASSES_16 = (
    "road", "sidewalk", "building", "wall", "fence", "pole", "traffic light", "traffic sign",
    "vegetation", "sky", "person", "rider", "car", "bus", "motorcycle", "bicycle",
)
CLASS_INDEX = {name: i for i, name in enumerate(CLASSES_16)}

# Cityscapes' official colours for these classes (cityscapesScripts labels.py).
PALETTE_16 = (
    (128, 64, 128), (244, 35, 232), (70, 70, 70), (102, 102, 156), (190, 153, 153),
    (153, 153, 153), (250, 170, 30), (220, 220, 0), (107, 142, 35), (70, 130, 180),
    (220, 20, 60), (255, 0, 0), (0, 0, 142), (0, 60, 100), (0, 0, 230), (119, 11, 32),
)

# The 13-class protocol is the 16 without wall, fence and pole. Following common practice
# (e.g. the SYNTHIA results of CBST/DACS), its mIoU averages the 16-class IoUs of those 13
# classes, taken from the same 16x16 confusion matrix.
CLASSES_13 = tuple(c for c in CLASSES_16 if c not in ("wall", "fence", "pole"))

# The 7 Cityscapes categories.
CATEGORIES_7 = ("flat", "construction", "object", "nature", "sky", "human", "vehicle")
PALETTE_7 = (
    (128, 64, 128), (70, 70, 70), (153, 153, 153), (107, 142, 35), (70, 130, 180),
    (220, 20, 60), (0, 0, 142),
)
CLASS16_TO_CATEGORY7 = {
    "road": "flat", "sidewalk": "flat",
    "building": "construction", "wall": "construction", "fence": "construction",
    "pole": "object", "traffic light": "object", "traffic sign": "object",
    "vegetation": "nature", "sky": "sky",
    "person": "human", "rider": "human",
    "car": "vehicle", "bus": "vehicle", "motorcycle": "vehicle", "bicycle": "vehicle",
}


def lookup_table(mapping: dict[int, int], size: int = 256) -> np.ndarray:
    """A uint8 table of `size` entries: table[k] = mapping[k], IGNORE for unmapped ids."""
    table = np.full(size, IGNORE, dtype=np.uint8)
    for src, dst in mapping.items():
        table[src] = dst
    return table


def names_to_table(src: tuple[str, ...], dst: tuple[str, ...], names: dict[str, str]) -> np.ndarray:
    """Lookup table from indices of `src` to indices of `dst` through a name->name map."""
    return lookup_table({src.index(a): dst.index(b) for a, b in names.items()})


TABLE_16_TO_7 = names_to_table(CLASSES_16, CATEGORIES_7, CLASS16_TO_CATEGORY7)


def colorize(labels: np.ndarray, palette=PALETTE_16) -> np.ndarray:
    """(H, W) class indices -> (H, W, 3) uint8 RGB; IGNORE and unknown ids are black."""
    lut = np.zeros((256, 3), dtype=np.uint8)
    lut[: len(palette)] = np.asarray(palette, dtype=np.uint8)
    return lut[labels]


# ---------------------------------------------------------------------------------------
# SYNTHIA (RAND-CITYSCAPES): class ids in the first channel of GT/LABELS/*.png
# ---------------------------------------------------------------------------------------

SYNTHIA_CLASSES = {
    0: "void", 1: "sky", 2: "building", 3: "road", 4: "sidewalk", 5: "fence", 6: "vegetation", 7: "pole",
    8: "car", 9: "traffic sign", 10: "pedestrian", 11: "bicycle", 12: "motorcycle", 13: "parking-slot",
    14: "road-work", 15: "traffic light", 16: "terrain", 17: "rider", 18: "truck", 19: "bus", 20: "train",
    21: "wall", 22: "lanemarking",
}
# The 16-class protocol; everything else (void, parking-slot, road-work, terrain, truck,
# train, lanemarking) is ignored.
SYNTHIA_TO_16 = {3: 0, 4: 1, 2: 2, 21: 3, 5: 4, 7: 5, 15: 6, 9: 7, 6: 8, 1: 9, 10: 10, 17: 11, 8: 12, 19: 13,
                 12: 14, 11: 15}
# 7 categories. Public code leaves motorcycle, rider, bus and wall unmapped; we use the
# cleaner mapping (DATASETS.md) that puts them in vehicle, human, vehicle, construction,
# and, like Cityscapes' categories, terrain in nature, parking in flat, truck and train in vehicle.
SYNTHIA_TO_7_NAMES = {
    "road": "flat", "sidewalk": "flat", "lanemarking": "flat", "parking-slot": "flat",
    "building": "construction", "fence": "construction", "wall": "construction",
    "pole": "object", "traffic sign": "object", "traffic light": "object",
    "vegetation": "nature", "terrain": "nature", "sky": "sky",
    "pedestrian": "human", "rider": "human",
    "car": "vehicle", "bicycle": "vehicle", "motorcycle": "vehicle", "truck": "vehicle", "bus": "vehicle",
    "train": "vehicle",
}
SYNTHIA_TO_7 = {i: CATEGORIES_7.index(SYNTHIA_TO_7_NAMES[n]) for i, n in SYNTHIA_CLASSES.items()
                if n in SYNTHIA_TO_7_NAMES}
CLASS16_TO_SYNTHIA = {v: k for k, v in SYNTHIA_TO_16.items()}  # for simulator exports

# ---------------------------------------------------------------------------------------
# Cityscapes: *_gtFine_labelIds.png
# ---------------------------------------------------------------------------------------

CITYSCAPES_TO_16 = {7: 0, 8: 1, 11: 2, 12: 3, 13: 4, 17: 5, 19: 6, 20: 7, 21: 8, 23: 9, 24: 10, 25: 11, 26: 12,
                    28: 13, 32: 14, 33: 15}
# 7 categories as listed in DATASETS.md (flat = road and sidewalk only; parking and rail
# track, ignored in Cityscapes' own evaluation, stay ignored).
CITYSCAPES_TO_7 = {7: 0, 8: 0, 11: 1, 12: 1, 13: 1, 17: 2, 19: 2, 20: 2, 21: 3, 22: 3, 23: 4, 24: 5, 25: 5,
                   26: 6, 27: 6, 28: 6, 29: 6, 30: 6, 31: 6, 32: 6, 33: 6}
CLASS16_TO_CITYSCAPES = {v: k for k, v in CITYSCAPES_TO_16.items()}  # for simulator exports
CITYSCAPES_UNLABELED = 0

# ---------------------------------------------------------------------------------------
# Mapillary Vistas v1.2: label value = index into config["labels"]; mapped by name
# ---------------------------------------------------------------------------------------

VISTAS_TO_7_NAMES = {
    "Bike Lane": "flat", "Crosswalk - Plain": "flat", "Curb Cut": "flat", "Parking": "flat",
    "Pedestrian Area": "flat", "Rail Track": "flat", "Road": "flat", "Service Lane": "flat", "Sidewalk": "flat",
    "Lane Marking - Crosswalk": "flat", "Lane Marking - General": "flat",
    "Curb": "construction", "Fence": "construction", "Guard Rail": "construction", "Barrier": "construction",
    "Wall": "construction", "Bridge": "construction", "Building": "construction", "Tunnel": "construction",
    "Pothole": "object", "Street Light": "object", "Pole": "object", "Traffic Sign Frame": "object",
    "Utility Pole": "object", "Traffic Light": "object", "Traffic Sign (Back)": "object",
    "Traffic Sign (Front)": "object",
    # Terrain goes to nature, as in Cityscapes' categories (some public code puts it in flat).
    "Vegetation": "nature", "Terrain": "nature",
    "Sky": "sky",
    "Person": "human", "Bicyclist": "human", "Motorcyclist": "human", "Other Rider": "human",
    "Bicycle": "vehicle", "Boat": "vehicle", "Bus": "vehicle", "Car": "vehicle", "Caravan": "vehicle",
    "Motorcycle": "vehicle", "On Rails": "vehicle", "Other Vehicle": "vehicle", "Trailer": "vehicle",
    "Truck": "vehicle", "Wheeled Slow": "vehicle",
}


# The 66 Vistas v1.2 names in index order (DATASETS.md); loaders read the names from the
# dataset's own config file instead, this list is for simulator exports in Vistas' layout.
VISTAS_NAMES = (
    "Bird", "Ground Animal", "Curb", "Fence", "Guard Rail", "Barrier", "Wall", "Bike Lane", "Crosswalk - Plain",
    "Curb Cut", "Parking", "Pedestrian Area", "Rail Track", "Road", "Service Lane", "Sidewalk", "Bridge", "Building",
    "Tunnel", "Person", "Bicyclist", "Motorcyclist", "Other Rider", "Lane Marking - Crosswalk",
    "Lane Marking - General", "Mountain", "Sand", "Sky", "Snow", "Terrain", "Vegetation", "Water", "Banner", "Bench",
    "Bike Rack", "Billboard", "Catch Basin", "CCTV Camera", "Fire Hydrant", "Junction Box", "Mailbox", "Manhole",
    "Phone Booth", "Pothole", "Street Light", "Pole", "Traffic Sign Frame", "Utility Pole", "Traffic Light",
    "Traffic Sign (Back)", "Traffic Sign (Front)", "Trash Can", "Bicycle", "Boat", "Bus", "Car", "Caravan",
    "Motorcycle", "On Rails", "Other Vehicle", "Trailer", "Truck", "Wheeled Slow", "Car Mount", "Ego Vehicle",
    "Unlabeled",
)
CLASS16_TO_VISTAS_NAMES = {
    "road": "Road", "sidewalk": "Sidewalk", "building": "Building", "wall": "Wall", "fence": "Fence", "pole": "Pole",
    "traffic light": "Traffic Light", "traffic sign": "Traffic Sign (Front)", "vegetation": "Vegetation",
    "sky": "Sky", "person": "Person", "rider": "Bicyclist", "car": "Car", "bus": "Bus", "motorcycle": "Motorcycle",
    "bicycle": "Bicycle",
}


def vistas_to_7(label_names: list[str]) -> dict[int, int]:
    """Vistas label index -> category index, from the names in the dataset's config file
    (matched case-insensitively, ignoring spaces around hyphens)."""
    def key(name: str) -> str:
        return " ".join(name.lower().replace("-", " - ").split())

    wanted = {key(n): CATEGORIES_7.index(c) for n, c in VISTAS_TO_7_NAMES.items()}
    return {i: wanted[key(n)] for i, n in enumerate(label_names) if key(n) in wanted}


# ---------------------------------------------------------------------------------------
# CamVid (SegNet's 11 classes): labels are class indices, 11 = Unlabelled (ignored)
# ---------------------------------------------------------------------------------------

CAMVID_CLASSES = ("sky", "building", "pole", "road", "pavement", "tree", "sign symbol", "fence", "car",
                  "pedestrian", "bicyclist")
CAMVID_PALETTE = ((128, 128, 128), (128, 0, 0), (192, 192, 128), (128, 64, 128), (60, 40, 222), (128, 128, 0),
                  (192, 128, 128), (64, 64, 128), (64, 0, 128), (64, 64, 0), (0, 128, 192))
CAMVID_TO_CAMVID = {i: i for i in range(11)}  # 11 (Unlabelled) -> ignored
# The simulator's 16 classes in CamVid's 11, following SegNet's merge of CamVid's 32 classes:
# walls are Building, traffic lights SignSymbol, buses Car, riders and two-wheelers Bicyclist.
CLASS16_TO_CAMVID_NAMES = {
    "road": "road", "sidewalk": "pavement", "building": "building", "wall": "building", "fence": "fence",
    "pole": "pole", "traffic light": "sign symbol", "traffic sign": "sign symbol", "vegetation": "tree",
    "sky": "sky", "person": "pedestrian", "rider": "bicyclist", "car": "car", "bus": "car",
    "motorcycle": "bicyclist", "bicycle": "bicyclist",
}
TABLE_16_TO_CAMVID = names_to_table(CLASSES_16, CAMVID_CLASSES, CLASS16_TO_CAMVID_NAMES)

# ---------------------------------------------------------------------------------------
# Training ontologies: the classes T predicts
# ---------------------------------------------------------------------------------------

ONTOLOGIES = {
    "16-class": (CLASSES_16, PALETTE_16),
    "7-category": (CATEGORIES_7, PALETTE_7),
    "camvid-11": (CAMVID_CLASSES, CAMVID_PALETTE),
}
# How the simulator's 16-class labels become each training ontology.
SIM_TO_ONTOLOGY = {"16-class": None, "7-category": TABLE_16_TO_7, "camvid-11": TABLE_16_TO_CAMVID}

# ---------------------------------------------------------------------------------------
# Evaluation protocols
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Protocol:
    """How predictions and labels in the model's classes are scored.

    Attributes:
        name: printed in every report, so numbers are never mixed across protocols.
        class_names: the classes of the confusion matrix.
        table: uint8 lookup from model class index to protocol class (IGNORE = not scored);
            None means the model's classes are the protocol's.
        reported: indices of `class_names` averaged into mIoU; None means all of them.
    """

    name: str
    class_names: tuple[str, ...]
    table: np.ndarray | None = None
    reported: tuple[int, ...] | None = None

    def map(self, labels: np.ndarray) -> np.ndarray:
        return labels if self.table is None else self.table[labels]


PROTOCOL_16 = Protocol("16-class", CLASSES_16)
PROTOCOL_13 = Protocol("13-class", CLASSES_16, reported=tuple(CLASSES_16.index(c) for c in CLASSES_13))
PROTOCOL_7 = Protocol("7-category", CATEGORIES_7, table=TABLE_16_TO_7)
PROTOCOLS = {p.name: p for p in (PROTOCOL_16, PROTOCOL_13, PROTOCOL_7)}


def dataset_protocol(name: str, class_names: tuple[str, ...]) -> Protocol:
    """A protocol over a dataset's own class list (labels and predictions already in it)."""
    return Protocol(name, tuple(class_names))


def protocol_for(ontology: str, name: str) -> Protocol:
    """The protocol `name` for a model trained on `ontology`: a 16-class model can be scored
    with the 16-class, 13-class or 7-category protocol; any other model with its own classes."""
    if ontology not in ONTOLOGIES:
        raise SpiganError(f"data.ontology: {ontology!r} is not one of {', '.join(ONTOLOGIES)}")
    if ontology == "16-class":
        if name not in PROTOCOLS:
            raise SpiganError(f"data.protocol: {name!r} does not apply to a 16-class model "
                              f"(use one of {', '.join(PROTOCOLS)})")
        return PROTOCOLS[name]
    if name != ontology:
        raise SpiganError(f"data.protocol: a {ontology} model is scored with the {ontology} protocol, not {name!r}")
    return dataset_protocol(ontology, ONTOLOGIES[ontology][0])


# ---------------------------------------------------------------------------------------
# CARLA: the semantic camera's tag in the red channel (docs/DATASETS.md). The tags changed
# in 0.9.14; `carla` reads the 0.9.14+ list (0.9.14, 0.9.15, 0.10: CARLA's Docs/ref_sensors.md),
# `carla_legacy` the 0.9.10-0.9.13 one (whose first 13 tags are those of 0.9.0-0.9.9).
# ---------------------------------------------------------------------------------------

CARLA_TAGS = (
    "unlabeled", "road", "sidewalk", "building", "wall", "fence", "pole", "traffic light", "traffic sign",
    "vegetation", "terrain", "sky", "pedestrian", "rider", "car", "truck", "bus", "train", "motorcycle", "bicycle",
    "static", "dynamic", "other", "water", "road line", "ground", "bridge", "rail track", "guard rail",
)
CARLA_LEGACY_TAGS = (
    "unlabeled", "building", "fence", "other", "pedestrian", "pole", "road line", "road", "sidewalk", "vegetation",
    "vehicles", "wall", "traffic sign", "sky", "ground", "bridge", "rail track", "guard rail", "traffic light",
    "static", "dynamic", "water", "terrain",
)
# The 16 classes, as SYNTHIA's and Cityscapes' are: terrain, truck and train are ignored.
# Road lines are road (Cityscapes labels markings as road; SYNTHIA's protocol ignores its
# lanemarking instead). Before 0.9.14 one tag, `vehicles`, holds every vehicle: mostly
# cars, so it is car (buses and two-wheelers of those captures teach "car").
CARLA_TO_16_NAMES = {
    "road": "road", "road line": "road", "sidewalk": "sidewalk", "building": "building", "wall": "wall",
    "fence": "fence", "pole": "pole", "traffic light": "traffic light", "traffic sign": "traffic sign",
    "vegetation": "vegetation", "sky": "sky", "pedestrian": "person", "rider": "rider", "car": "car",
    "vehicles": "car", "bus": "bus", "motorcycle": "motorcycle", "bicycle": "bicycle",
}
# 7 categories as cityscapesScripts' labels.py puts each class: rail track flat, guard rail
# and bridge construction; ground, static, dynamic, other, water and unlabeled ignored (void).
CARLA_TO_7_NAMES = {
    "road": "flat", "road line": "flat", "sidewalk": "flat", "rail track": "flat",
    "building": "construction", "wall": "construction", "fence": "construction", "guard rail": "construction",
    "bridge": "construction", "pole": "object", "traffic light": "object", "traffic sign": "object",
    "vegetation": "nature", "terrain": "nature", "sky": "sky", "pedestrian": "human", "rider": "human",
    "car": "vehicle", "truck": "vehicle", "bus": "vehicle", "train": "vehicle", "motorcycle": "vehicle",
    "bicycle": "vehicle", "vehicles": "vehicle",
}


def tags_to_classes(tags: tuple[str, ...], names: dict[str, str], classes: tuple[str, ...]) -> dict[int, int]:
    """{tag value: class index} for the tags `names` maps to a class of `classes`."""
    return {value: classes.index(names[tag]) for value, tag in enumerate(tags) if tag in names}


CARLA_TO_16 = tags_to_classes(CARLA_TAGS, CARLA_TO_16_NAMES, CLASSES_16)
CARLA_TO_7 = tags_to_classes(CARLA_TAGS, CARLA_TO_7_NAMES, CATEGORIES_7)
CARLA_LEGACY_TO_16 = tags_to_classes(CARLA_LEGACY_TAGS, CARLA_TO_16_NAMES, CLASSES_16)
CARLA_LEGACY_TO_7 = tags_to_classes(CARLA_LEGACY_TAGS, CARLA_TO_7_NAMES, CATEGORIES_7)
CLASS16_TO_CARLA = {CLASSES_16.index(c): CARLA_TAGS.index(t) for t, c in CARLA_TO_16_NAMES.items()
                    if t in CARLA_TAGS and t != "road line"}  # for simulator exports

# ---------------------------------------------------------------------------------------
# Datasets: name -> the roles it can play and the ontology its labels are read in by default
# (None: named by the dataset itself, as a folder dataset's mapping.yaml does)
# ---------------------------------------------------------------------------------------

DATASETS = {
    "sim": {"roles": ("source", "target"), "ontology": "16-class"},
    "synthia": {"roles": ("source",), "ontology": "16-class"},
    "carla": {"roles": ("source",), "ontology": "16-class"},
    "carla_legacy": {"roles": ("source",), "ontology": "16-class"},
    "cityscapes": {"roles": ("target",), "ontology": "16-class"},
    "vistas": {"roles": ("target",), "ontology": "7-category"},
    "camvid": {"roles": ("target",), "ontology": "camvid-11"},
    "folder": {"roles": ("source", "target"), "ontology": None},
}
REAL_DATASETS = tuple(name for name in DATASETS if name != "sim")


def datasets_for(role: str) -> tuple[str, ...]:
    """The dataset names that can be the `role` ("source" or "target")."""
    return tuple(name for name, d in DATASETS.items() if role in d["roles"])
