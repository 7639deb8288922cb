"""benchmarks/task_on_adapted.py: T scored on x_s and on G(x_s) with the simulator's labels."""

import pytest
import torch

from spigan.checkpoint import load_checkpoint, network_from_checkpoint
from conftest import load_benchmark


def load_script():
    return load_benchmark("task_on_adapted")


def test_G_is_applied_and_an_identity_G_changes_nothing(finished_run, pretrained_run, monkeypatch):
    script = load_script()
    run = finished_run[0] / "spigan"
    G = network_from_checkpoint(load_checkpoint(run / "checkpoints" / "last.pt"), "generator").eval()
    samples = [{"image": torch.rand(3, 32, 64) * 2 - 1, "labels": torch.zeros(32, 64, dtype=torch.long)}]
    adapted = script.adapted(samples, G)[0]
    with torch.no_grad():
        torch.testing.assert_close(adapted["image"], G(samples[0]["image"][None])[0])
    assert not torch.equal(adapted["image"], samples[0]["image"]) and adapted["labels"] is samples[0]["labels"]

    got = script.content_scores(run, baseline=finished_run[0] / "source_only", frames=3, gap=True,
                                 phi_from=pretrained_run[0])
    gap = got.pop("feature gap closed")
    assert set(got) == {"T on x_s", "T on G(x_s)", "baseline on x_s", "baseline on G(x_s)"}
    assert all(0 <= v <= 100 for v in got.values()) and len(gap) == 5 and all(v < 100 for v in gap)
    monkeypatch.setattr(script, "adapted", lambda samples, generator: samples)  # G = identity
    same = script.content_scores(run, frames=3)
    assert same == {"T on x_s": got["T on x_s"], "T on G(x_s)": got["T on x_s"]}


def test_the_feature_gap_is_0_for_the_identity_and_100_for_the_target_itself():
    script = load_script()
    torch.manual_seed(0)
    phi = lambda x: [x, x[:, :2] * 3]  # noqa: E731  (two "layers")
    x_s = [{"image": torch.rand(3, 8, 8)} for _ in range(6)]
    x_r = [{"image": torch.rand(3, 8, 8) + 1} for _ in range(6)]
    assert script.gap_closed(phi, x_s, x_s, x_r) == [0, 0]
    assert script.gap_closed(phi, x_s, x_r, x_r) == [100, 100]
    halfway = [{"image": (a["image"] + b["image"]) / 2} for a, b in zip(x_s, x_r)]
    assert all(0 < v < 100 for v in script.gap_closed(phi, x_s, halfway, x_r))
    further = [{"image": a["image"] - 1} for a in x_s]
    assert all(v < 0 for v in script.gap_closed(phi, x_s, further, x_r))
    a, b = torch.tensor([[0.0, 1.0], [2.0, 1.0]]), torch.tensor([[1.0, 1.0], [1.0, 1.0]])
    # means (1, 1) and (1, 1); standard deviations (1.414, 0) and (0, 0)
    assert script.frechet_diagonal(a, b) == pytest.approx(2.0)
