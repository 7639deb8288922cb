"""Several kinds of privileged information (loss.pi: depth, normals, boundaries): each loss
by hand, P's heads, Eq. 5 as Σ_k γ_k·L_P_k in the steps (against the plain loop), what
reaches G from each kind, the config, old configs and checkpoints as depth alone, and a
tiny run, its report and figures with all three kinds."""

import copy
import dataclasses
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from spigan import losses
from spigan.config import config_from_dict, load_config, to_dict
from spigan.errors import SpiganError
from spigan.loss_config import PI_TYPES, LossConfig, pi_channels, split_pi
from conftest import small_networks
from spigan.models import FCN8s
from spigan.networks import Networks
from spigan.objective import adaptation_step, pretrain_step, pretraining_weights
from spigan.reference import plain_iteration

ALL = LossConfig(pi=PI_TYPES, privileged=0.1, privileged_normals=0.2, privileged_boundaries=0.3)
SMALL = dict(width=8, fc_dim=16, input_padding=1, dropout=0.0)


# ---------------------------------------------------------------------------------------
# The losses, by hand
# ---------------------------------------------------------------------------------------


def test_cosine_normals_by_hand_skipping_the_sky():
    # pixel 0: the same direction, twice as long: cos 1; pixel 1: (0, 3, 4) against (0, 1, 0):
    # cos 3/5; pixel 2: sky (no geometry, target 0): skipped whatever P says.
    prediction = torch.tensor([[2.0, 0.0, 0.0], [0.0, 3.0, 4.0], [5.0, -1.0, 2.0]]).T.reshape(1, 3, 1, 3)
    target = torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 0.0]]).T.reshape(1, 3, 1, 3)
    assert losses.cosine_normals(prediction, target).item() == pytest.approx(((1 - 1) + (1 - 0.6)) / 2)


def test_cosine_normals_without_geometry_or_prediction_is_finite():
    sky = torch.zeros(1, 3, 2, 2)
    prediction = torch.randn(1, 3, 2, 2, requires_grad=True)
    loss = losses.cosine_normals(prediction, sky)
    loss.backward()
    assert loss.item() == 0 and torch.equal(prediction.grad, torch.zeros_like(prediction))
    # P starts at exactly 0 (zero-initialised scores): cos 0, a bounded gradient, no NaN.
    zero = torch.zeros(1, 3, 2, 2, requires_grad=True)
    up = torch.zeros(1, 3, 2, 2)
    up[:, 2] = 1
    loss = losses.cosine_normals(zero, up)
    loss.backward()
    assert loss.item() == 1 and torch.isfinite(zero.grad).all()
    assert zero.grad.abs().max().item() == pytest.approx(1 / losses.NORMALS_EPS / 4)  # 1/eps, mean of 4 pixels


def test_balanced_bce_by_hand():
    """HED's weights: 1 boundary pixel of 4, so the positive weighs 3/4 (the share of
    negatives) and each negative 1/4; averaged over the 4 pixels."""
    logits = torch.tensor([0.5, -1.0, 2.0, 0.0]).reshape(1, 1, 2, 2)
    target = torch.tensor([1.0, 0.0, 0.0, 0.0]).reshape(1, 1, 2, 2)

    def bce(x, y):
        p = 1 / (1 + math.exp(-x))
        return -(y * math.log(p) + (1 - y) * math.log(1 - p))

    by_hand = (0.75 * bce(0.5, 1) + 0.25 * (bce(-1.0, 0) + bce(2.0, 0) + bce(0.0, 0))) / 4
    assert losses.balanced_bce(logits, target).item() == pytest.approx(by_hand)
    # Over the batch: 2 positives of 8 weigh as 1 of 4.
    two = losses.balanced_bce(torch.cat([logits, logits]), torch.cat([target, target]))
    assert two.item() == pytest.approx(by_hand)
    # No boundary at all: the negatives weigh 0 (HED), nothing to learn.
    assert losses.balanced_bce(logits, torch.zeros_like(target)).item() == 0


