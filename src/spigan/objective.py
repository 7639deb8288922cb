"""The update steps of SPIGAN (paper §3.3, Eq. 1-6) as plain functions.

One SPIGAN iteration is a discriminator step (G, T, P fixed; D sees G(x_s).detach() and
x_r), then `generator_steps` adaptation steps with D fixed: each updates G, and the first
also updates T and P. In every adaptation step L_T and L_P on G(x_s) reach G's
parameters: the privileged information constrains the adaptation through them.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from spigan.losses import (adversarial_loss, cross_entropy, discriminator_loss, encode_depth, l1_depth,
                           perceptual_loss)


@dataclass
class Networks:
    """T always; G and D for the adapted variants; P when γ > 0; φ when δ > 0."""

    task: nn.Module  # T
    generator: nn.Module | None = None  # G
    discriminator: nn.Module | None = None  # D
    privileged: nn.Module | None = None  # P
    perceptual: nn.Module | None = None  # φ (frozen)

    def trainable(self) -> dict[str, nn.Module]:
        named = {"task": self.task, "generator": self.generator, "discriminator": self.discriminator,
                 "privileged": self.privileged}
        return {k: v for k, v in named.items() if v is not None}


@dataclass(frozen=True)
class Weights:
    """α, β, γ, δ of Eq. 1."""

    adversarial: float = 1.0
    task: float = 0.5
    privileged: float = 0.1
    perceptual: float = 0.33


def discriminator_step(generator: nn.Module, discriminator: nn.Module, optimizer: torch.optim.Optimizer,
                       x_s: torch.Tensor, x_r: torch.Tensor) -> dict[str, torch.Tensor]:
    """Updates D only: real photos towards 1, adapted frames towards 0 (Eq. 2)."""
    with torch.no_grad():  # G fixed: no graph, no weight gradients
        x_f = generator(x_s)
    discriminator.requires_grad_(True)
    loss = discriminator_loss(discriminator(x_r), discriminator(x_f))
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return {"discriminator": loss.detach()}


def adaptation_step(nets: Networks, optimizers: dict[str, torch.optim.Optimizer], w: Weights,
                    x_s: torch.Tensor, y_s: torch.Tensor, z_s: torch.Tensor, update_task_and_privileged: bool,
                    max_depth: float) -> dict[str, torch.Tensor]:
    """One step of G (and of T and P if `update_task_and_privileged`) with D fixed.

    x_s (b, 3, h, w) in [-1, 1]; y_s (b, h, w) labels; z_s (b, 1, h, w) depth in metres.
    Terms on x_s alone carry no gradient to G, so they are computed only when T and P move.
    """
    G, D, T, P, phi = nets.generator, nets.discriminator, nets.task, nets.privileged, nets.perceptual
    D.requires_grad_(False)  # D fixed: its input still gets gradients, its weights none
    T.requires_grad_(update_task_and_privileged)
    if P is not None:
        P.requires_grad_(update_task_and_privileged)
    zero = x_s.new_zeros(())
    z_target = encode_depth(z_s, max_depth)

    x_f = G(x_s)  # adapted images, shared by every term below
    adv = adversarial_loss(D(x_f))
    task_adapted = cross_entropy(T(x_f), y_s)
    task_source = cross_entropy(T(x_s), y_s) if update_task_and_privileged else zero
    priv_adapted = l1_depth(P(x_f), z_target) if P is not None else zero
    priv_source = l1_depth(P(x_s), z_target) if P is not None and update_task_and_privileged else zero
    if phi is not None:
        with torch.no_grad():  # φ(x_s) is a constant target
            target_features = phi(x_s)
        perc = perceptual_loss(target_features, phi(x_f))
    else:
        perc = zero
    task = task_source + task_adapted  # Eq. 3
    privileged = priv_source + priv_adapted  # Eq. 5

    total = w.adversarial * adv + w.task * task + w.privileged * privileged + w.perceptual * perc  # Eq. 1

    moving = ["generator"] + (["task", "privileged"] if update_task_and_privileged else [])
    for name in moving:
        if name in optimizers:
            optimizers[name].zero_grad(set_to_none=True)
    total.backward()
    for name in moving:
        if name in optimizers:
            optimizers[name].step()
    terms = {"adversarial": adv, "task_adapted": task_adapted, "perceptual": perc, "total": total}
    if P is not None:
        terms["privileged_adapted"] = priv_adapted
    if update_task_and_privileged:
        terms["task_source"] = task_source
        if P is not None:
            terms["privileged_source"] = priv_source
    return {k: v.detach() for k, v in terms.items()}


def supervised_step(task_net: nn.Module, optimizer: torch.optim.Optimizer, x: torch.Tensor,
                    y: torch.Tensor) -> dict[str, torch.Tensor]:
    """T alone on labelled images: `source_only` (x_s, y_s) and `target_only` (x_t, y_t)."""
    task_net.requires_grad_(True)
    loss = cross_entropy(task_net(x), y)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return {"task_source": loss.detach()}
