"""The loop: a few iterations of the real train() on tiny frames, in process; exact resume;
non-finite losses; the same numbers as before the refactor of issue 11; runs started from
another run's weights (train.init_from); the pretraining (train.method=pretrain) and φ
taken from it."""

import json
import logging
import os
import shutil
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


@pytest.mark.numerics
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


def _poison_gradients(monkeypatch, at_call: int, network: str):
    """Makes one network's gradients infinite in iteration `at_call` while every loss stays
    finite: what wrong bf16 kernels did on a CPU with native bf16 (issue 21)."""
    real = train_module.run_iteration
    calls = {"n": 0}

    def poisoned(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] != at_call:
            return real(*args, **kwargs)
        weight = next(getattr(args[1]["supervised"], network).parameters())
        hook = weight.register_hook(lambda grad: grad * float("inf"))
        try:
            return real(*args, **kwargs)
        finally:
            hook.remove()

    monkeypatch.setattr(train_module, "run_iteration", poisoned)


@pytest.mark.parametrize("method, network", [("source_only", "task"), ("spigan", "generator")])
def test_nonfinite_gradient_stops_naming_network_and_iteration_without_saving(tmp_path, monkeypatch, tiny_config,
                                                                             method, network):
    cfg = tiny_config(f"train.method={method}", "train.iterations=6", "train.checkpoint_every=2",
                      "train.log_every=3")
    _poison_gradients(monkeypatch, 4, network)
    with pytest.raises(SpiganError, match=f"non-finite gradient of the {network} network at iteration 4 \\(the "
                                          "losses were finite\\)"):
        train(cfg, tmp_path / "run", progress=False)
    state = load_checkpoint(tmp_path / "run" / "checkpoints" / "last.pt")
    assert state["iteration"] == 2
    assert all(torch.isfinite(v).all() for net in state["networks"].values() for v in net.values())


def test_nonfinite_gradient_skip_mode_skips_the_update(tmp_path, monkeypatch, tiny_config):
    cfg = tiny_config("train.method=source_only", "train.iterations=4", "train.nonfinite=skip", "train.log_every=4")
    _poison_gradients(monkeypatch, 3, "task")
    train(cfg, tmp_path / "run", progress=False)
    row = json.loads((tmp_path / "run" / "metrics.jsonl").read_text().splitlines()[-1])
    assert row["skipped"] == 1.0 and not any(k.startswith("nonfinite") for k in row)
    state = load_checkpoint(tmp_path / "run" / "checkpoints" / "last.pt")
    assert all(torch.isfinite(v).all() for v in state["networks"]["task"].values())


def test_adaptation_warmup_leaves_t_and_p_fixed_while_g_and_d_learn(tmp_path, monkeypatch, tiny_config):
    """train.adaptation_warmup=2: in iterations 1-2 no adaptation step updates T or P (G
    still gets their losses on G(x_s): objective's update_task_and_privileged=False, tested
    in test_objective); from iteration 3 the first step of each iteration does again."""
    from spigan.build import build_networks

    cfg = tiny_config("train.adaptation_warmup=2", "train.iterations=2")
    updates = []
    real = train_module.adaptation_step
    monkeypatch.setattr(train_module, "adaptation_step",
                        lambda *a, **k: updates.append(k["update_task_and_privileged"]) or real(*a, **k))
    train(cfg, tmp_path / "warm", progress=False)
    assert updates == [False, False] * 2  # 2 iterations x train.generator_steps=2
    train_module.seed_everything(cfg.train.seed)
    built = build_networks(cfg, torch.device("cpu"))
    state = load_checkpoint(tmp_path / "warm" / "checkpoints" / "last.pt")["networks"]
    for name in ("task", "privileged"):
        assert all(torch.equal(v, state[name][k]) for k, v in getattr(built, name).state_dict().items()), name
    assert not all(torch.equal(v, state["generator"][k]) for k, v in built.generator.state_dict().items())
    updates.clear()
    train(tiny_config("train.adaptation_warmup=2", "train.iterations=3"), tmp_path / "on", progress=False)
    assert updates == [False, False, False, False, True, False]