def test_split_pi_in_the_order_of_p_channels_whatever_the_order_listed():
    raw = torch.arange(5.0).reshape(1, 5, 1, 1)
    parts = split_pi(raw, ("boundaries", "depth", "normals"))
    assert list(parts) == ["depth", "normals", "boundaries"]
    assert [p.flatten().tolist() for p in parts.values()] == [[0.0], [1.0, 2.0, 3.0], [4.0]]
    one = raw[:, :1]
    assert split_pi(one, ("depth",))["depth"] is one  # depth alone: P's output itself
    assert (pi_channels(("depth",)), pi_channels(("normals", "depth")), pi_channels(PI_TYPES)) == (1, 4, 5)


# ---------------------------------------------------------------------------------------
# P: one FCN-8s, a head per channel
# ---------------------------------------------------------------------------------------


def test_depth_only_p_is_todays_network(tiny_config):
    """Same parameter names, shapes and initial values as the FCN-8s P was before the kinds
    of PI (FCN8s(1) without channelwise upsampling): old checkpoints, init_from and the
    stored reference numbers are unchanged."""
    from spigan.build import build_network

    torch.manual_seed(5)
    built = build_network(tiny_config(), "privileged").state_dict()
    torch.manual_seed(5)
    m = tiny_config().model
    before = FCN8s(1, m.fcn_width, m.fcn_fc_dim, "", m.fcn_input_padding, m.fcn_dropout).state_dict()
    assert list(built) == list(before)
    assert all(torch.equal(built[k], before[k]) for k in before)


def test_three_kinds_give_five_score_channels_and_independent_heads(tiny_config):
    from spigan.build import build_network

    P = build_network(tiny_config("loss.pi=[normals,boundaries,depth]"), "privileged")
    shapes = {k: tuple(v.shape) for k, v in P.state_dict().items()}
    assert shapes["score_fr.weight"][0] == shapes["score_pool3.weight"][0] == shapes["score_pool4.weight"][0] == 5
    assert shapes["upscore2.weight"] == (5, 1, 4, 4) and shapes["upscore8.weight"] == (5, 1, 16, 16)
    # Initially each output channel upsamples its own scores bilinearly, as FCN-8s does.
    one = FCN8s(1, **SMALL)
    torch.testing.assert_close(P.upscore8.weight[3], one.upscore8.weight[0])
    # A kind's loss reaches only its own head: the normals' gradient leaves the depth and
    # boundaries rows of every score layer at zero.
    for m in (P.score_fr, P.score_pool3, P.score_pool4):
        torch.nn.init.normal_(m.weight, std=0.1)
    x = torch.rand(2, 3, 32, 32) * 2 - 1
    normals = F.normalize(torch.randn(2, 3, 32, 32), dim=1)
    losses.cosine_normals(split_pi(P(x), PI_TYPES)["normals"], normals).backward()
    for m in (P.score_fr, P.score_pool3, P.score_pool4, P.upscore2, P.upscore_pool4, P.upscore8):
        assert m.weight.grad[[0, 4]].abs().sum() == 0 and m.weight.grad[1:4].abs().sum() > 0
    assert P.fc7.weight.grad.abs().sum() > 0  # the shared trunk learns from it


# ---------------------------------------------------------------------------------------
# The steps
# ---------------------------------------------------------------------------------------


def networks(channels: int = 5) -> Networks:
    """P with a head per kind (5 channels by default)."""
    return small_networks(privileged_channels=channels, channelwise_upsampling=True)


def adams(nets: Networks) -> dict:
    return {k: torch.optim.Adam(v.parameters(), lr=2e-4, betas=(0.5, 0.999)) for k, v in nets.trainable().items()}


def source_batch(seed: int = 1, b: int = 2) -> dict[str, torch.Tensor]:
    """A source batch with every kind of PI as the data side delivers it: depth in metres,
    unit normals with (0, 0, 0) in a band of sky, boundaries in {0, 1}."""
    g = torch.Generator().manual_seed(seed)
    normals = F.normalize(torch.randn(b, 3, 32, 32, generator=g), dim=1)
    normals[..., :6, :] = 0  # the sky: no geometry
    return {"image": torch.rand(b, 3, 32, 32, generator=g) * 2 - 1,
            "labels": torch.randint(0, 4, (b, 32, 32), generator=g),
            "depth": torch.rand(b, 1, 32, 32, generator=g) * 80 + 1, "normals": normals,
            "boundaries": (torch.rand(b, 1, 32, 32, generator=g) < 0.1).float()}


