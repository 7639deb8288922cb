"""The checkpoint format: atomic writes under SIGKILL and a full disk, periodic copies,
rebuilding networks from a checkpoint's own config, and starting a new run's networks from
one (train.init_from)."""

import json
import os
import random
import signal
import subprocess
import sys
import time

import pytest
import torch

from spigan import checkpoint as checkpoint_module
from spigan.build import build_networks, class_names
from spigan.checkpoint import (
    checkpoint_config,
    init_weights_from,
    load_checkpoint,
    network_from_checkpoint,
    save_checkpoint,
)
from spigan.errors import SpiganError
from spigan.train import train

KILL_ARGS = ["train.iterations=24", "train.checkpoint_every=1", "train.log_every=2", "train.keep_checkpoints=3"]


def spigan(args, cwd):
    return subprocess.Popen([sys.executable, "-m", "spigan.cli", "train"] + args, cwd=cwd,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "OMP_NUM_THREADS": "1"})


def checkpoint_iteration(run):
    try:
        return load_checkpoint(run / "checkpoints" / "last.pt")["iteration"]
    except Exception:
        return 0


@pytest.mark.slow
def test_sigkill_at_random_moments_then_resume_equals_uninterrupted(tmp_path, tiny):
    (tmp_path / "tiny.yaml").write_text("name: tiny\n")
    args = tiny(*KILL_ARGS)[1]
    straight = spigan(["tiny.yaml", "--out", "straight", "--quiet"] + args, tmp_path)
    assert straight.wait(timeout=600) == 0, straight.stderr.read()

    rng = random.Random(7)
    first = spigan(["tiny.yaml", "--out", "killed", "--quiet"] + args, tmp_path)
    procs, kills = first, 0
    run = tmp_path / "killed"
    while kills < 3:
        start = checkpoint_iteration(run)
        deadline = time.time() + 300
        while checkpoint_iteration(run) <= start and procs.poll() is None and time.time() < deadline:
            time.sleep(0.05)
        if procs.poll() is not None:
            break  # finished before we could kill it again
        time.sleep(rng.uniform(0.0, 0.6))  # anywhere: mid-step, mid-log, mid-checkpoint-write
        procs.send_signal(signal.SIGKILL)
        procs.wait()
        kills += 1
        for path in (run / "checkpoints").glob("*.pt"):  # whatever the moment, every checkpoint loads
            load_checkpoint(path)
        procs = spigan(["--resume", str(run), "--quiet"], tmp_path)
    assert procs.wait(timeout=600) == 0, procs.stderr.read()
    assert kills >= 2

    a = load_checkpoint(tmp_path / "straight" / "checkpoints" / "last.pt")
    b = load_checkpoint(run / "checkpoints" / "last.pt")
    assert a["iteration"] == b["iteration"] == 24
    for name in a["networks"]:
        for key, value in a["networks"][name].items():
            assert torch.equal(value, b["networks"][name][key]), f"{name}.{key}"
    rows = lambda p: [{k: v for k, v in json.loads(x).items() if not k.startswith("time")}  # noqa: E731
                      for x in (p / "metrics.jsonl").read_text().splitlines()]
    assert rows(run) == rows(tmp_path / "straight")
    assert len(list((run / "checkpoints").glob("iter_*.pt"))) == 3  # the last K are kept
    assert not list((run / "checkpoints").glob(".*.tmp"))


def test_sigterm_to_the_process_group_with_data_workers_saves_a_checkpoint(tmp_path, tiny):
    """`timeout`, a scheduler or a terminal sends its stop signal to the whole process
    group: the data workers get it too. The run must still save and stop with exit code 130,
    not die of a killed worker mid-iteration without a checkpoint."""
    (tmp_path / "tiny.yaml").write_text("name: tiny\n")
    args = tiny("train.iterations=100000", "train.checkpoint_every=100000", "data.workers=2")[1]
    proc = subprocess.Popen([sys.executable, "-m", "spigan.cli", "train", "tiny.yaml", "--out", "run", "--quiet"] + args,
                            cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "OMP_NUM_THREADS": "1"}, start_new_session=True)
    metrics = tmp_path / "run" / "metrics.jsonl"
    deadline = time.time() + 300
    while not (metrics.exists() and metrics.read_text().count("\n") >= 3) and proc.poll() is None and time.time() < deadline:
        time.sleep(0.05)  # three logged iterations: the workers are loading
    assert proc.poll() is None, proc.stderr.read()
    os.killpg(proc.pid, signal.SIGTERM)
    assert proc.wait(timeout=120) == 130, proc.stderr.read()
    assert "checkpoint saved" in proc.stderr.read()
    assert load_checkpoint(tmp_path / "run" / "checkpoints" / "last.pt")["iteration"] >= 3