def _fingerprint(tensor: torch.Tensor) -> list[float]:
    v = tensor.double()
    return [float(v.sum()), float(v.abs().sum()), float(v.square().sum())]


def _relative(got: float, want: float) -> float:
    return abs(got - want) / max(abs(want), ATOL)


RTOL, ATOL = 1e-9, 1e-12


@pytest.mark.slow
@pytest.mark.numerics
@pytest.mark.parametrize("method", ["spigan", "no_pi", "source_only", "target_only"])
def test_same_numbers_as_stored(tmp_path, method, cancelled_biases):
    """What training computes is unchanged: the losses and final parameters of a tiny run
    equal those stored in tests/data/train_reference.json (made by make_train_reference.py
    beside it; the code it was first made from reproduced, in float32, the numbers stored
    before the refactor of issue 11).

    It holds on every CPU because nothing in it depends on a CPU's kernels beyond float64
    rounding: the frames are PNG files (no renderer arithmetic), the run is in float64,
    where AVX2, AVX512 and AMX kernels differ by about 1e-16 and four iterations amplify
    that to 1.3e-13 at most (measured across the kernel sets an AVX2 CPU can run,
    docs/PERFORMANCE.md). RTOL is 7,000 times that spread and below what the smallest real
    change measured moves: train.lr or a loss weight changed by 1e-6 of itself moves the
    losses by 3e-9 to 6e-7 and the parameters by 3e-5 or more (issue 21).
    Biases that instance norm cancels are left out: their exact gradient is zero, so Adam
    moves them by rounding noise alone."""
    from spigan.config import load_config
    from spigan.models import PatchDiscriminator, ResnetGenerator

    reference = json.loads(REFERENCE.read_text())
    expected = reference["runs"][method]
    frames = REFERENCE.parent / "reference_frames"
    cfg = load_config(None, [*reference["overrides"], f"train.method={method}",
                             f"data.source_root={frames / 'synthia'}", f"data.target_root={frames / 'cityscapes'}"])
    train(cfg, tmp_path / "run", progress=False)

    rows = losses(tmp_path / "run")
    assert len(rows) == len(expected["losses"])
    worst = 0.0
    for got, want in zip(rows, expected["losses"]):
        assert {k for k in got.keys() - want.keys() if not k.startswith("generator_gradient")} == set()
        assert want.keys() <= got.keys()
        for key in want:
            worst = max(worst, _relative(got[key], want[key]))
            assert got[key] == pytest.approx(want[key], rel=RTOL, abs=ATOL), (got["iteration"], key)
    skip = {f"generator.{n}" for n in cancelled_biases(ResnetGenerator(4, 1))}
    skip |= {f"discriminator.{n}" for n in cancelled_biases(PatchDiscriminator(4))}
    state = load_checkpoint(tmp_path / "run" / "checkpoints" / "last.pt")
    params = {f"{net}.{k}": v for net, sd in state["networks"].items() for k, v in sd.items()}
    assert params.keys() == expected["params"].keys()
    for name, want in expected["params"].items():
        if name not in skip:
            got = _fingerprint(params[name])
            worst = max(worst, *(_relative(g, w) for g, w in zip(got, want)))
            assert got == pytest.approx(want, rel=RTOL, abs=ATOL), name
    print(f"largest relative difference from the stored numbers: {worst:.2e}")


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