def z_of(batch: dict) -> dict[str, torch.Tensor]:
    return {kind: batch[kind] for kind in PI_TYPES}


@pytest.mark.numerics
@pytest.mark.parametrize("p_trained_on, task_learns", [("both", True), ("source", True), ("both", False)])
def test_multi_kind_iteration_equals_the_plain_one(optimised, same_training, p_trained_on, task_learns):
    """Eq. 5 as Σ_k γ_k·L_P_k: the optimised steps against the plain loop (which computes
    each kind's loss from its own slice of P's output, one pass per kind and image), in
    float64. (In float32 the first steps' gradients agree to 2e-6, but Adam's first steps
    move every weight by about lr whatever its gradient's size, so elements whose gradient
    is rounding noise drift apart by 1e-4 within two iterations; in float64 the noise is
    1e-16 and the two agree to 1e-12.)"""
    double = torch.float64
    batches = [{k: v.to(double) if v.is_floating_point() else v for k, v in source_batch(seed).items()}
               for seed in (3, 4, 5)]
    x_r = (torch.rand(2, 3, 32, 32, generator=torch.Generator().manual_seed(6)) * 2 - 1).to(double)
    w = dataclasses.replace(ALL, p_trained_on=p_trained_on)
    plain, fast = networks(), networks()
    for net in (*plain.present().values(), *fast.present().values()):
        net.to(double)
    plain_opt, fast_opt = adams(plain), adams(fast)
    for _ in range(2):
        plain_logs = plain_iteration(plain, plain_opt, w, batches, x_r, task_learns)
        fast_logs = optimised(fast, fast_opt, w, batches, x_r, task_learns)
        same_training(plain, fast, plain_logs, fast_logs, dict(rel=1e-10), dict(rtol=1e-9, atol=1e-11))


def test_each_kind_is_logged_under_its_name():
    nets = networks()
    b = source_batch()
    terms = adaptation_step(nets, adams(nets), ALL, b["image"], b["labels"], z_of(b), True)
    for image in ("source", "adapted"):
        assert {f"privileged_{image}", f"privileged_normals_{image}", f"privileged_boundaries_{image}"} <= set(terms)
    assert all(torch.isfinite(v) for v in terms.values())
    γ = ALL.pi_weights()
    by_kind = γ["depth"] * (terms["privileged_source"] + terms["privileged_adapted"]) + sum(
        γ[k] * (terms[f"privileged_{k}_source"] + terms[f"privileged_{k}_adapted"]) for k in ("normals", "boundaries"))
    rest = ALL.adversarial * terms["adversarial"] + ALL.task * (terms["task_source"] + terms["task_adapted"]) \
        + ALL.perceptual * terms["perceptual"]
    assert terms["total"].item() == pytest.approx((rest + by_kind).item(), rel=1e-6)  # Eq. 1 with Σ_k γ_k·L_P_k


def test_a_missing_kind_is_named():
    nets = networks()
    b = source_batch()
    with pytest.raises(SpiganError, match="^loss.pi: the source's batches carry no normals, boundaries \\(P learns "
                                          "depth, normals, boundaries; they carry depth\\)$"):
        adaptation_step(nets, adams(nets), ALL, b["image"], b["labels"], {"depth": b["depth"]}, True)


