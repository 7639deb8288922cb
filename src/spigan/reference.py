"""The plain SPIGAN iteration: the same mathematics as `objective` written the obvious
way, in float32, with every network requiring gradients and nothing shared (G(x_s) is
recomputed for every term, T and P see x_s and G(x_s) in separate passes, φ(x_s) builds a
graph). Not used for training: it is the yardstick of `tests/test_reference.py` (same
losses and parameters) and of `benchmarks/throughput.py` (how much the optimised step saves).
"""

from __future__ import annotations

import torch

from spigan.depth import depth_prediction, encode_depth
from spigan.loss_config import PI_CHANNELS, PI_TYPES, LossConfig
from spigan.losses import (
    adversarial_loss,
    balanced_bce,
    cosine_normals,
    cross_entropy,
    discriminator_loss,
    l1_depth,
    perceptual_loss,
)
from spigan.networks import Networks


def plain_iteration(nets: Networks, optimizers: dict[str, torch.optim.Optimizer], w: LossConfig,
                    batches: list[dict[str, torch.Tensor]], x_r: torch.Tensor, task_learns: bool = True) -> list[dict]:
    """One D step on (batches[0], x_r), then one adaptation step per source batch, the
    first also updating T and P unless `task_learns` is False (train.adaptation_warmup).
    A batch carries "image", "labels" and each kind of privileged information in w.pi.
    Returns the loss terms of each step, as floats."""
    G, D, T, P, phi = nets.generator, nets.discriminator, nets.task, nets.privileged, nets.perceptual
    for net in (G, D, T, P, phi):
        if net is not None:
            net.requires_grad_(True)
    logs = []

    x_s = batches[0]["image"]
    d_loss = discriminator_loss(D(x_r), D(G(x_s).detach()))
    optimizers["discriminator"].zero_grad()
    d_loss.backward()
    optimizers["discriminator"].step()
    logs.append({"discriminator": d_loss.item()})

    for k, batch in enumerate(batches):
        x_s, y_s = batch["image"], batch["labels"]
        adv = adversarial_loss(D(G(x_s)))
        task = cross_entropy(T(x_s), y_s) + cross_entropy(T(G(x_s)), y_s)
        priv = torch.zeros(())
        if P is not None:
            # p_trained_on "source": P's weights are constants in the G(x_s) term.
            P_f = P if w.p_trained_on == "both" else (
                lambda x: torch.func.functional_call(P, {n: p.detach() for n, p in P.named_parameters()}, (x,)))
            gamma = {"depth": w.privileged, "normals": w.privileged_normals, "boundaries": w.privileged_boundaries}
            priv = sum(gamma[kind] * (_privileged_loss(P(x_s), kind, batch, w)
                                      + _privileged_loss(P_f(G(x_s)), kind, batch, w)) for kind in w.pi)
        perc = perceptual_loss(phi(x_s), phi(G(x_s))) if phi is not None else torch.zeros(())
        total = w.adversarial * adv + w.task * task + priv + w.perceptual * perc
        for opt in optimizers.values():
            opt.zero_grad()
        total.backward()
        optimizers["generator"].step()
        if k == 0 and task_learns:
            optimizers["task"].step()
            if "privileged" in optimizers:
                optimizers["privileged"].step()
        # The optimised step leaves out the x_s-only terms when T and P do not move (they
        # give G no gradient), so only the first step's total is comparable.
        logs.append({"adversarial": adv.item(), **({"total": total.item()} if k == 0 and task_learns else {})})
    return logs


def _privileged_loss(raw: torch.Tensor, kind: str, batch: dict[str, torch.Tensor], w: LossConfig) -> torch.Tensor:
    """L_P of one kind of privileged information: its channels of P's output (P stacks the
    configured kinds in PI_TYPES' order) against the batch's."""
    start = sum(PI_CHANNELS[k] for k in PI_TYPES[:PI_TYPES.index(kind)] if k in w.pi)
    prediction = raw[:, start: start + PI_CHANNELS[kind]]
    if kind == "depth":
        return l1_depth(depth_prediction(prediction, w.max_depth, w.depth_target),
                        encode_depth(batch["depth"], w.max_depth, w.depth_target, w.depth_far))
    if kind == "normals":
        return cosine_normals(prediction, batch["normals"])
    return balanced_bce(prediction, batch["boundaries"])
