"""Gradient isolation of the SPIGAN steps: each step moves exactly the networks it should."""

import copy

import pytest
import torch

from spigan.config import LossConfig
from spigan.depth import DEPTH_TARGETS
from spigan.models import FCN8s, PatchDiscriminator, PerceptualVGG19, ResnetGenerator
from spigan.objective import (
    Networks,
    adaptation_step,
    discriminator_step,
    supervised_step,
)

# Compares computations with tolerances: also run under every kernel set (make test-kernels).
pytestmark = pytest.mark.numerics


def tiny_networks(dropout: float = 0.5) -> Networks:
    torch.manual_seed(0)
    nets = Networks(task=FCN8s(4, width=8, fc_dim=16, input_padding=1, dropout=dropout),
                    generator=ResnetGenerator(width=4, blocks=1),
                    discriminator=PatchDiscriminator(width=4, layers=2),
                    privileged=FCN8s(1, width=8, fc_dim=16, input_padding=1, dropout=dropout),
                    perceptual=PerceptualVGG19(width=8))
    for fcn in (nets.task, nets.privileged):  # zero-initialised scores would hide gradients to G
        for m in (fcn.score_fr, fcn.score_pool3, fcn.score_pool4):
            torch.nn.init.normal_(m.weight, std=0.1)
    return nets


def optimizers(nets: Networks) -> dict:
    return {k: torch.optim.Adam(v.parameters(), lr=1e-3) for k, v in nets.trainable().items()}


def batch():
    g = torch.Generator().manual_seed(1)
    x_s = torch.rand(2, 3, 32, 32, generator=g) * 2 - 1
    x_r = torch.rand(2, 3, 32, 32, generator=g) * 2 - 1
    y_s = torch.randint(0, 4, (2, 32, 32), generator=g)
    z_s = torch.rand(2, 1, 32, 32, generator=g) * 100
    return x_s, x_r, y_s, z_s


def changed(nets: Networks, before: Networks) -> set[str]:
    out = set()
    for name, net in nets.trainable().items():
        old = before.trainable()[name]
        if any(not torch.equal(a, b) for a, b in zip(net.parameters(), old.parameters())):
            out.add(name)
    return out


def test_discriminator_step_changes_only_d():
    nets = tiny_networks()
    before = copy.deepcopy(nets)
    x_s, x_r, _, _ = batch()
    discriminator_step(nets.generator, nets.discriminator, optimizers(nets)["discriminator"], x_s, x_r)
    assert changed(nets, before) == {"discriminator"}


@pytest.mark.parametrize("update_tp, expected", [(True, {"generator", "task", "privileged"}), (False, {"generator"})])
def test_adaptation_step_leaves_d_unchanged(update_tp, expected):
    nets = tiny_networks()
    before = copy.deepcopy(nets)
    x_s, _, y_s, z_s = batch()
    terms = adaptation_step(nets, optimizers(nets), LossConfig(), x_s, y_s, z_s, update_tp)
    assert changed(nets, before) == expected
    assert all(torch.isfinite(v) for v in terms.values())
    assert not any(p.grad is not None for p in nets.discriminator.parameters())


@pytest.mark.parametrize("weights", [LossConfig(adversarial=0, perceptual=0, privileged=0, task=0.5),
                                     LossConfig(adversarial=0, perceptual=0, privileged=0.1, task=0.0)])
def test_task_and_privileged_losses_reach_the_generator(weights):
    """With α = δ = 0, G still moves, through L_T (or L_P) on G(x_s): the privileged
    information constrains the adaptation."""
    nets = tiny_networks()
    before = copy.deepcopy(nets)
    x_s, _, y_s, z_s = batch()
    adaptation_step(nets, optimizers(nets), weights, x_s, y_s, z_s, False)
    assert changed(nets, before) == {"generator"}


