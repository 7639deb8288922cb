"""Gradient isolation of the SPIGAN steps: each step moves exactly the networks it should;
the pretraining step against its three losses computed by hand."""

import copy

import pytest
import torch

from spigan.depth import DEPTH_TARGETS
from spigan.loss_config import LossConfig
from conftest import small_networks
from spigan.models import PerceptualHead
from spigan.networks import Networks
from spigan.objective import (
    adaptation_step,
    discriminator_step,
    pretrain_step,
    supervised_step,
)

# Compares computations with tolerances: also run under every kernel set (make test-kernels).
pytestmark = pytest.mark.numerics


def tiny_networks(dropout: float = 0.5) -> Networks:
    return small_networks(dropout=dropout, discriminator_layers=2)


def optimizers(nets: Networks) -> dict:
    return {k: torch.optim.Adam(v.parameters(), lr=1e-3) for k, v in nets.trainable().items()}


def batch():
    g = torch.Generator().manual_seed(1)
    x_s = torch.rand(2, 3, 32, 32, generator=g) * 2 - 1
    x_r = torch.rand(2, 3, 32, 32, generator=g) * 2 - 1
    y_s = torch.randint(0, 4, (2, 32, 32), generator=g)
    z_s = torch.rand(2, 1, 32, 32, generator=g) * 100  # depth (the steps take {"depth": z_s})
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
    terms = adaptation_step(nets, optimizers(nets), LossConfig(), x_s, y_s, {"depth": z_s}, update_tp)
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
    adaptation_step(nets, optimizers(nets), weights, x_s, y_s, {"depth": z_s}, False)
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
        adaptation_step(nets, optimizers(nets), LossConfig(p_trained_on=mode), x_s, y_s, {"depth": z_s}, True)
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
    measured = adaptation_step(measured_nets, optimizers(measured_nets), w, x_s, y_s, {"depth": z_s}, False,
                               measure_generator_gradients=True)
    torch.manual_seed(1)
    plain = adaptation_step(plain_nets, optimizers(plain_nets), w, x_s, y_s, {"depth": z_s}, False)
    for name, value in expected.items():
        assert measured[f"generator_gradient/{name}"].item() == pytest.approx(value, rel=1e-4), name
    assert all(v > 0 for v in expected.values())
    for a, b in zip(measured_nets.generator.parameters(), plain_nets.generator.parameters()):
        assert torch.equal(a, b)  # the diagnostic does not change the step
    assert not any(k.startswith("generator_gradient") for k in plain)


def pretraining_networks() -> Networks:
    """T, P, φ (learning) and φ's head, without dropout (the step and the hand computation
    pass each network once, but the RNG is not shared), every score layer non-zero (zero
    scores would send φ, T and P no gradient)."""
    nets = tiny_networks(dropout=0.0)
    nets.generator = nets.discriminator = None
    nets.perceptual.unfreeze_()
    torch.manual_seed(2)
    nets.perceptual_head = PerceptualHead(4, width=8)
    for score in nets.perceptual_head.scores:
        torch.nn.init.normal_(score.weight, std=0.1)
    return nets


@pytest.mark.parametrize("depth_target", DEPTH_TARGETS)
def test_pretrain_step_gradients_are_those_of_its_three_losses_by_hand(depth_target):
    """One backward pass of the sum gives each of T, P, φ and φ's head the gradient of its
    own loss alone, computed here one loss at a time: L_T(x_s), L_P(x_s) (Eq. 5 on x_s,
    with the configured depth target) and the cross-entropy of φ's head. Each network
    moves; φ's conv5_3 and conv5_4, which its forward pass never runs, do not."""
    import torch.nn.functional as F

    from spigan.depth import depth_prediction, encode_depth

    x_s, _, y_s, z_s = batch()
    y_s[0, :4] = 255  # some unlabelled pixels
    z_s[..., :8, :] = 655.35  # a band of sky
    w = LossConfig(depth_target=depth_target, depth_far="skip")
    hand = pretraining_networks()
    valid = y_s != 255
    logits = hand.task(x_s)
    task = -F.log_softmax(logits, 1).gather(1, y_s.clamp(max=3)[:, None])[:, 0][valid].mean()
    z, keep = encode_depth(z_s, w.max_depth, depth_target, "skip"), z_s < 655
    privileged = (depth_prediction(hand.privileged(x_s), w.max_depth, depth_target) - z)[keep].abs().mean()
    taps = hand.perceptual(x_s)
    scores = sum(F.interpolate(F.conv2d(tap, s.weight, s.bias), size=(32, 32), mode="bilinear", align_corners=False)
                 for tap, s in zip(taps, hand.perceptual_head.scores))
    perceptual_task = -F.log_softmax(scores, 1).gather(1, y_s.clamp(max=3)[:, None])[:, 0][valid].mean()
    expected = {}
    for loss, names in ((task, ["task"]), (privileged, ["privileged"]), (perceptual_task, ["perceptual", "perceptual_head"])):
        for name in names:
            params = [p for p in getattr(hand, name).parameters() if p.requires_grad]
            expected[name] = torch.autograd.grad(loss, params, retain_graph=True)

    nets = pretraining_networks()
    before = copy.deepcopy(nets)
    terms = pretrain_step(nets, optimizers(nets), w, x_s, y_s, {"depth": z_s})
    for name, want in expected.items():
        got = [p.grad for p in getattr(nets, name).parameters() if p.requires_grad]
        assert len(got) == len(want) and all(g is not None for g in got), name
        for g, e in zip(got, want):
            torch.testing.assert_close(g, e, rtol=1e-4, atol=1e-7, msg=name)
        assert any(e.abs().sum() > 0 for e in want), name
    assert terms["task_source"].item() == pytest.approx(task.item(), rel=1e-5)
    assert terms["privileged_source"].item() == pytest.approx(privileged.item(), rel=1e-5)
    assert terms["perceptual_task"].item() == pytest.approx(perceptual_task.item(), rel=1e-5)
    assert changed(nets, before) == {"task", "privileged", "perceptual", "perceptual_head"}
    first_unused = len(nets.perceptual.used_layers())
    unused, was = nets.perceptual.features[first_unused:], before.perceptual.features[first_unused:]
    assert len(list(unused.parameters())) == 4  # conv5_3 and conv5_4
    assert all(p.grad is None and not p.requires_grad for p in unused.parameters())
    assert all(torch.equal(a, b) for a, b in zip(unused.parameters(), was.parameters()))
