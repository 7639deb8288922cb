"""What each method means, decided in one place: networks, weights, batch contents."""

import pytest
import torch

from spigan.build import build_networks
from spigan.config import load_config, with_method
from spigan.errors import SpiganError
from spigan.loss_config import LossConfig
from spigan.variant import METHODS, variant_of


def test_method_switch_sets_the_weights():
    assert load_config(None, ["train.method=no_pi"]).variant().weights.privileged == 0
    base = load_config(None, ["train.method=base"]).variant().weights
    assert base.privileged == 0 and base.perceptual == 0
    spigan = load_config(None, ["train.method=spigan"]).variant().weights
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
    v = load_config(None, [f"train.method={method}"]).variant()
    assert v.networks == networks and v.batch_keys == keys and v.train_role == role
    assert v.adapted == (method in ("spigan", "no_pi", "base"))


def test_the_variant_takes_values_not_the_config():
    """variant_of decides from the method's name and the loss weights alone (the config,
    which imports spigan.variant, hands them over in Config.variant)."""
    weights = LossConfig(privileged=0.2, perceptual=0.5)
    v = variant_of("no_pi", weights)
    assert (v.weights.privileged, v.weights.perceptual) == (0.0, 0.5) and weights.privileged == 0.2
    assert v == load_config(None, ["train.method=no_pi", "loss.privileged=0.2", "loss.perceptual=0.5"]).variant()
    with pytest.raises(SpiganError, match="train.method: 'nope' is not one of"):
        variant_of("nope", weights)


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
