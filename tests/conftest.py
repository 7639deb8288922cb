"""Fixtures shared by the tests: the tiny configuration every training test runs, a
finished tiny run to evaluate, predict and report from, and a tiny pretraining."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from torch import nn

from spigan.config import Config, load_config

# Networks a few thousand parameters wide, 32x64 frames, 4 frames per split: a training
# iteration takes well under a second. One thread and fp32, so that runs repeat bit for bit
# (results can differ in the last bits between thread counts).
TINY = ("model.generator_width=4", "model.generator_blocks=1", "model.discriminator_width=4",
        "model.fcn_width=8", "model.fcn_fc_dim=16", "model.perceptual_width=8", "model.fcn_input_padding=1",
        "data.size=[32,64]", "data.crop=[32,32]", "data.source_frames=4", "data.target_frames=4",
        "data.val_frames=3", "train.batch_size=2", "train.log_every=1", "train.checkpoint_every=2",
        "train.generator_steps=2", "train.threads=1", "train.precision=fp32")


def load_benchmark(name: str):
    """benchmarks/NAME.py as a module (the benchmarks are scripts, not a package)."""
    spec = importlib.util.spec_from_file_location(name, Path(__file__).resolve().parents[1] / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def tiny_overrides(cache: Path, *extra: str) -> list[str]:
    """The tiny configuration as `key=value` overrides (for the command line), with its
    simulator frames cached under `cache`."""
    return [*TINY, f"data.cache_dir={cache}", *extra]


@pytest.fixture(scope="session")
def sim_cache(tmp_path_factory) -> Path:
    """One frame cache for the whole session: every tiny run renders the same frames."""
    return tmp_path_factory.mktemp("sim-cache")


@pytest.fixture(scope="session")
def tiny(sim_cache):
    """tiny(*overrides) -> (Config, overrides): the tiny configuration with more overrides."""

    def make(*extra: str) -> tuple[Config, list[str]]:
        overrides = tiny_overrides(sim_cache, *extra)
        return load_config(None, overrides), overrides

    return make


@pytest.fixture
def tiny_config(tiny):
    """tiny_config(*overrides) -> Config."""
    return lambda *extra: tiny(*extra)[0]


@pytest.fixture(scope="session")
def finished_run(tmp_path_factory, tiny):
    """A 3-iteration spigan run whose early stopping fires at once (so both checkpoints
    exist), and a 2-iteration source_only run, in one folder: (folder, spigan results)."""
    from spigan.train import train

    folder = tmp_path_factory.mktemp("runs")
    cfg, _ = tiny("train.iterations=3", "early_stopping.warmup=1", "early_stopping.patience=1",
                  "early_stopping.margin=-100")
    results = train(cfg, folder / "spigan", progress=False)
    train(tiny("train.method=source_only", "train.iterations=2")[0], folder / "source_only", progress=False)
    return folder, results


@pytest.fixture(scope="session")
def pretrained_run(tmp_path_factory, tiny):
    """A 3-iteration pretraining (train.method=pretrain: T, P and φ on simulator frames):
    (run folder, results)."""
    from spigan.train import train

    run = tmp_path_factory.mktemp("pretrain") / "pretrain"
    return run, train(tiny("train.method=pretrain", "train.iterations=3")[0], run, progress=False)


def biases_cancelled_by_instance_norm(net: nn.Module) -> set[str]:
    """Biases of convolutions followed by InstanceNorm: their exact gradient is zero, so Adam
    moves them by rounding noise alone; comparisons across implementations leave them out."""
    names = set()
    for prefix, module in net.named_modules():
        if isinstance(module, nn.Sequential):
            children = list(module.named_children())
            for (name, layer), (_, following) in zip(children, children[1:]):
                if isinstance(layer, (nn.Conv2d, nn.ConvTranspose2d)) and isinstance(following, nn.InstanceNorm2d):
                    names.add(f"{prefix}.{name}.bias".lstrip("."))
    return names


@pytest.fixture(scope="session")
def cancelled_biases():
    return biases_cancelled_by_instance_norm


def small_networks(dropout: float = 0.0, discriminator_layers: int = 1, privileged_channels: int = 1,
                   channelwise_upsampling: bool = False):
    """The five networks a few thousand parameters wide, for tests of the training steps
    (4 classes), seeded: two calls with the same arguments give the same weights."""
    import torch  # here: tests of what `import spigan` loads

    from spigan.models import FCN8s, PatchDiscriminator, PerceptualVGG19, ResnetGenerator
    from spigan.networks import Networks

    fcn = dict(width=8, fc_dim=16, input_padding=1, dropout=dropout)
    torch.manual_seed(0)
    nets = Networks(task=FCN8s(4, **fcn), generator=ResnetGenerator(width=4, blocks=1),
                    discriminator=PatchDiscriminator(width=4, layers=discriminator_layers),
                    privileged=FCN8s(privileged_channels, **fcn, channelwise_upsampling=channelwise_upsampling),
                    perceptual=PerceptualVGG19(width=8))
    for net in (nets.task, nets.privileged):  # zero-initialised scores would hide gradients to G
        for m in (net.score_fr, net.score_pool3, net.score_pool4):
            torch.nn.init.normal_(m.weight, std=0.1)
    return nets


@pytest.fixture(scope="session")
def networks():
    return small_networks


def assert_same_training(plain, fast, plain_logs, fast_logs, loss_tolerance: dict, parameter_tolerance: dict) -> None:
    """Two implementations' iterations agree: every logged loss (pytest.approx with
    `loss_tolerance`) and every trained parameter (torch.testing.assert_close with
    `parameter_tolerance`) but the biases InstanceNorm cancels (moved by rounding noise alone)."""
    import torch

    for a, b in zip(plain_logs, fast_logs):
        for key in a:
            assert a[key] == pytest.approx(b[key], **loss_tolerance), key
    dead = {"generator": biases_cancelled_by_instance_norm(plain.generator),
            "discriminator": biases_cancelled_by_instance_norm(plain.discriminator)}
    for name, net in plain.trainable().items():
        for (key, a), (_, b) in zip(net.named_parameters(), fast.trainable()[name].named_parameters()):
            if key not in dead.get(name, set()):
                torch.testing.assert_close(a, b, **parameter_tolerance, msg=f"{name}.{key}")


@pytest.fixture(scope="session")
def same_training():
    return assert_same_training


def optimised_iteration(nets, opts, w, batches, x_r, task_learns):
    """One iteration of the optimised steps (spigan.objective) on `batches`, logged as
    spigan.reference.plain_iteration logs the plain loop, so the two can be compared:
    a discriminator step on the first batch, then an adaptation step on each, the first
    also moving T and P if `task_learns`. Each batch carries the PI kinds of w.pi."""
    from spigan.objective import adaptation_step, discriminator_step  # here: tests of what `import spigan` loads

    d = discriminator_step(nets.generator, nets.discriminator, opts["discriminator"], batches[0]["image"], x_r)
    logs = [{"discriminator": d["discriminator"].item()}]
    for k, b in enumerate(batches):
        step = adaptation_step(nets, opts, w, b["image"], b["labels"], {kind: b[kind] for kind in w.pi},
                               k == 0 and task_learns)
        logs.append({"adversarial": step["adversarial"].item(), "total": step["total"].item()})
    return logs


@pytest.fixture(scope="session")
def optimised():
    return optimised_iteration

