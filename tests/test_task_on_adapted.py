"""benchmarks/task_on_adapted.py: T scored on x_s and on G(x_s) with the simulator's labels."""

import importlib.util
from pathlib import Path

import torch

from spigan.checkpoint import load_checkpoint, network_from_checkpoint

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "task_on_adapted.py"


def load_script():
    spec = importlib.util.spec_from_file_location("task_on_adapted", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_G_is_applied_and_an_identity_G_changes_nothing(finished_run, monkeypatch):
    script = load_script()
    run = finished_run[0] / "spigan"
    G = network_from_checkpoint(load_checkpoint(run / "checkpoints" / "last.pt"), "generator").eval()
    samples = [{"image": torch.rand(3, 32, 64) * 2 - 1, "labels": torch.zeros(32, 64, dtype=torch.long)}]
    adapted = script.Adapted(samples, G)[0]
    with torch.no_grad():
        torch.testing.assert_close(adapted["image"], G(samples[0]["image"][None])[0])
    assert not torch.equal(adapted["image"], samples[0]["image"]) and adapted["labels"] is samples[0]["labels"]

    got = script.content_scores(run, baseline=finished_run[0] / "source_only", frames=3)
    assert set(got) == {"T on x_s", "T on G(x_s)", "baseline on x_s", "baseline on G(x_s)"}
    assert all(0 <= v <= 100 for v in got.values())
    monkeypatch.setattr(script, "Adapted", lambda samples, generator: samples)  # G = identity
    same = script.content_scores(run, frames=3)
    assert same == {"T on x_s": got["T on x_s"], "T on G(x_s)": got["T on x_s"]}