def test_a_run_initialised_from_another_starts_from_its_weights_alone(finished_run, tmp_path, monkeypatch, caplog,
                                                                      tiny_config):
    """Weights, not the source's optimisers (Adam state empty), iteration, early stopping
    (it fired at iteration 1 there) or data position."""
    folder, _ = finished_run
    source = folder / "spigan" / "checkpoints" / "last.pt"
    weights = load_checkpoint(source)["networks"]
    seen = {}
    real = train_module.run_iteration

    def first_look(variant, step_nets, optimizers, source_it, *args, **kwargs):
        if not seen:
            nets = step_nets["all"]
            seen["equal"] = {name: all(torch.equal(v, weights[name][k]) for k, v in net.state_dict().items())
                             for name, net in nets.trainable().items()}
            seen["adam_state"] = [len(opt.state) for opt in optimizers.values()]
            seen["data"] = source_it.state_dict()
        return real(variant, step_nets, optimizers, source_it, *args, **kwargs)

    monkeypatch.setattr(train_module, "run_iteration", first_look)
    caplog.set_level(logging.INFO, logger="spigan")
    results = train(tiny_config("train.iterations=2", f"train.init_from={source}"), tmp_path / "run", progress=False)

    assert seen == {"equal": {"task": True, "generator": True, "discriminator": True, "privileged": True},
                    "adam_state": [0, 0, 0, 0], "data": {"epoch": 0, "position": 0}}
    assert [row["iteration"] for row in losses(tmp_path / "run")] == [1, 2]
    assert results["iterations"] == 2 and results["early_stopping_iteration"] is None
    record = {"checkpoint": str(source), "iteration": 3, "networks": ["task", "generator", "discriminator",
                                                                     "privileged"]}
    assert results["init_from"] == record
    assert json.loads((tmp_path / "run" / "results.json").read_text())["init_from"] == record
    assert load_checkpoint(tmp_path / "run" / "checkpoints" / "last.pt")["init_from"] == record
    assert f"train.init_from: task, generator, discriminator, privileged from {source} (its iteration 3); " \
           "perceptual as built; optimisers and iteration start afresh" in caplog.messages
    assert not any(m.startswith(("task (VGG16)", "privileged (VGG16)")) for m in caplog.messages)  # not random
    assert train(tiny_config("train.iterations=1"), tmp_path / "off", progress=False)["init_from"] is None


def test_resuming_an_initialised_run_never_reads_the_source_again(finished_run, tmp_path, monkeypatch, tiny_config):
    """A spigan run started from a source_only run (T alone), interrupted, its source
    deleted, resumed: the same as straight through, with the same init_from record."""
    folder, _ = finished_run
    shutil.copytree(folder / "source_only", tmp_path / "source")
    extra = ["train.iterations=4", "train.log_every=2", "train.checkpoint_every=2",
             f"train.init_from={tmp_path / 'source'}"]
    straight = train(tiny_config(*extra), tmp_path / "straight", progress=False)
    assert straight["init_from"] == {"checkpoint": str(tmp_path / "source" / "checkpoints" / "last.pt"),
                                     "iteration": 2, "networks": ["task"]}

    real = train_module.run_iteration
    calls = {"n": 0}

    def interrupting(*args, **kwargs):
        out = real(*args, **kwargs)
        calls["n"] += 1
        if calls["n"] == 3:
            os.kill(os.getpid(), signal.SIGINT)
        return out

    monkeypatch.setattr(train_module, "run_iteration", interrupting)
    with pytest.raises(Interrupted, match="interrupted at iteration 3"):
        train(tiny_config(*extra), tmp_path / "resumed", progress=False)
    monkeypatch.setattr(train_module, "run_iteration", real)
    shutil.rmtree(tmp_path / "source")
    resumed = resume_run(tmp_path / "resumed", progress=False)

    assert losses(tmp_path / "resumed") == losses(tmp_path / "straight")
    _same_networks(tmp_path / "straight" / "checkpoints" / "last.pt", tmp_path / "resumed" / "checkpoints" / "last.pt")
    assert resumed["init_from"] == straight["init_from"]


def _equal(weights: dict, other: dict) -> bool:
    return weights.keys() == other.keys() and all(torch.equal(v, other[k]) for k, v in weights.items())