@pytest.mark.parametrize("kind", PI_TYPES)
def test_each_kind_alone_reaches_g_and_a_zero_weight_sends_nothing(kind):
    """With α = β = δ = 0 and only γ_kind > 0, G still gets a gradient: L_kind(G(x_s))
    constrains the adaptation. The diagnostic's norms: the kind's equals its term built by
    hand; the kinds with γ = 0 send nothing."""
    b = source_batch()
    gamma = {f"privileged{'' if k == 'depth' else '_' + k}": 0.5 if k == kind else 0.0 for k in PI_TYPES}
    w = LossConfig(adversarial=0, task=0, perceptual=0, pi=PI_TYPES, **gamma)
    nets = networks()
    before = copy.deepcopy(nets.generator)
    terms = adaptation_step(nets, adams(nets), w, b["image"], b["labels"], z_of(b), False,
                            measure_generator_gradients=True)
    grads = [p.grad for p in nets.generator.parameters() if p.grad is not None]
    assert grads and sum(g.abs().sum() for g in grads) > 0
    assert any(not torch.equal(p, q) for p, q in zip(nets.generator.parameters(), before.parameters()))
    for other in PI_TYPES:
        norm = terms[f"generator_gradient/privileged_{other}"].item()
        assert (norm > 0) == (other == kind), other
    # By hand: the same kind's term through fresh copies of the same networks.
    hand = networks()
    x_f = hand.generator(b["image"])
    from spigan.objective import privileged_losses, privileged_targets

    term = 0.5 * privileged_losses(hand.privileged(x_f), privileged_targets(z_of(b), w), w)[kind]
    grads = torch.autograd.grad(term, list(hand.generator.parameters()), allow_unused=True)
    expected = math.sqrt(sum(g.pow(2).sum().item() for g in grads if g is not None))
    assert terms[f"generator_gradient/privileged_{kind}"].item() == pytest.approx(expected, rel=1e-4)
    assert terms["generator_gradient/privileged"].item() == pytest.approx(expected, rel=1e-4)


def test_nothing_moves_g_when_every_weight_is_zero():
    b = source_batch()
    w = LossConfig(adversarial=0, task=0, perceptual=0, pi=PI_TYPES, privileged=0, privileged_normals=0,
                   privileged_boundaries=0)
    nets = networks()
    terms = adaptation_step(nets, adams(nets), w, b["image"], b["labels"], z_of(b), False,
                            measure_generator_gradients=True)
    assert all(p.grad is None or p.grad.abs().sum() == 0 for p in nets.generator.parameters())
    assert all(terms[f"generator_gradient/privileged_{k}"] == 0 for k in PI_TYPES)
    assert terms["privileged_normals_adapted"] > 0  # still computed and logged


def test_pretraining_learns_every_kind_in_the_proportions_of_its_gammas():
    assert pretraining_weights(LossConfig()) == {"depth": 1.0}  # depth alone: its L1 unweighted, as before
    assert pretraining_weights(ALL) == pytest.approx({"depth": 1 / 6, "normals": 2 / 6, "boundaries": 3 / 6})
    zeros = LossConfig(pi=("depth", "normals"), privileged=0, privileged_normals=0)
    assert pretraining_weights(zeros) == {"depth": 0.5, "normals": 0.5}

    from spigan.objective import privileged_losses, privileged_targets

    b = source_batch()
    nets = networks()
    nets.generator = nets.discriminator = None
    nets.perceptual.unfreeze_()
    from spigan.models import PerceptualHead

    nets.perceptual_head = PerceptualHead(4, width=8)
    hand = copy.deepcopy(nets.privileged)
    parts = privileged_losses(hand(b["image"]), privileged_targets(z_of(b), ALL), ALL)
    weights = pretraining_weights(ALL)
    expected = torch.autograd.grad(sum(weights[k] * v for k, v in parts.items()), list(hand.parameters()))
    terms = pretrain_step(nets, adams(nets), ALL, b["image"], b["labels"], z_of(b))
    for g, e in zip((p.grad for p in nets.privileged.parameters()), expected):
        torch.testing.assert_close(g, e, rtol=1e-4, atol=1e-7)
    assert terms["privileged_source"].item() == pytest.approx(parts["depth"].item(), rel=1e-6)
    assert terms["privileged_normals_source"].item() == pytest.approx(parts["normals"].item(), rel=1e-6)
    assert terms["privileged_boundaries_source"].item() == pytest.approx(parts["boundaries"].item(), rel=1e-6)


