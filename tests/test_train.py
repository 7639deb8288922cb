"""The loop: a few iterations of the real train() on tiny frames, in process; exact resume;
non-finite losses; and the same numbers as before the refactor of issue 11."""

import json
import os
import signal
from pathlib import Path

import numpy as np
import pytest
import torch

from spigan import train as train_module
from spigan.checkpoint import load_checkpoint
from spigan.errors import Interrupted, SpiganError
from spigan.train import resume_run, train

REFERENCE = Path(__file__).parent / "data" / "train_reference.json"


def losses(run: Path) -> list[dict]:
    return [{k: v for k, v in json.loads(line).items() if not k.startswith("time")}
            for line in (run / "metrics.jsonl").read_text().splitlines()]


def test_run_directory_contents(finished_run):
    folder, results = finished_run
    run = folder / "spigan"
    assert (run / "config.yaml").exists()
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["iteration"] for r in rows] == [1, 2, 3]
    for term in ("discriminator", "adversarial", "task_source", "task_adapted", "privileged_source",
                 "privileged_adapted", "perceptual", "total"):
        assert all(np.isfinite(r[term]) for r in rows), term
    assert all(r["time/threads"] == 1 for r in rows)
    assert list((run / "tensorboard").glob("events.out.tfevents.*"))
    assert (run / "figures" / "losses.png").stat().st_size > 10_000
    state = load_checkpoint(run / "checkpoints" / "last.pt")
    assert set(state["networks"]) == {"task", "generator", "discriminator", "privileged"}
    assert set(state["optimizers"]) == set(state["networks"]) and state["iteration"] == 3
    assert state["early_stopping"]["fired_at"] == 1
    assert (run / "checkpoints" / "early_stop.pt").exists()
    assert results["early_stopping_iteration"] == 1 and results["default"] == "early_stop"
    assert set(results["checkpoints"]) == {"early_stop", "last"}
    assert results["imagenet_weights"] == {"task (VGG16)": False, "privileged (VGG16)": False,
                                           "perceptual φ (VGG19)": False}
    assert results["precision"] == {"requested": "fp32", "used": "fp32", "reason": "set in the config"}
    assert results["threads"] == {"setting": 1, "min": 1, "max": 1}
    assert results["eval_size"] == "native (each label's own resolution)"
    assert results["scored_on"] == "sim/val (photo), 3 images"
    assert json.loads((run / "results.json").read_text()) == results
    assert not list(run.glob("checkpoints/.*.tmp"))


def test_source_only_has_task_network_alone(finished_run):
    folder, _ = finished_run
    results = json.loads((folder / "source_only" / "results.json").read_text())
    assert results["default"] == "last" and results["early_stopping_iteration"] is None
    assert set(load_checkpoint(folder / "source_only" / "checkpoints" / "last.pt")["networks"]) == {"task"}


def test_same_seed_same_losses(tmp_path, tiny_config):
    for name in ("a", "b"):
        train(tiny_config("train.iterations=3"), tmp_path / name, progress=False)
    assert losses(tmp_path / "a") == losses(tmp_path / "b")


def test_the_gradient_diagnostic_changes_nothing_and_is_logged(tmp_path, tiny_config):
    train(tiny_config("train.iterations=3", "train.log_generator_gradients=false"), tmp_path / "off", progress=False)
    train(tiny_config("train.iterations=3"), tmp_path / "on", progress=False)
    off, on = losses(tmp_path / "off"), losses(tmp_path / "on")
    assert [{k: v for k, v in r.items() if not k.startswith("generator_gradient")} for r in on] == off
    for row in on:
        shares = [row[f"generator_gradient_share/{t}"] for t in ("adversarial", "task", "privileged", "perceptual")]
        assert sum(shares) == pytest.approx(1.0) and shares[0] > 0 and shares[3] > 0
    # T's and P's score layers start at zero (FCN-8s), so they pass G no gradient at first.
    assert on[0]["generator_gradient/task"] == 0 and on[-1]["generator_gradient/privileged"] > 0


def test_channels_last_same_losses(tmp_path, tiny_config):
    train(tiny_config("train.iterations=2"), tmp_path / "plain", progress=False)
    train(tiny_config("train.iterations=2", "train.channels_last=true"), tmp_path / "cl", progress=False)
    for ra, rb in zip(losses(tmp_path / "plain"), losses(tmp_path / "cl")):
        for key in ("discriminator", "adversarial", "task_source", "task_adapted", "perceptual", "total"):
            assert rb[key] == pytest.approx(ra[key], rel=1e-4, abs=1e-5), key


def _same_networks(a: Path, b: Path) -> None:
    na, nb = load_checkpoint(a)["networks"], load_checkpoint(b)["networks"]
    assert na.keys() == nb.keys()
    for name in na:
        for key in na[name]:
            assert torch.equal(na[name][key], nb[name][key]), f"{name}.{key}"


