"""Every experiment config in configs/ runs: two iterations on simulator exports written in
the datasets' own formats, at tiny size (the real runs need the datasets and a GPU)."""

from pathlib import Path

import pytest

from spigan.config import load_config
from spigan.data.export import export
from spigan.train import train

CONFIGS = Path(__file__).resolve().parents[1] / "src" / "spigan" / "configs"
TINY = ["model.generator_width=4", "model.generator_blocks=1", "model.discriminator_width=4",
        "model.fcn_width=8", "model.fcn_fc_dim=16", "model.perceptual_width=8", "model.vgg16_weights=",
        "model.vgg19_weights=", "train.iterations=2", "train.batch_size=2", "train.log_every=1",
        "train.generator_steps=2", "train.device=cpu", "data.source_frames=4", "data.val_frames=3",
        "train.threads=1"]


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    root = tmp_path_factory.mktemp("exports")
    export("sim", 4, 32, 64, root / "synthia", progress=False)
    for layout in ("cityscapes", "vistas", "camvid"):
        for split in ("train", "val"):
            export("photo", 4 if split == "train" else 3, 32, 64, root / layout, split=split, layout=layout,
                   progress=False)
    return root


@pytest.mark.parametrize("name, target", [
    ("synthia2cityscapes_16_320x640", "cityscapes"),
    ("synthia2cityscapes_16_512x1024", "cityscapes"),
    ("synthia2cityscapes_7", "cityscapes"),
    ("synthia2vistas_7", "vistas"),
    ("sim2camvid", "camvid"),
])
def test_config_runs_two_iterations(exports, tmp_path, name, target):
    cfg = load_config(CONFIGS / f"{name}.yaml", TINY + [
        f"data.source_root={exports / 'synthia'}", f"data.target_root={exports / target}",
        "data.size=[32,64]", "data.crop=[32,32]", f"data.cache_dir={tmp_path / 'cache'}"])
    results = train(cfg, tmp_path / "run", progress=False)
    scores = results["checkpoints"]["last"]
    assert results["iterations"] == 2 and results["protocol"] == cfg.data.protocol
    assert len(scores["per_image_miou"]) == 3 and 0 <= scores["miou"] <= 1


def test_paper_configs_keep_the_papers_values(tmp_path):
    roots = [f"data.source_root={tmp_path}", f"data.target_root={tmp_path}"]
    for name in ("synthia2cityscapes_16_320x640", "synthia2cityscapes_7", "synthia2vistas_7", "paper"):
        cfg = load_config(CONFIGS / f"{name}.yaml", roots)
        assert (cfg.loss.adversarial, cfg.loss.task, cfg.loss.privileged, cfg.loss.perceptual) == (1, 0.5, 0.1, 0.33)
        assert cfg.data.size == (320, 640) and cfg.data.crop == (320, 320)
        assert cfg.model.generator_blocks == 9 and cfg.model.fcn_input_padding == 100
        assert not cfg.model.generator_skip and cfg.model.discriminator_layers == 3
    big = load_config(CONFIGS / "synthia2cityscapes_16_512x1024.yaml", roots)
    assert big.data.size == (512, 1024) and big.data.crop == (400, 400)