def test_full_disk_while_checkpointing_keeps_the_previous_checkpoint(tmp_path, monkeypatch, tiny_config):
    cfg = tiny_config("train.iterations=4", "train.checkpoint_every=2")
    real_save = torch.save
    calls = {"n": 0}

    def full_disk(obj, f, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:  # the second checkpoint: half written, then the disk is full
            f.write(b"\0" * 1000)
            raise OSError(28, "No space left on device")
        return real_save(obj, f, *args, **kwargs)

    monkeypatch.setattr(checkpoint_module.torch, "save", full_disk)
    with pytest.raises(SpiganError, match="last.pt: cannot write checkpoint \\(No space left on device\\); "
                                          "the previous one is intact"):
        train(cfg, tmp_path / "run", progress=False)
    assert load_checkpoint(tmp_path / "run" / "checkpoints" / "last.pt")["iteration"] == 2
    assert not list((tmp_path / "run" / "checkpoints").glob(".*.tmp"))


def test_networks_rebuild_from_the_checkpoints_own_config(finished_run):
    folder, _ = finished_run
    state = load_checkpoint(folder / "spigan" / "checkpoints" / "last.pt")
    cfg = checkpoint_config(state)
    assert cfg.model.generator_width == 4 and cfg.model.fcn_width == 8
    for which in ("task", "privileged", "generator", "discriminator"):
        net = network_from_checkpoint(state, which)
        assert not net.training and not any(p.requires_grad for p in net.parameters())
        for key, value in net.state_dict().items():
            assert torch.equal(value, state["networks"][which][key]), f"{which}.{key}"
    x = torch.zeros(1, 3, 32, 64)
    assert network_from_checkpoint(state, "task")(x).shape == (1, 16, 32, 64)
    assert network_from_checkpoint(state, "privileged")(x).shape == (1, 1, 32, 64)
    source_only = load_checkpoint(folder / "source_only" / "checkpoints" / "last.pt")
    assert network_from_checkpoint(source_only, "generator") is None


def test_a_checkpoint_whose_classes_differ_from_its_config_is_refused(finished_run):
    folder, _ = finished_run
    state = load_checkpoint(folder / "spigan" / "checkpoints" / "last.pt")
    state["classes"] = state["classes"][:-1]
    with pytest.raises(SpiganError, match="classes"):
        network_from_checkpoint(state, "task")


def _weights(net: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in net.state_dict().items()}


def _equal(net: torch.nn.Module, weights: dict[str, torch.Tensor]) -> bool:
    return all(torch.equal(v, weights[k]) for k, v in net.state_dict().items())


def test_init_from_a_run_folder_takes_every_network_both_runs_have(finished_run, tiny_config):
    folder, _ = finished_run
    cfg = tiny_config()
    torch.manual_seed(1)  # other initial weights than the source run's
    nets = build_networks(cfg, torch.device("cpu"))
    phi = _weights(nets.perceptual)
    path = folder / "spigan" / "checkpoints" / "early_stop.pt"  # the run folder's default checkpoint
    source = load_checkpoint(path)["networks"]
    assert not any(_equal(net, source[name]) for name, net in nets.trainable().items())

    record = init_weights_from(nets, folder / "spigan", class_names(cfg))
    assert record == {"checkpoint": str(path), "iteration": 1,
                      "networks": ["task", "generator", "discriminator", "privileged"]}
    for name, net in nets.trainable().items():
        assert _equal(net, source[name]), name
    assert _equal(nets.perceptual, phi)  # φ is in no spigan run's checkpoint (none trained it): as built


def test_init_networks_takes_only_the_networks_named(finished_run, tiny_config):
    """train.init_networks: the levers of issue 22 start some networks warm, others as built."""
    folder, _ = finished_run
    cfg = tiny_config()
    torch.manual_seed(1)
    nets = build_networks(cfg, torch.device("cpu"))
    built = {name: _weights(net) for name, net in nets.present().items()}
    source = load_checkpoint(folder / "spigan" / "checkpoints" / "early_stop.pt")["networks"]
    record = init_weights_from(nets, folder / "spigan", class_names(cfg), only="task, generator")
    assert record["networks"] == ["task", "generator"]
    assert _equal(nets.task, source["task"]) and _equal(nets.generator, source["generator"])
    for name in ("discriminator", "privileged", "perceptual"):
        assert _equal(getattr(nets, name), built[name]), name
    no_pi = build_networks(tiny_config("train.method=no_pi"), torch.device("cpu"))
    with pytest.raises(SpiganError, match="^train.init_networks: 'privileged' is not a network of this run "
                                          "\\(task, generator, discriminator, perceptual\\)$"):
        init_weights_from(no_pi, folder / "spigan", class_names(cfg), only="task,privileged")


def test_init_from_a_source_only_checkpoint_takes_t_alone(finished_run, tiny_config):
    folder, _ = finished_run
    cfg = tiny_config()
    nets = build_networks(cfg, torch.device("cpu"))
    built = {name: _weights(net) for name, net in nets.present().items()}
    path = folder / "source_only" / "checkpoints" / "last.pt"
    record = init_weights_from(nets, path, class_names(cfg))
    assert record == {"checkpoint": str(path), "iteration": 2, "networks": ["task"]}
    assert _equal(nets.task, load_checkpoint(path)["networks"]["task"]) and not _equal(nets.task, built["task"])
    for name in ("generator", "discriminator", "privileged", "perceptual"):
        assert _equal(getattr(nets, name), built[name]), name


def test_init_from_a_pretraining_takes_t_and_phi_into_no_pi_and_phi_stays_frozen(pretrained_run, tiny_config):
    """no_pi has T and φ (no P): both come from the pretraining, φ still frozen and without
    its head (which no_pi has not); G and D as built."""
    path = pretrained_run[0] / "checkpoints" / "last.pt"
    source = load_checkpoint(path)["networks"]
    cfg = tiny_config("train.method=no_pi")
    nets = build_networks(cfg, torch.device("cpu"))
    built = {name: _weights(net) for name, net in nets.present().items()}
    record = init_weights_from(nets, pretrained_run[0], class_names(cfg))
    assert record == {"checkpoint": str(path), "iteration": 3, "networks": ["task", "perceptual"]}
    assert _equal(nets.task, source["task"]) and _equal(nets.perceptual, source["perceptual"])
    assert not _equal(nets.perceptual, built["perceptual"])
    assert not any(p.requires_grad for p in nets.perceptual.parameters()) and "perceptual" not in nets.trainable()
    for name in ("generator", "discriminator"):
        assert _equal(getattr(nets, name), built[name]), name


def _refusal(cfg, source) -> str:
    """init_weights_from's one-line message; no weight may have changed."""
    nets = build_networks(cfg, torch.device("cpu"))
    built = {name: _weights(net) for name, net in nets.trainable().items()}
    with pytest.raises(SpiganError) as refused:
        init_weights_from(nets, source, class_names(cfg))
    for name, net in nets.trainable().items():
        assert _equal(net, built[name]), f"{name} changed by a refused init"
    message = str(refused.value)
    assert "\n" not in message
    return message


def test_init_from_refuses_other_shapes_architectures_classes_and_files(finished_run, tiny_config, tmp_path):
    folder, _ = finished_run
    last = folder / "spigan" / "checkpoints" / "last.pt"
    at = f"train.init_from: {last}: "
    assert _refusal(tiny_config("model.fcn_width=16"), last) == \
        at + "task.features.0.weight has shape (8, 3, 3, 3) there, (16, 3, 3, 3) in this run"
    assert _refusal(tiny_config("data.ontology=7-category", "data.protocol=7-category"), last) == \
        at + "task.score_fr.weight has shape (16, 16, 1, 1) there, (7, 16, 1, 1) in this run"
    assert _refusal(tiny_config("model.generator_blocks=2"), last) == \
        at + "generator.model.11.body.1.weight is in this run but not there (another architecture)"
    assert _refusal(tiny_config(), tmp_path / "none.pt") == \
        f"train.init_from: {tmp_path / 'none.pt'}: checkpoint not found"
    assert _refusal(tiny_config(), tmp_path) == \
        f"train.init_from: {tmp_path}: is a folder, not a checkpoint file (nor a run folder with checkpoints/)"

    state = load_checkpoint(last)
    state["classes"] = state["classes"][::-1]  # as many classes, in another order
    save_checkpoint(tmp_path / "reordered.pt", state)
    assert "task predicts other classes there (bicycle, motorcycle, " in _refusal(tiny_config(), tmp_path / "reordered.pt")
    state["networks"] = {"privileged": state["networks"]["privileged"]}
    save_checkpoint(tmp_path / "p_only.pt", state)
    assert _refusal(tiny_config("train.method=source_only"), tmp_path / "p_only.pt") == \
        f"train.init_from: {tmp_path / 'p_only.pt'}: holds none of this run's networks (task; it holds " \
        "privileged)"