# ---------------------------------------------------------------------------------------
# The config, the variant, old configs and checkpoints
# ---------------------------------------------------------------------------------------


def test_the_config_names_the_kinds_and_their_weights():
    cfg = load_config(None, [])
    assert cfg.loss.pi == ("depth",) and cfg.loss.privileged == 0.1  # the paper
    assert (cfg.loss.privileged_normals, cfg.loss.privileged_boundaries) == (0.1, 0.1)
    cfg = load_config(None, ["loss.pi=[boundaries,depth]", "loss.privileged_boundaries=0.5"])
    assert cfg.loss.pi == ("boundaries", "depth") and config_from_dict(to_dict(cfg)) == cfg
    assert cfg.variant().weights.pi == ("depth", "boundaries")  # P's channel order
    assert cfg.variant().weights.pi_weights() == {"depth": 0.1, "boundaries": 0.5}


@pytest.mark.parametrize("override, message", [
    ("loss.pi=[depth,curvature]", "loss.pi: 'curvature' is not a kind of privileged information "
                                  r"\(depth, normals, boundaries\)"),
    ("loss.pi=[normals,normals]", "loss.pi: normals is named twice"),
    ("loss.pi=normals", "loss.pi: expected a list, got 'normals'"),
    ("loss.pi=[1]", r"loss.pi\[0\]: expected a string, got 1"),
    ("loss.privileged_normals=-0.1", "loss.privileged_normals: must be at least 0, got -0.1"),
    ("loss.privileged_boundaries=-1", "loss.privileged_boundaries: must be at least 0, got -1.0"),
    ("loss.pi=[]", r"loss.pi: empty, but train.method=spigan trains P: name at least one of depth, normals, "
                   r"boundaries \(train.method=no_pi trains without P\)"),
])
def test_bad_kinds_and_weights_are_refused_naming_the_key(override, message):
    with pytest.raises(SpiganError, match=f"^{message}$"):
        load_config(None, [override])


def test_methods_without_p_switch_every_kind_off():
    for method in ("no_pi", "base", "source_only", "target_only"):
        v = load_config(None, [f"train.method={method}", "loss.pi=[depth,normals,boundaries]"]).variant()
        assert v.weights.pi == () and not v.privileged and "privileged" not in v.networks
        assert "normals" not in v.batch_keys and "boundaries" not in v.batch_keys
    no_pi = load_config(None, ["train.method=no_pi", "loss.pi=[depth,normals,boundaries]"]).variant().weights
    assert (no_pi.privileged, no_pi.privileged_normals, no_pi.privileged_boundaries) == (0, 0, 0)
    assert load_config(None, ["train.method=no_pi", "loss.pi=[]"]).variant().batch_keys == ("image", "labels", "depth")
    spigan = load_config(None, ["loss.pi=[normals,boundaries,depth]"]).variant()
    assert spigan.batch_keys == ("image", "labels", "depth", "normals", "boundaries") and spigan.privileged
    pretrain = load_config(None, ["train.method=pretrain", "loss.pi=[normals]"]).variant()
    assert pretrain.batch_keys == ("image", "labels", "depth", "normals") and pretrain.weights.pi == ("normals",)
    # γ_k = 0 for every kind: no P (as loss.privileged=0 was); one kind at 0 keeps its channels.
    assert not load_config(None, ["loss.pi=[depth,normals]", "loss.privileged=0",
                                  "loss.privileged_normals=0"]).variant().privileged
    assert load_config(None, ["loss.pi=[depth,normals]", "loss.privileged_normals=0"]).variant().weights.pi == (
        "depth", "normals")


