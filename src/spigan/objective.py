"""The update steps of SPIGAN (paper §3.3, Eq. 1-6) as plain functions.

One SPIGAN iteration is a discriminator step (G, T, P fixed; D sees G(x_s).detach() and
x_r), then `generator_steps` adaptation steps with D fixed: each updates G, and the first
also updates T and P. In every adaptation step L_T and L_P on G(x_s) reach G's
parameters: the privileged information constrains the adaptation through them.

Besides: the supervised step (T alone: `source_only`, `target_only`) and the pretraining
step (T, P and φ on the simulator's labels and depth: `pretrain`).
"""

from __future__ import annotations

import torch
from torch import nn

from spigan.depth import depth_prediction, encode_depth
from spigan.loss_config import LossConfig
from spigan.losses import (
    adversarial_loss,
    cross_entropy,
    discriminator_loss,
    l1_depth,
    perceptual_loss,
)
from spigan.networks import Networks


def _apply(optimizers: dict[str, torch.optim.Optimizer], loss: torch.Tensor, skip_nonfinite: bool,
           scaler: torch.amp.GradScaler | None = None) -> dict[str, torch.Tensor]:
    """zero_grad, backward, step the named optimisers. A non-finite loss or gradient is
    caught either way: with `skip_nonfinite` it updates nothing (this check reads the loss
    and the gradients on the host); without, the step is taken and "nonfinite_gradient/NAME"
    (1 where the loss was finite and NAME's gradients were not) goes to the loop, which
    stops before saving (metrics_log.check_finite). With a gradient `scaler`
    (fp16), the loss is scaled and the scaler skips steps with overflowing gradients.
    Returns {"skipped": 1 if the update was skipped here else 0, "nonfinite_gradient/NAME": ...}."""
    for opt in optimizers.values():
        opt.zero_grad(set_to_none=True)
    if skip_nonfinite and not torch.isfinite(loss).item():
        return {"skipped": loss.new_ones(())}
    if scaler is not None:
        scaler.scale(loss).backward()
        for opt in optimizers.values():
            scaler.step(opt)
        scaler.update()
        return {"skipped": loss.new_zeros(())}
    loss.backward()
    # Wrong kernels can give non-finite gradients from a finite loss (bf16 on some CPUs,
    # issue 21); Adam would turn them into NaN weights.
    finite_loss = torch.isfinite(loss)
    nonfinite = {name: (finite_loss & ~torch.isfinite(_gradient_sum(opt))).to(loss.dtype)
                 for name, opt in optimizers.items()}
    if skip_nonfinite and any(flag.item() for flag in nonfinite.values()):
        for opt in optimizers.values():
            opt.zero_grad(set_to_none=True)
        return {"skipped": loss.new_ones(())}
    for opt in optimizers.values():
        opt.step()
    return {"skipped": loss.new_zeros(()), **{f"nonfinite_gradient/{name}": v for name, v in nonfinite.items()}}


def _gradient_sum(optimizer: torch.optim.Optimizer) -> torch.Tensor:
    """The sum of every gradient element of the optimiser's parameters: not finite if any
    element is not (or if they overflow float32 together, astronomically large anyway).
    A sum, not max |g|: 1 ms against 18 ms per step at the demo's widths (docs/PERFORMANCE.md)."""
    sums = [p.grad.sum() for group in optimizer.param_groups for p in group["params"] if p.grad is not None]
    return torch.stack(sums).sum() if sums else torch.zeros(())


def discriminator_step(generator: nn.Module, discriminator: nn.Module, optimizer: torch.optim.Optimizer,
                       x_s: torch.Tensor, x_r: torch.Tensor, skip_nonfinite: bool = False,
                       scaler: torch.amp.GradScaler | None = None) -> dict[str, torch.Tensor]:
    """Updates D only: real photos towards 1, adapted frames towards 0 (Eq. 2)."""
    with torch.no_grad():  # G fixed: no graph, no weight gradients
        x_f = generator(x_s)
    discriminator.requires_grad_(True)
    # One forward for both: D normalises per sample, so this equals two passes.
    d_real, d_fake = discriminator(torch.cat([x_r, x_f])).split([len(x_r), len(x_f)])
    loss = discriminator_loss(d_real, d_fake)
    applied = _apply({"discriminator": optimizer}, loss, skip_nonfinite, scaler)
    return {"discriminator": loss.detach(), **applied}


