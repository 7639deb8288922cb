"""spigan.sources, the one place datasets are built from a config: which frames a run
reads, and what they carry (the variant's keys, decided once)."""

import shutil

import pytest

from spigan.config import load_config
from spigan.data.datasets import Samples, SimSource
from spigan.data.export import export
from spigan.errors import SpiganError
from spigan.sources import VALIDATION_KEYS, evaluation_samples, frame_source, validation_samples


def test_the_simulators_splits_come_from_the_config(tiny_config):
    cfg = tiny_config()  # 4 training frames per role, 3 validation frames
    assert isinstance(frame_source(cfg, "source", "train"), SimSource)
    assert [len(frame_source(cfg, role, split)) for role in ("source", "target") for split in ("train", "val")] == \
        [4, 3, 4, 3]
    val = validation_samples(cfg, "source", ("image",))
    assert isinstance(val, Samples) and val.keys == ("image",) and val.source.frames.domain == "sim"
    assert validation_samples(cfg).source.frames.domain == "photo"
    scored = evaluation_samples(cfg, "sim", "test", frames=2, domain="sim")
    assert len(scored) == 2 and scored.keys == VALIDATION_KEYS and scored.source.frames.split == "test"
    with pytest.raises(SpiganError, match="^--split nope: the simulator's splits are train, val, test$"):
        evaluation_samples(cfg, "sim", "nope")


def test_a_real_datasets_files_are_read_as_the_variant_says(tmp_path, tiny_config):
    """The labelled stream reads the source's depth where the variant's batch_keys hold it
    (every adapted variant), not for source_only; the unlabelled target stream reads no
    target labels (target_keys), the validation split does."""
    export("sim", 2, 32, 64, tmp_path / "src", split="train", layout="folder", progress=False)
    shutil.rmtree(tmp_path / "src" / "depth")
    export("photo", 2, 32, 64, tmp_path / "cam", split="train", layout="camvid", progress=False)
    export("photo", 2, 32, 64, tmp_path / "cam", split="val", layout="camvid", progress=False)
    shutil.rmtree(tmp_path / "cam" / "trainannot")
    data = ["data.source=folder", f"data.source_root={tmp_path / 'src'}", "data.target=camvid",
            f"data.target_root={tmp_path / 'cam'}", "data.ontology=camvid-11", "data.protocol=camvid-11"]
    source_only = tiny_config(*data, "train.method=source_only").variant()
    spigan = tiny_config(*data).variant()
    cfg = tiny_config(*data)
    assert len(frame_source(cfg, "source", "train", source_only.batch_keys)) == 2
    with pytest.raises(SpiganError, match="depth/train: folder not found"):
        frame_source(cfg, "source", "train", spigan.batch_keys)
    assert len(frame_source(cfg, "target", "train", spigan.target_keys)) == 2
    with pytest.raises(SpiganError, match="trainannot: folder not found"):
        frame_source(cfg, "target", "train", tiny_config(*data, "train.method=target_only").variant().batch_keys)
    val = frame_source(cfg, "target", "val")
    assert val[0]["labels"].shape == (32, 64) and "depth" not in val[0]


def test_a_real_dataset_needs_its_root():
    cfg = load_config(None, ["data.target=camvid", "data.ontology=camvid-11", "data.protocol=camvid-11"], roots=False)
    with pytest.raises(SpiganError, match="^data.target_root: required for the camvid dataset$"):
        frame_source(cfg, "target", "val")
    with pytest.raises(SpiganError, match="^--root: required for --dataset camvid$"):
        evaluation_samples(cfg, "camvid", "val")
