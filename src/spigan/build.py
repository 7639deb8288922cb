"""Networks and optimisers from a config: the only place that turns `model.*` into modules.

Training builds what its variant needs (spigan.variant); a checkpoint rebuilds any one
network from its own config (spigan.checkpoint) through `build_network`.
"""

from __future__ import annotations

import logging
from typing import Sequence

import torch
from torch import nn

from spigan.config import Config
from spigan.loss_config import pi_channels
from spigan.models import FCN8s, PatchDiscriminator, PerceptualHead, PerceptualVGG19, ResnetGenerator
from spigan.networks import Networks
from spigan.ontology import ONTOLOGIES


def class_names(cfg: Config) -> tuple[str, ...]:
    """The classes T predicts (the training ontology)."""
    return ONTOLOGIES[cfg.data.ontology][0]


def build_network(cfg: Config, name: str, imagenet: bool = True) -> nn.Module:
    """One network by its checkpoint name: task (T), privileged (P), generator (G),
    discriminator (D), perceptual (φ, frozen) or perceptual_head (φ's segmentation head,
    pretraining only). `imagenet=False` skips the VGG weight files (a checkpoint's weights
    replace them anyway)."""
    m = cfg.model
    if name in ("task", "privileged"):
        # P: the channels of loss.pi's kinds (1 for depth alone), one head per channel (models/fcn.py).
        out = len(class_names(cfg)) if name == "task" else pi_channels(cfg.loss.pi)
        return FCN8s(out, m.fcn_width, m.fcn_fc_dim, m.vgg16_weights if imagenet else "", m.fcn_input_padding,
                     m.fcn_dropout, channelwise_upsampling=name == "privileged")
    if name == "generator":
        return ResnetGenerator(m.generator_width, m.generator_blocks, skip=m.generator_skip,
                               upsampling=m.generator_upsampling)
    if name == "discriminator":
        return PatchDiscriminator(m.discriminator_width, m.discriminator_layers)
    if name == "perceptual":
        return PerceptualVGG19(m.perceptual_width, m.vgg19_weights if imagenet else "")
    if name == "perceptual_head":
        return PerceptualHead(len(class_names(cfg)), m.perceptual_width)
    raise ValueError(f"unknown network {name!r}")


def build_networks(cfg: Config, device: torch.device, dtype: torch.dtype = torch.float32) -> Networks:
    """The networks of the config's variant: `source_only`/`target_only` T alone; `no_pi`
    no P; `base` neither P nor φ; `pretrain` T, P, and φ with its head, φ learning.
    `dtype`: of their weights (float64 for train.precision=fp64)."""
    variant = cfg.variant()
    # Built in `dtype` from the start, so float64 weights are drawn in float64: float32
    # draws differ in their last bits between CPUs (normal_ has an AVX2 kernel of its own).
    previous = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        nets = Networks(**{name: build_network(cfg, name) for name in variant.networks})
    finally:
        torch.set_default_dtype(previous)
    if "perceptual" in nets.trainable():  # pretraining: φ learns (before any DDP wrapper is made)
        nets.perceptual.unfreeze_()
    for net in nets.present().values():
        net.to(device, dtype)
        if cfg.train.channels_last:  # same mathematics; faster convolutions on CPU (docs/PERFORMANCE.md)
            net.to(memory_format=torch.channels_last)
    return nets


def imagenet_weight_files(nets: Networks) -> dict[str, str | None]:
    """Each VGG's ImageNet weight file, None where it starts from random initialisation."""
    files = {"task (VGG16)": nets.task.weight_file}
    if nets.privileged is not None:
        files["privileged (VGG16)"] = nets.privileged.weight_file
    if nets.perceptual is not None:
        files["perceptual φ (VGG19)"] = nets.perceptual.weight_file
    return files


def log_imagenet_weights(nets: Networks, taken: Sequence[str] = ()) -> None:
    """Logs each VGG's ImageNet weight file, or warns that it starts from random
    initialisation; not for the networks in `taken`, which came from another checkpoint
    (train.init_from, whose own log line says where from)."""
    log = logging.getLogger("spigan")
    for name, file in imagenet_weight_files(nets).items():
        if name.split()[0] in taken:  # its ImageNet weights, if any, were replaced
            continue
        if file:
            log.info("%s starts from ImageNet weights (%s)", name, file)
        else:
            log.warning("%s starts from random initialisation, not ImageNet weights (set model.vgg16_weights / "
                        "model.vgg19_weights to use them)", name)


def pretrained_report(nets: Networks) -> dict[str, bool]:
    """Which VGGs start from ImageNet weights (reported loudly in logs and results)."""
    return {name: file is not None for name, file in imagenet_weight_files(nets).items()}


def build_optimizers(nets: Networks, cfg: Config) -> dict[str, torch.optim.Optimizer]:
    """Adam for every trained network (paper §4.1: lr 2e-4; CycleGAN's betas)."""
    t = cfg.train
    return {name: torch.optim.Adam(net.parameters(), lr=t.lr, betas=(t.beta1, t.beta2))
            for name, net in nets.trainable().items()}
