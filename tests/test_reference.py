"""The optimised SPIGAN iteration equals the plain one: same losses, same parameters."""


import pytest
import torch

from spigan.loss_config import LossConfig
from spigan.models import FCN8s, PatchDiscriminator, PerceptualVGG19, ResnetGenerator
from spigan.networks import Networks
from spigan.reference import plain_iteration

# Compares computations with tolerances: also run under every kernel set (make test-kernels).
pytestmark = pytest.mark.numerics


def networks():
    torch.manual_seed(0)
    nets = Networks(task=FCN8s(4, width=8, fc_dim=16, input_padding=1, dropout=0.0),
                    generator=ResnetGenerator(width=4, blocks=1), discriminator=PatchDiscriminator(width=4, layers=1),
                    privileged=FCN8s(1, width=8, fc_dim=16, input_padding=1, dropout=0.0),
                    perceptual=PerceptualVGG19(width=8))
    for fcn in (nets.task, nets.privileged):
        for m in (fcn.score_fr, fcn.score_pool3, fcn.score_pool4):
            torch.nn.init.normal_(m.weight, std=0.1)
    return nets


def adams(nets):
    return {k: torch.optim.Adam(v.parameters(), lr=2e-4, betas=(0.5, 0.999)) for k, v in nets.trainable().items()}


@pytest.mark.parametrize("p_trained_on, task_learns", [("both", True), ("source", True), ("both", False)])
def test_optimised_iteration_equals_the_plain_one(cancelled_biases, optimised, p_trained_on, task_learns):
    """task_learns=False: an iteration of train.adaptation_warmup (T and P fixed)."""
    g = torch.Generator().manual_seed(3)
    batches = [{"image": torch.rand(2, 3, 32, 32, generator=g) * 2 - 1,
                "labels": torch.randint(0, 4, (2, 32, 32), generator=g),
                "depth": torch.rand(2, 1, 32, 32, generator=g) * 80 + 1} for _ in range(3)]
    x_r = torch.rand(2, 3, 32, 32, generator=g) * 2 - 1
    w = LossConfig(p_trained_on=p_trained_on)
    plain, fast = networks(), networks()
    plain_opt, fast_opt = adams(plain), adams(fast)
    for _ in range(2):
        plain_logs = plain_iteration(plain, plain_opt, w, batches, x_r, task_learns)
        fast_logs = optimised(fast, fast_opt, w, batches, x_r, task_learns)
        for a, b in zip(plain_logs, fast_logs):
            for key in a:
                assert abs(a[key] - b[key]) < 1e-4, (key, a[key], b[key])
    dead = {"generator": cancelled_biases(plain.generator),
            "discriminator": cancelled_biases(plain.discriminator)}
    for name, net in plain.trainable().items():
        other = fast.trainable()[name]
        for (key, a), (_, b) in zip(net.named_parameters(), other.named_parameters()):
            if key not in dead.get(name, set()):
                torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5, msg=f"{name}.{key}")
