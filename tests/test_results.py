"""A run's results.json as a typed record: round trip, old files, bad files."""

import json

import numpy as np
import pytest

from spigan.errors import SpiganError
from spigan.evaluate import Scores, negative_transfer
from spigan.results import RunResult, load_run


def test_finished_run_round_trips(finished_run):
    folder, results = finished_run
    result = RunResult.load(folder / "spigan" / "results.json")
    assert result.to_dict() == results
    assert result.scores().miou == result.checkpoints["early_stop"].miou or np.isnan(result.scores().miou)
    run = load_run(folder / "spigan")
    assert run.method == "spigan" and run.seed == 0 and run.default_checkpoint().exists()


def test_missing_values_and_oracle_iteration():
    d = {"protocol": "toy", "default": "last",
         "checkpoints": {"last": {"miou": None, "iou": {"a": None, "b": 0.5}, "per_image_miou": [0.1, None]},
                         "oracle": {"miou": 0.5, "iou": {"a": 0.4, "b": 0.6}, "per_image_miou": [0.2, 0.3],
                                    "iteration": 40}}}
    result = RunResult.from_dict(d)
    assert np.isnan(result.scores().miou) and result.checkpoints["oracle"].iteration == 40
    assert result.checkpoints["last"].to_dict()["iou"] == {"a": None, "b": 0.5}
    assert result.checkpoints["oracle"].to_dict()["iteration"] == 40
    assert negative_transfer(result.checkpoints["last"], result.checkpoints["oracle"]) == 1.0


def test_unreadable_results_are_one_clear_error(tmp_path):
    (tmp_path / "results.json").write_text(json.dumps({"protocol": "x"}))
    with pytest.raises(SpiganError, match="results.json: not a spigan results.json"):
        RunResult.load(tmp_path / "results.json")
    assert isinstance(Scores.from_dict({"iou": {}, "miou": 1.0}, "p"), Scores)
