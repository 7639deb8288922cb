"""Config: defaults are the paper's, strict merge, overrides, round trip."""

import pytest

from spigan.config import Config, config_from_dict, load_config, to_dict
from spigan.errors import SpiganError


def test_defaults_are_the_papers():
    cfg = Config()
    assert (cfg.loss.adversarial, cfg.loss.task, cfg.loss.privileged, cfg.loss.perceptual) == (1.0, 0.5, 0.1, 0.33)
    assert cfg.train.lr == 2e-4 and cfg.train.generator_steps == 5
    assert cfg.data.size == (320, 640) and cfg.data.crop == (320, 320)
    assert cfg.model.generator_blocks == 9 and cfg.model.fcn_input_padding == 100 and not cfg.model.generator_skip


def test_yaml_and_overrides(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("name: x\ntrain: {lr: 1e-3, iterations: 7}\ndata: {size: [64, 128]}\n")
    cfg = load_config(path, ["train.method=no_pi", "data.crop=[32,32]", "early_stopping.halt=true"])
    assert cfg.train.lr == 1e-3 and cfg.train.iterations == 7 and cfg.train.method == "no_pi"
    assert cfg.data.size == (64, 128) and cfg.data.crop == (32, 32) and cfg.early_stopping.halt is True


@pytest.mark.parametrize("override, message", [
    ("train.lrr=1", "train.lrr: unknown key"),
    ("trian.lr=1", "trian: unknown key"),
    ("train.iterations=1.5", "train.iterations: expected an integer"),
    ("train.iterations=true", "train.iterations: expected an integer"),
    ("train.lr=fast", "train.lr: expected a number"),
    ("early_stopping.halt=1", "early_stopping.halt: expected true or false"),
    ("data.size=[64]", "data.size: expected a list of 2"),
    ("train.method=cycle", "train.method: 'cycle' is not one of"),
    ("train=3", "train: expected a mapping"),
    ("data.size=[63,128]", "multiples of 4"),
    ("data.sim_camera=1.5", "data.sim_camera: must be in [0, 1]"),
    ("data.sim_randomization=-0.1", "data.sim_randomization: must be in [0, 1]"),
    ("data.sim_degenerate=1", "data.sim_degenerate: expected true or false"),
])
def test_strict_errors_name_the_key(override, message):
    with pytest.raises(SpiganError, match=message.replace("[", r"\[")):
        load_config(None, [override])


def test_round_trip():
    cfg = load_config(None, ["train.seed=3", "data.crop=[32,64]", "data.size=[64,128]"])
    assert config_from_dict(to_dict(cfg)) == cfg


def test_sim_knob_defaults_are_the_simulators():
    from spigan.sim.knobs import SimKnobs

    data = Config().data
    assert SimKnobs(data.sim_camera, data.sim_randomization, data.sim_degenerate) == SimKnobs()
