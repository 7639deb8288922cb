"""Class lists, colour palettes and id maps: every class table of the project lives here.

The training ontology is the 16-class SYNTHIA->Cityscapes protocol. Evaluation protocols
(16 classes, 13 classes, 7 categories) are defined over it. All tables are plain data so that
tests can check them entry by entry.
"""

from __future__ import annotations

import numpy as np

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