def test_an_old_config_and_checkpoint_load_as_depth_alone(tiny_config):
    """A config saved before loss.pi (no pi, no privileged_normals/_boundaries) is depth
    alone; a checkpoint of that day, whose P is the plain FCN8s(1), loads into it."""
    from spigan.api import Segmenter
    from spigan.checkpoint import FORMAT, network_from_checkpoint

    saved = to_dict(tiny_config("loss.depth_target=log"))
    for key in ("pi", "privileged_normals", "privileged_boundaries"):
        del saved["loss"][key]
    cfg = config_from_dict(saved)
    assert cfg.loss.pi == ("depth",) and cfg.variant().weights.pi == ("depth",)
    m = cfg.model
    old_p = FCN8s(1, m.fcn_width, m.fcn_fc_dim, "", m.fcn_input_padding, m.fcn_dropout)
    torch.nn.init.normal_(old_p.score_fr.weight, std=0.1)
    task = FCN8s(16, m.fcn_width, m.fcn_fc_dim, "", m.fcn_input_padding, m.fcn_dropout)
    from spigan.build import class_names

    state = {"format": FORMAT, "config": saved, "classes": list(class_names(cfg)), "iteration": 7,
             "networks": {"task": task.state_dict(), "privileged": old_p.state_dict()}}
    P = network_from_checkpoint(state, "privileged")
    assert all(torch.equal(a, b) for a, b in zip(P.state_dict().values(), old_p.state_dict().values()))
    segmenter = Segmenter(state, device="cpu")
    assert segmenter.has_depth
    depth = segmenter.depth(np.full((32, 64, 3), 128, np.uint8))
    assert depth.shape == (32, 64) and np.isfinite(depth).all()


def test_init_from_refuses_p_of_other_kinds(tmp_path, tiny_config):
    """Depth and boundaries have the same shapes: init_from names the kinds instead of
    taking P's weights for another meaning."""
    from spigan.build import build_networks, class_names
    from spigan.checkpoint import FORMAT, init_weights_from

    there = tiny_config("loss.pi=[boundaries]")
    nets = build_networks(tiny_config(), torch.device("cpu"))
    theirs = build_networks(there, torch.device("cpu"))
    state = {"format": FORMAT, "config": to_dict(there), "classes": list(class_names(there)), "iteration": 3,
             "networks": {k: v.state_dict() for k, v in theirs.present().items()}}
    torch.save(state, tmp_path / "b.pt")
    with pytest.raises(SpiganError, match="privileged learns boundaries there, depth in this run \\(loss.pi\\)$"):
        init_weights_from(nets, tmp_path / "b.pt", class_names(there), pi=("depth",))
    taken = init_weights_from(nets, tmp_path / "b.pt", class_names(there), only="task", pi=("depth",))
    assert taken["networks"] == ["task"]


# ---------------------------------------------------------------------------------------
# The diagnostic's shares, the report and the figures
# ---------------------------------------------------------------------------------------


def test_kind_shares_are_parts_of_the_privileged_term_not_added_to_the_total():
    from spigan.metrics_log import with_gradient_shares

    values = with_gradient_shares({"generator_gradient/adversarial": 1.0, "generator_gradient/task": 1.0,
                                   "generator_gradient/privileged": 1.5, "generator_gradient/perceptual": 0.5,
                                   "generator_gradient/privileged_depth": 1.0,
                                   "generator_gradient/privileged_normals": 0.75})
    assert values["generator_gradient_share/privileged"] == pytest.approx(1.5 / 4)
    assert values["generator_gradient_share/privileged_depth"] == pytest.approx(1.0 / 4)
    assert values["generator_gradient_share/privileged_normals"] == pytest.approx(0.75 / 4)
    eq1 = ("adversarial", "task", "privileged", "perceptual")
    assert sum(values[f"generator_gradient_share/{t}"] for t in eq1) == pytest.approx(1.0)


def test_pictures_of_each_kind():
    from spigan.figures import privileged_to_rgb

    normals = np.zeros((3, 1, 3), np.float32)
    normals[:, 0, 0] = (1, 0, 0)
    normals[:, 0, 1] = (0, 0, -2)  # P's raw normals are scaled to unit length first
    rgb = privileged_to_rgb("normals", normals)
    assert rgb.shape == (1, 3, 3) and rgb[0].tolist() == [[255, 128, 128], [128, 128, 0], [128, 128, 128]]
    grey = privileged_to_rgb("boundaries", np.array([[[0.0, 1.0]]]))
    assert grey[0].tolist() == [[0, 0, 0], [255, 255, 255]]
    logit = privileged_to_rgb("boundaries", np.array([[[0.0]]]), LossConfig())  # P's logit 0: sigmoid 0.5
    assert logit[0, 0].tolist() == [128, 128, 128]
    depth = privileged_to_rgb("depth", np.array([[[10.0]]]))
    assert depth.shape == (1, 1, 3) and depth.dtype == np.uint8


