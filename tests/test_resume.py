"""What a resumed run may change: safe changes are applied and named, others refused
naming the key, wherever they come from (the run's config.yaml or the command line)."""

import pytest
import yaml

from spigan.config import config_from_dict, load_config, to_dict
from spigan.errors import SpiganError
from spigan.resume import resumed_config


def test_resume_accepts_safe_changes_and_names_them(tmp_path):
    saved = to_dict(load_config(None, ["train.iterations=10"]))
    run_config = tmp_path / "config.yaml"
    edited = dict(saved, train=dict(saved["train"], log_every=5))
    run_config.write_text(yaml.safe_dump(edited))
    cfg, changes = resumed_config(saved, run_config, ["train.iterations=20", "data.target_root=/elsewhere"])
    assert (cfg.train.iterations, cfg.train.log_every, cfg.data.target_root) == (20, 5, "/elsewhere")
    assert [str(c) for c in changes] == [f"train.log_every: 10 -> 5 ({run_config})",
                                         "data.target_root: '' -> '/elsewhere' (command line)",
                                         "train.iterations: 10 -> 20 (command line)"]
    assert resumed_config(saved, tmp_path / "absent.yaml", []) == (config_from_dict(saved), [])


@pytest.mark.parametrize("where", ["command line", "config.yaml"])
def test_resume_refuses_changes_to_what_was_trained(tmp_path, where):
    saved = to_dict(load_config(None))
    run_config = tmp_path / "config.yaml"
    overrides = []
    if where == "config.yaml":
        run_config.write_text(yaml.safe_dump(dict(saved, loss=dict(saved["loss"], task=0.7))))
    else:
        overrides = ["loss.task=0.7"]
    with pytest.raises(SpiganError, match=r"loss.task: cannot be changed on --resume \(0.5 in the checkpoint, 0.7 in "
                                          + ("command line" if overrides else str(run_config))):
        resumed_config(saved, run_config, overrides)


def test_resume_refuses_to_change_where_the_weights_started():
    # A resumed run's weights are its own checkpoint's: another init_from would misreport them.
    saved = to_dict(load_config(None, ["train.init_from=runs/a"]))
    with pytest.raises(SpiganError, match=r"train.init_from: cannot be changed on --resume \('runs/a' in the "
                                          r"checkpoint, 'runs/b' in command line\)"):
        resumed_config(saved, None, ["train.init_from=runs/b"])