def test_the_pretraining_trains_t_p_and_phi_and_its_checkpoint_holds_them(pretrained_run, tiny_config):
    """T, P, φ and φ's head all move from the weights train() built (rebuilt here from the
    same seed: φ's conv5_3 and conv5_4, never run, are equal, which shows they are those
    weights), with their own Adam each; finite, logged losses; T scored, no early stopping."""
    import spigan
    from spigan.build import build_networks
    from spigan.checkpoint import network_from_checkpoint

    run, results = pretrained_run
    cfg = tiny_config("train.method=pretrain", "train.iterations=3")
    train_module.seed_everything(cfg.train.seed)
    built = build_networks(cfg, torch.device("cpu"))
    state = load_checkpoint(run / "checkpoints" / "last.pt")
    trained = {"task", "privileged", "perceptual", "perceptual_head"}
    assert set(state["networks"]) == set(state["optimizers"]) == trained and state["iteration"] == 3
    for name, net in built.present().items():
        assert not _equal(net.state_dict(), state["networks"][name]), f"{name} did not move"
    first_unused = len(built.perceptual.used_layers())
    for key, value in built.perceptual.state_dict().items():
        if int(key.split(".")[1]) >= first_unused:
            assert torch.equal(value, state["networks"]["perceptual"][key]), key

    rows = losses(run)
    assert [r["iteration"] for r in rows] == [1, 2, 3]
    for row in rows:
        assert {"task_source", "privileged_source", "perceptual_task"} <= row.keys()
        assert all(np.isfinite(row[k]) for k in ("task_source", "privileged_source", "perceptual_task"))
        assert not {"adversarial", "discriminator", "task_adapted", "perceptual"} & row.keys()
    assert results["method"] == "pretrain" and results["iterations"] == 3
    assert results["early_stopping_iteration"] is None and set(results["checkpoints"]) == {"last"}
    assert 0 <= results["checkpoints"]["last"]["miou"] <= 1

    phi = network_from_checkpoint(state, "perceptual")  # φ alone, as a spigan run's φ: frozen
    assert _equal(phi.state_dict(), state["networks"]["perceptual"])
    assert not phi.training and not any(p.requires_grad for p in phi.parameters())
    model = spigan.load(run)  # T (and P) as from any run
    assert model.has_depth and model.segment(np.zeros((32, 64, 3), np.uint8)).shape == (32, 64)


def test_a_spigan_run_takes_phi_from_a_pretraining_keeps_it_frozen_and_resumes_with_it(
        pretrained_run, tmp_path, monkeypatch, tiny_config):
    """φ comes from the pretraining, has no optimiser, does not change; the run's checkpoint
    holds it (and only there, beside the trained networks), so a resumed run has the same φ
    with the pretraining gone."""
    shutil.copytree(pretrained_run[0], tmp_path / "pretrain")
    source = tmp_path / "pretrain" / "checkpoints" / "last.pt"
    phi = load_checkpoint(source)["networks"]["perceptual"]
    seen = {}
    real = train_module.run_iteration

    def first_look(variant, step_nets, optimizers, *args, **kwargs):
        if not seen:
            perceptual = step_nets["all"].perceptual
            seen.update(phi=_equal(perceptual.state_dict(), phi), optimizers=set(optimizers),
                        frozen=not any(p.requires_grad for p in perceptual.parameters()))
        return real(variant, step_nets, optimizers, *args, **kwargs)

    monkeypatch.setattr(train_module, "run_iteration", first_look)
    results = train(tiny_config("train.iterations=2", f"train.init_from={tmp_path / 'pretrain'}"), tmp_path / "run",
                    progress=False)
    assert seen == {"phi": True, "optimizers": {"task", "generator", "discriminator", "privileged"}, "frozen": True}
    assert results["init_from"] == {"checkpoint": str(source), "iteration": 3,
                                    "networks": ["task", "privileged", "perceptual"]}
    state = load_checkpoint(tmp_path / "run" / "checkpoints" / "last.pt")
    assert set(state["networks"]) == {"task", "generator", "discriminator", "privileged", "perceptual"}
    assert set(state["optimizers"]) == {"task", "generator", "discriminator", "privileged"}
    assert _equal(state["networks"]["perceptual"], phi)  # unchanged by training

    monkeypatch.setattr(train_module, "run_iteration", real)
    shutil.rmtree(tmp_path / "pretrain")
    resume_run(tmp_path / "run", progress=False, overrides=["train.iterations=3"])
    state = load_checkpoint(tmp_path / "run" / "checkpoints" / "last.pt")
    assert state["iteration"] == 3 and _equal(state["networks"]["perceptual"], phi)