@pytest.mark.slow
@pytest.mark.parametrize("method", ["spigan", "source_only"])
def test_interrupted_and_resumed_equals_uninterrupted(tmp_path, monkeypatch, tiny_config, method):
    extra = [f"train.method={method}", "train.iterations=6", "train.log_every=2", "train.checkpoint_every=2",
             "early_stopping.warmup=1", "early_stopping.patience=1", "early_stopping.margin=-100"]
    train(tiny_config(*extra), tmp_path / "straight", progress=False)

    real = train_module.run_iteration
    calls = {"n": 0}

    def interrupting(*args, **kwargs):
        out = real(*args, **kwargs)
        calls["n"] += 1
        if calls["n"] == 3:  # mid-interval: iteration 3's losses are pending, not yet logged
            os.kill(os.getpid(), signal.SIGINT)
        return out

    monkeypatch.setattr(train_module, "run_iteration", interrupting)
    with pytest.raises(Interrupted, match="interrupted at iteration 3"):
        train(tiny_config(*extra), tmp_path / "resumed", progress=False)
    assert load_checkpoint(tmp_path / "resumed" / "checkpoints" / "last.pt")["iteration"] == 3
    monkeypatch.setattr(train_module, "run_iteration", real)
    resume_run(tmp_path / "resumed", progress=False)

    assert losses(tmp_path / "resumed") == losses(tmp_path / "straight")
    _same_networks(tmp_path / "straight" / "checkpoints" / "last.pt", tmp_path / "resumed" / "checkpoints" / "last.pt")
    if method == "spigan":
        _same_networks(tmp_path / "straight" / "checkpoints" / "early_stop.pt",
                       tmp_path / "resumed" / "checkpoints" / "early_stop.pt")