def test_p_trained_on_source_keeps_the_adapted_term_out_of_p():
    """With loss.p_trained_on=source, P's gradient is that of γ·L_P(x_s) alone, while G's
    is the same as under the paper's `both` (L_P(G(x_s)) still reaches G)."""
    from spigan.depth import depth_prediction, encode_depth
    from spigan.losses import l1_depth

    x_s, _, y_s, z_s = batch()
    grads = {}
    for mode in ("both", "source"):
        nets = tiny_networks(dropout=0.0)  # no dropout: P's passes differ in batching between modes
        adaptation_step(nets, optimizers(nets), LossConfig(p_trained_on=mode), x_s, y_s, z_s, True)
        grads[mode] = {name: [p.grad.clone() for p in getattr(nets, name).parameters()]
                       for name in ("generator", "privileged")}
    w, P = LossConfig(), tiny_networks(dropout=0.0).privileged
    source_only = w.privileged * l1_depth(depth_prediction(P(x_s), w.max_depth, w.depth_target),
                                          encode_depth(z_s, w.max_depth, w.depth_target, w.depth_far))
    expected = torch.autograd.grad(source_only, list(P.parameters()))
    for a, b in zip(grads["source"]["privileged"], expected):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-7)
    assert any(not torch.allclose(a, b) for a, b in zip(grads["both"]["privileged"], expected))
    for a, b in zip(grads["source"]["generator"], grads["both"]["generator"]):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-7)


def test_p_trained_on_is_validated():
    from spigan.config import load_config
    from spigan.errors import SpiganError

    assert load_config(None, []).loss.p_trained_on == "both"
    assert load_config(None, ["loss.p_trained_on=source"]).loss.p_trained_on == "source"
    with pytest.raises(SpiganError, match="loss.p_trained_on: 'target' is not one of both, source"):
        load_config(None, ["loss.p_trained_on=target"])


def test_supervised_step_changes_only_t():
    nets = tiny_networks()
    before = copy.deepcopy(nets)
    x_s, _, y_s, _ = batch()
    supervised_step(nets.task, optimizers(nets)["task"], x_s, y_s)
    assert changed(nets, before) == {"task"}


# Every target with the sky clamped; skipping it is the same mask under every target.
@pytest.mark.parametrize(("depth_target", "depth_far"), [(t, "clamp") for t in DEPTH_TARGETS] + [("metres", "skip")])
def test_gradient_diagnostic_matches_a_hand_computation(depth_target, depth_far):
    """The norm each weighted term sends into G's parameters, against autograd on each term
    built by hand, under each depth target, the sky clamped or skipped; and measuring it
    leaves the update unchanged."""
    from spigan.depth import depth_prediction, encode_depth
    from spigan.losses import adversarial_loss, cross_entropy, l1_depth, perceptual_loss

    x_s, _, y_s, z_s = batch()
    z_s[..., :8, :] = 655.35  # a band of sky
    w = LossConfig(depth_target=depth_target, depth_far=depth_far)
    nets = tiny_networks()
    G, D, T, P, phi = nets.generator, nets.discriminator, nets.task, nets.privileged, nets.perceptual
    for net in (D, T, P, phi):
        net.requires_grad_(False)
    torch.manual_seed(1)  # T's and P's dropout masks: the same as in the steps below
    x_f = G(x_s)
    by_hand = {"adversarial": w.adversarial * adversarial_loss(D(x_f)),
               "task": w.task * cross_entropy(T(x_f), y_s),
               "privileged": w.privileged * l1_depth(depth_prediction(P(x_f), w.max_depth, w.depth_target),
                                                     encode_depth(z_s, w.max_depth, w.depth_target, w.depth_far)),
               "perceptual": w.perceptual * perceptual_loss(phi(x_s), phi(x_f))}
    expected = {}
    for name, term in by_hand.items():
        G.zero_grad()
        term.backward(retain_graph=True)
        expected[name] = torch.sqrt(sum(p.grad.pow(2).sum() for p in G.parameters())).item()

    measured_nets, plain_nets = tiny_networks(), tiny_networks()
    torch.manual_seed(1)  # the same dropout masks in T and P for both steps
    measured = adaptation_step(measured_nets, optimizers(measured_nets), w, x_s, y_s, z_s, False,
                               measure_generator_gradients=True)
    torch.manual_seed(1)
    plain = adaptation_step(plain_nets, optimizers(plain_nets), w, x_s, y_s, z_s, False)
    for name, value in expected.items():
        assert measured[f"generator_gradient/{name}"].item() == pytest.approx(value, rel=1e-4), name
    assert all(v > 0 for v in expected.values())
    for a, b in zip(measured_nets.generator.parameters(), plain_nets.generator.parameters()):
        assert torch.equal(a, b)  # the diagnostic does not change the step
    assert not any(k.startswith("generator_gradient") for k in plain)