def adaptation_step(nets: Networks, optimizers: dict[str, torch.optim.Optimizer], w: LossConfig,
                    x_s: torch.Tensor, y_s: torch.Tensor, z_s: torch.Tensor, update_task_and_privileged: bool,
                    skip_nonfinite: bool = False, scaler: torch.amp.GradScaler | None = None,
                    measure_generator_gradients: bool = False) -> dict[str, torch.Tensor]:
    """One step of G (and of T and P if `update_task_and_privileged`) with D fixed.

    `w` holds α, β, γ, δ of Eq. 1 (the variant's effective weights, spigan.variant) and the
    depth target of Eq. 5 (w.depth_target, w.max_depth, w.depth_far; spigan.depth) and what P
    learns from (w.p_trained_on: both as in the paper, or source, x_s only).
    x_s (b, 3, h, w) in [-1, 1]; y_s (b, h, w) labels; z_s (b, 1, h, w) depth in metres.
    Terms on x_s alone carry no gradient to G, so they are computed only when T and P move;
    then x_s and G(x_s) go through T (and P) as one batch, which equals two passes as
    neither network normalises over the batch.
    `measure_generator_gradients`: also returns the norm of the gradient each weighted term
    sends into G's parameters (see generator_gradient_norms); the update is unchanged.
    """
    G, D, T, P, phi = nets.generator, nets.discriminator, nets.task, nets.privileged, nets.perceptual
    update = update_task_and_privileged
    D.requires_grad_(False)  # D fixed: its input still gets gradients, its weights none
    T.requires_grad_(update)
    if P is not None:
        P.requires_grad_(update)
    zero = x_s.new_zeros(())
    z_target = encode_depth(z_s, w.max_depth, w.depth_target, w.depth_far)
    b = len(x_s)

    x_f = G(x_s)  # adapted images, shared by every term below
    adv = adversarial_loss(D(x_f))
    if update:
        logits_s, logits_f = T(torch.cat([x_s, x_f])).split([b, b])
        task_source, task_adapted = cross_entropy(logits_s, y_s), cross_entropy(logits_f, y_s)
    else:
        task_source, task_adapted = zero, cross_entropy(T(x_f), y_s)
    priv_source = priv_adapted = zero
    if P is not None:
        depth_of = lambda net, x: depth_prediction(net(x), w.max_depth, w.depth_target)  # noqa: E731
    if P is not None and update and w.p_trained_on == "both":
        depth_s, depth_f = depth_of(P, torch.cat([x_s, x_f])).split([b, b])
        priv_source, priv_adapted = l1_depth(depth_s, z_target), l1_depth(depth_f, z_target)
    elif P is not None and update:  # p_trained_on "source": L_P(G(x_s)) reaches G, not P
        priv_source = l1_depth(depth_of(P, x_s), z_target)
        priv_adapted = l1_depth(depth_of(_with_fixed_weights(P), x_f), z_target)
    elif P is not None:  # P does not move in this step
        priv_adapted = l1_depth(depth_of(P, x_f), z_target)
    if phi is not None:
        with torch.no_grad():  # φ(x_s) is a constant target
            target_features = phi(x_s)
        perc = perceptual_loss(target_features, phi(x_f))
    else:
        perc = zero
    task = task_source + task_adapted  # Eq. 3
    privileged = priv_source + priv_adapted  # Eq. 5

    total = w.adversarial * adv + w.task * task + w.privileged * privileged + w.perceptual * perc  # Eq. 1

    # What reaches G: only the terms on G(x_s) (those on x_s alone give G no gradient).
    weighted = {"adversarial": w.adversarial * adv, "task": w.task * task_adapted,
                "privileged": w.privileged * priv_adapted, "perceptual": w.perceptual * perc}
    norms = generator_gradient_norms(G, weighted) if measure_generator_gradients else {}
    moving = ["generator"] + (["task", "privileged"] if update else [])
    applied = _apply({n: optimizers[n] for n in moving if n in optimizers}, total, skip_nonfinite, scaler)
    terms = {"adversarial": adv, "task_adapted": task_adapted, "total": total, **applied}
    if phi is not None:
        terms["perceptual"] = perc
    if P is not None:
        terms["privileged_adapted"] = priv_adapted
    if update:
        terms["task_source"] = task_source
        if P is not None:
            terms["privileged_source"] = priv_source
    terms.update({f"generator_gradient/{name}": norm for name, norm in norms.items()})
    return {k: v.detach() for k, v in terms.items()}