def _poison(monkeypatch, at_call: int):
    real = train_module.run_iteration
    calls = {"n": 0}

    def poisoned(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == at_call:  # corrupt one network's weights: the next losses are NaN
            nets = args[1]["supervised"]
            with torch.no_grad():
                next(nets.task.parameters()).fill_(float("nan"))
        return real(*args, **kwargs)

    monkeypatch.setattr(train_module, "run_iteration", poisoned)


def test_nan_loss_stops_naming_term_and_iteration_without_saving(tmp_path, monkeypatch, tiny_config):
    cfg = tiny_config("train.method=source_only", "train.iterations=6", "train.checkpoint_every=2",
                      "train.log_every=3")
    _poison(monkeypatch, 4)
    with pytest.raises(SpiganError, match="non-finite task_source loss \\(nan\\) at iteration 4"):
        train(cfg, tmp_path / "run", progress=False)
    state = load_checkpoint(tmp_path / "run" / "checkpoints" / "last.pt")
    assert state["iteration"] == 2  # the good checkpoint, not overwritten at 4
    assert all(torch.isfinite(v).all() for v in state["networks"]["task"].values())


def test_a_run_that_fails_before_its_first_checkpoint_can_be_run_again(tmp_path, monkeypatch, tiny, capsys):
    """Issue 24.1: the folder such a run leaves is not "a run that exists": the same command
    starts it afresh, and --resume says so. The error line is not glued onto the bar's."""
    from spigan.cli import main

    _, overrides = tiny("train.method=source_only", "train.iterations=3", "train.checkpoint_every=3")
    (tmp_path / "tiny.yaml").write_text("name: tiny\n")
    command = ["train", str(tmp_path / "tiny.yaml"), *overrides, "--out", str(tmp_path / "run")]
    _poison(monkeypatch, 2)
    assert main(command) == 2  # the bar is drawn (progress on), as on a terminal
    err = capsys.readouterr().err
    assert err.split("\n")[-2].startswith("spigan: error: non-finite task_source loss (nan) at iteration 2")

    run = tmp_path / "run"
    assert main(["train", "--resume", str(run), "--quiet"]) == 2
    assert capsys.readouterr().err == (f"spigan: error: {run}: no checkpoint yet (the run stopped before its "
                                       f"first): run the same `spigan train ... --out {run}` again to start it "
                                       f"afresh\n")

    monkeypatch.undo()  # a healthy run this time
    assert main([*command, "--quiet"]) == 0
    err = capsys.readouterr().err
    assert f"spigan: {run}: the run there stopped before its first checkpoint; starting it afresh" in err
    assert load_checkpoint(run / "checkpoints" / "last.pt")["iteration"] == 3
    assert [row["iteration"] for row in losses(run)] == [1, 2, 3]  # the failed run's rows are gone
    assert main([*command, "--quiet"]) == 2  # now a run exists there
    assert "a run already exists there" in capsys.readouterr().err


def test_nan_loss_skip_mode_skips_the_update(tmp_path, monkeypatch, tiny_config):
    cfg = tiny_config("train.method=source_only", "train.iterations=4", "train.nonfinite=skip", "train.log_every=4")
    _poison(monkeypatch, 3)
    train(cfg, tmp_path / "run", progress=False)
    row = json.loads((tmp_path / "run" / "metrics.jsonl").read_text().splitlines()[-1])
    assert row["skipped"] == 2.0  # iterations 3 and 4: the poisoned weights stay, both updates skipped


def _fingerprint(tensor: torch.Tensor) -> list[float]:
    v = tensor.double()
    return [float(v.sum()), float(v.abs().sum()), float(v.square().sum())]


@pytest.mark.slow
@pytest.mark.parametrize("method", ["spigan", "no_pi", "source_only", "target_only"])
def test_same_numbers_as_before_the_refactor(tmp_path, method, cancelled_biases):
    """Issue 11 moved the loop's parts into modules of their own without changing what it
    computes: the losses and final parameters of a tiny run equal those stored before
    (tests/data/train_reference.json, made on commit 40069ab and, when issue 13 changed the
    simulator's frames, made again from the new frames after the same code had reproduced
    the stored numbers exactly from the old ones). Tolerances absorb the last
    bits in which other CPUs' kernels differ; biases that instance norm cancels are left
    out (their gradient is rounding noise, which Adam amplifies)."""
    from spigan.config import load_config
    from spigan.models import PatchDiscriminator, ResnetGenerator

    reference = json.loads(REFERENCE.read_text())
    expected = reference["runs"][method]
    # The reference predates loss.depth_target's default of metres: it was made with log.
    cfg = load_config(None, ["loss.depth_target=log", *reference["overrides"], f"train.method={method}",
                             f"data.cache_dir={tmp_path / 'c'}"])
    train(cfg, tmp_path / "run", progress=False)

    rows = losses(tmp_path / "run")
    assert len(rows) == len(expected["losses"])
    for got, want in zip(rows, expected["losses"]):
        # Issue 14 added the gradient diagnostic's columns; nothing else may differ.
        assert {k for k in got.keys() - want.keys() if not k.startswith("generator_gradient")} == set()
        assert want.keys() <= got.keys()
        for key in want:
            assert got[key] == pytest.approx(want[key], rel=1e-4, abs=1e-6), (got["iteration"], key)
    skip = {f"generator.{n}" for n in cancelled_biases(ResnetGenerator(4, 1))}
    skip |= {f"discriminator.{n}" for n in cancelled_biases(PatchDiscriminator(4))}
    state = load_checkpoint(tmp_path / "run" / "checkpoints" / "last.pt")
    params = {f"{net}.{k}": v for net, sd in state["networks"].items() for k, v in sd.items()}
    assert params.keys() == expected["params"].keys()
    for name, want in expected["params"].items():
        if name not in skip:
            assert _fingerprint(params[name]) == pytest.approx(want, rel=1e-4, abs=1e-5), name


def test_resume_with_more_iterations_equals_one_longer_run_and_an_edited_config_is_honoured(
        tmp_path, tiny, capsys):
    from spigan.cli import main

    cfg, overrides = tiny("train.method=source_only", "train.iterations=4")
    train(cfg, tmp_path / "straight", progress=False)
    train(tiny("train.method=source_only", "train.iterations=2")[0], tmp_path / "run", progress=False)
    assert main(["train", "--resume", str(tmp_path / "run"), "train.iterations=4", "--quiet"]) == 0
    assert "spigan: resume: train.iterations: 2 -> 4 (command line)" in capsys.readouterr().err
    assert losses(tmp_path / "run") == losses(tmp_path / "straight")
    _same_networks(tmp_path / "straight" / "checkpoints" / "last.pt", tmp_path / "run" / "checkpoints" / "last.pt")

    # An edited config.yaml: its safe changes are honoured (and printed), never ignored.
    run_config = tmp_path / "run" / "config.yaml"
    assert "iterations: 4" in run_config.read_text()  # rewritten with the config in use
    run_config.write_text(run_config.read_text().replace("log_every: 1", "log_every: 2"))
    assert main(["train", "--resume", str(tmp_path / "run"), "train.iterations=6", "--quiet"]) == 0
    err = capsys.readouterr().err
    assert f"train.log_every: 1 -> 2 ({run_config})" in err
    assert [row["iteration"] for row in losses(tmp_path / "run")] == [1, 2, 3, 4, 6]
    state = load_checkpoint(tmp_path / "run" / "checkpoints" / "last.pt")
    assert state["config"]["train"]["log_every"] == 2 and state["iteration"] == 6


def test_resume_refuses_fewer_iterations_than_the_checkpoint_has(finished_run, tmp_path):
    import shutil

    folder, _ = finished_run
    shutil.copytree(folder / "spigan", tmp_path / "run")
    with pytest.raises(SpiganError, match="train.iterations: 2 is below the checkpoint's iteration 3"):
        resume_run(tmp_path / "run", progress=False, overrides=["train.iterations=2"])
