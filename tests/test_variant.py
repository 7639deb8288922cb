"""What each method means, decided in one place: networks, weights, batch contents."""

import pytest
import torch

from spigan.build import build_networks
from spigan.config import load_config
from spigan.variant import METHODS, variant_of, with_method


def test_method_switch_sets_the_weights():
    assert variant_of(load_config(None, ["train.method=no_pi"])).weights.privileged == 0
    base = variant_of(load_config(None, ["train.method=base"])).weights
    assert base.privileged == 0 and base.perceptual == 0
    spigan = variant_of(load_config(None, ["train.method=spigan"])).weights
    assert (spigan.adversarial, spigan.task, spigan.privileged, spigan.perceptual) == (1.0, 0.5, 0.1, 0.33)
    cfg = load_config(None, ["train.method=no_pi"])
    assert cfg.loss.privileged == 0.1  # the config keeps γ; only the variant's weights drop it


@pytest.mark.parametrize("method, networks, keys, role", [
    ("spigan", ("task", "generator", "discriminator", "privileged", "perceptual"), ("image", "labels", "depth"), "source"),
    ("no_pi", ("task", "generator", "discriminator", "perceptual"), ("image", "labels", "depth"), "source"),
    ("base", ("task", "generator", "discriminator"), ("image", "labels", "depth"), "source"),
    ("source_only", ("task",), ("image", "labels"), "source"),
    ("target_only", ("task",), ("image", "labels"), "target"),
    ("pretrain", ("task", "privileged", "perceptual", "perceptual_head"), ("image", "labels", "depth"), "source"),
])
def test_each_method_in_one_table(method, networks, keys, role):
    v = variant_of(load_config(None, [f"train.method={method}"]))
    assert v.networks == networks and v.batch_keys == keys and v.train_role == role
    assert v.adapted == (method in ("spigan", "no_pi", "base"))


def test_with_method_changes_method_seed_and_name_only():
    cfg = load_config(None, ["train.lr=1e-3"])
    other = with_method(cfg, "base", seed=4, name="x")
    assert (other.train.method, other.train.seed, other.name, other.train.lr) == ("base", 4, "x", 1e-3)
    assert cfg.train.method == "spigan" and set(METHODS) >= {"spigan", "base"}


@pytest.mark.parametrize("method, built", [
    ("spigan", {"generator", "discriminator", "privileged", "perceptual"}),
    ("no_pi", {"generator", "discriminator", "perceptual"}),
    ("base", {"generator", "discriminator"}),
    ("source_only", set()),
    ("target_only", set()),
    ("pretrain", {"privileged", "perceptual", "perceptual_head"}),
])
def test_variants_build_only_what_they_use(method, built):
    cfg = load_config(None, [f"train.method={method}", "model.generator_width=4", "model.generator_blocks=1",
                             "model.discriminator_width=4", "model.fcn_width=8", "model.fcn_fc_dim=16",
                             "model.perceptual_width=8"])
    nets = build_networks(cfg, torch.device("cpu"))
    present = {k for k in ("generator", "discriminator", "privileged", "perceptual", "perceptual_head")
               if getattr(nets, k) is not None}
    assert present == built and nets.task is not None
    # φ learns in the pretraining alone (the layers it runs); everywhere else it is frozen.
    if nets.perceptual is not None:
        learning = {p.requires_grad for p in nets.perceptual.used_layers().parameters()}
        assert learning == {method == "pretrain"}
        assert ("perceptual" in nets.trainable()) == (method == "pretrain")