def _with_fixed_weights(net: nn.Module):
    """`net` as a function whose weights are constants: its input still gets gradients, its
    weights none. Calls the plain module under a DDP wrapper (no reducer hooks for a pass
    that trains nothing)."""
    module = getattr(net, "module", net)
    weights = {name: p.detach() for name, p in module.named_parameters()}
    return lambda x: torch.func.functional_call(module, weights, (x,))


def generator_gradient_norms(G: nn.Module, weighted: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The L2 norm, over all of G's parameters, of the gradient each weighted term of Eq. 1
    sends into G (0 for a term that is off). Computed with autograd.grad, which leaves every
    .grad untouched, and before the step's own backward pass (the graph is kept): the
    training trajectory does not change. Costs one extra backward pass per term."""
    params = [p for p in G.parameters() if p.requires_grad]
    norms = {}
    for name, term in weighted.items():
        if not term.requires_grad:
            norms[name] = term.new_zeros((), dtype=torch.float32)
            continue
        grads = torch.autograd.grad(term, params, retain_graph=True, allow_unused=True)
        norms[name] = torch.sqrt(sum(g.float().pow(2).sum() for g in grads if g is not None))
    return norms


def supervised_step(task_net: nn.Module, optimizer: torch.optim.Optimizer, x: torch.Tensor,
                    y: torch.Tensor, skip_nonfinite: bool = False,
                    scaler: torch.amp.GradScaler | None = None) -> dict[str, torch.Tensor]:
    """T alone on labelled images: `source_only` (x_s, y_s) and `target_only` (x_t, y_t)."""
    task_net.requires_grad_(True)
    loss = cross_entropy(task_net(x), y)
    applied = _apply({"task": optimizer}, loss, skip_nonfinite, scaler)
    return {"task_source": loss.detach(), **applied}


def pretrain_step(nets: Networks, optimizers: dict[str, torch.optim.Optimizer], w: LossConfig, x_s: torch.Tensor,
                  y_s: torch.Tensor, z_s: torch.Tensor, skip_nonfinite: bool = False,
                  scaler: torch.amp.GradScaler | None = None) -> dict[str, torch.Tensor]:
    """Pretraining on the simulator (`train.method: pretrain`): T, P and φ learn from one
    source batch, each from its own loss, each with its own Adam.

    - T: the cross-entropy against y_s (Eq. 4 on x_s, as `source_only`).
    - P: the L1 of Eq. 5 on x_s alone, with the configured depth target (w.depth_target,
      w.max_depth, w.depth_far).
    - φ: trained as a segmentation backbone, its VGG19 features under a light head
      (nets.perceptual_head: a score layer on each tapped layer, models.PerceptualHead),
      with the cross-entropy against y_s. The paper's φ has ImageNet features, learned by
      classification; labels are what the simulator has, so φ learns to tell its classes
      apart in the layers the perceptual loss compares. Only φ's features are kept as φ
      (the head is stored beside them, under its own name, and no later run uses it).

    x_s (b, 3, h, w) in [-1, 1]; y_s (b, h, w) labels; z_s (b, 1, h, w) depth in metres.
    Returns the loss terms: task_source, privileged_source, perceptual_task (and _apply's).
    """
    T, P, phi, head = nets.task, nets.privileged, nets.perceptual, nets.perceptual_head
    T.requires_grad_(True)
    P.requires_grad_(True)
    getattr(phi, "module", phi).unfreeze_()  # built frozen, φ learns here (under DDP: the module inside)
    task = cross_entropy(T(x_s), y_s)
    depth = depth_prediction(P(x_s), w.max_depth, w.depth_target)
    privileged = l1_depth(depth, encode_depth(z_s, w.max_depth, w.depth_target, w.depth_far))
    perceptual_task = cross_entropy(head(phi(x_s)), y_s)
    # The three networks share no parameter, so one backward pass of the sum gives each the
    # gradient of its own loss alone: the sum weighs nothing against anything.
    total = task + privileged + perceptual_task
    applied = _apply({n: optimizers[n] for n in ("task", "privileged", "perceptual", "perceptual_head")}, total,
                     skip_nonfinite, scaler)
    terms = {"task_source": task, "privileged_source": privileged, "perceptual_task": perceptual_task}
    return {**{k: v.detach() for k, v in terms.items()}, **applied}
