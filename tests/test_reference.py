"""The optimised SPIGAN iteration equals the plain one: same losses, same parameters."""


import pytest
import torch

from spigan.loss_config import LossConfig
from spigan.reference import plain_iteration

# Compares computations with tolerances: also run under every kernel set (make test-kernels).
pytestmark = pytest.mark.numerics


def adams(nets):
    return {k: torch.optim.Adam(v.parameters(), lr=2e-4, betas=(0.5, 0.999)) for k, v in nets.trainable().items()}


@pytest.mark.parametrize("p_trained_on, task_learns", [("both", True), ("source", True), ("both", False)])
def test_optimised_iteration_equals_the_plain_one(networks, optimised, same_training, p_trained_on, task_learns):
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
        same_training(plain, fast, plain_logs, fast_logs, dict(abs=1e-4), dict(rtol=1e-4, atol=1e-5))
