"""benchmarks/iteration_profile.py: each network timed, the training iteration timed, and a
run's trained weights when asked."""

import torch

from spigan.checkpoint import load_checkpoint, network_from_checkpoint
from conftest import TINY, load_benchmark


def load_script():
    return load_benchmark("iteration_profile")


OVERRIDES = [*load_script().DEFAULTS, *TINY]


def test_every_network_and_the_iteration_are_timed():
    script = load_script()
    times = script.networks("demo", OVERRIDES, repeats=1)
    assert set(times) == {"task", "generator", "discriminator", "privileged", "perceptual"}
    assert all(t["forward_backward_ms"] > 0 and t["forward_ms"] > 0 for t in times.values())
    assert script.iteration("demo", OVERRIDES, repeats=1, threads=1) > 0


def test_init_from_gives_the_networks_a_runs_weights(pretrained_run):
    script = load_script()
    _, nets, _, _ = script.setup("demo", [*OVERRIDES, f"train.init_from={pretrained_run[0]}"])
    state = load_checkpoint(pretrained_run[0] / "checkpoints" / "last.pt")
    for name in ("task", "privileged", "perceptual"):
        expected = network_from_checkpoint(state, name).state_dict()
        got = getattr(nets, name).state_dict()
        assert all(torch.equal(got[k], expected[k]) for k in expected), name