class _WithPI:
    """Samples as the data side will deliver them (stand-in until it lands): normals from the
    depth's gradient ((0, 0, 0) on the sky), boundaries where the labels change."""

    def __init__(self, samples):
        self.samples = samples
        self.source = samples.source

    def __len__(self):
        return len(self.samples)

    def __getitem__(self, key):
        out = self.samples[key]
        keys = self.samples.keys
        depth, labels = out["depth"], out["labels"]
        if "normals" in keys:
            dy, dx = torch.gradient(depth[0])
            normals = F.normalize(torch.stack([-dx, -dy, torch.ones_like(dx)]), dim=0)
            out["normals"] = torch.where(depth >= 655, torch.zeros_like(normals), normals)
        if "boundaries" in keys:
            edge = torch.zeros_like(labels, dtype=torch.bool)
            edge[1:] |= labels[1:] != labels[:-1]
            edge[:, 1:] |= labels[:, 1:] != labels[:, :-1]
            out["boundaries"] = edge.float()[None]
        return out


@pytest.mark.slow
def test_a_tiny_run_with_every_kind_logs_reports_and_draws_them(tmp_path, tiny_config, monkeypatch):
    import json

    import cv2

    from spigan import figures, sources
    from spigan import train as train_module
    from spigan.checkpoint import load_checkpoint
    from spigan.data.datasets import Samples
    from spigan.figures import loss_figure, pyplot
    from spigan.report import gradient_shares, shares_markdown
    from spigan.results import load_run

    def samples(source, crop=None, keys=("image", "labels", "depth")):
        wanted = tuple(keys) + tuple(k for k in ("labels", "depth") if k not in keys)  # what the stand-in derives from
        return _WithPI(Samples(source, crop, wanted)) if set(keys) & {"normals", "boundaries"} else Samples(
            source, crop, keys)

    monkeypatch.setattr(train_module, "Samples", samples)
    monkeypatch.setattr(figures, "validation_samples",
                        lambda cfg, role="target", keys=sources.VALIDATION_KEYS:
                        samples(sources.frame_source(cfg, role, "val"), None, keys))
    cfg = tiny_config("train.iterations=2", "loss.pi=[depth,normals,boundaries]")
    run = tmp_path / "spigan"
    train_module.train(cfg, run, progress=False)

    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    for row in rows:
        for kind in ("normals", "boundaries"):
            for image in ("source", "adapted"):
                assert np.isfinite(row[f"privileged_{kind}_{image}"])
        shares = [row[f"generator_gradient_share/{t}"] for t in ("adversarial", "task", "privileged", "perceptual")]
        assert sum(shares) == pytest.approx(1.0)
        assert {f"generator_gradient_share/privileged_{k}" for k in PI_TYPES} <= set(row)
    assert rows[-1]["generator_gradient/privileged_normals"] > 0
    state = load_checkpoint(run / "checkpoints" / "last.pt")
    assert state["networks"]["privileged"]["score_fr.weight"].shape[0] == 5

    finished = load_run(run)
    table = shares_markdown(gradient_shares([finished]))
    assert "γ_normals·L_normals(G(x_s))" in table and "γ_boundaries·L_boundaries(G(x_s))" in table
    fig = loss_figure(rows, None)
    assert len([line for line in fig.axes[2].lines if line.get_linestyle() == "--"]) == 3  # a share per kind
    pyplot().close(fig)
    G = figures._network(finished, "generator")
    written = figures.privileged_figure(finished, G, tmp_path / "figures", examples=2)
    (path, grid), = written.items()
    assert grid == (2, 2 + 2 * 3)  # x_s, G(x_s), and P's prediction beside the simulator's for each kind
    assert cv2.imread(str(path)).std() > 10
