"""The update steps of SPIGAN (paper §3.3, Eq. 1-6) as plain functions.

One SPIGAN iteration is a discriminator step (G, T, P fixed; D sees G(x_s).detach() and
x_r), then `generator_steps` adaptation steps with D fixed: each updates G, and the first
also updates T and P. In every adaptation step L_T and L_P on G(x_s) reach G's
parameters: the privileged information constrains the adaptation through them.

P may learn several kinds of privileged information (loss.pi: depth, the paper's; normals;
boundaries), each from the channels of its own head (loss_config.split_pi): Eq. 5 becomes
Σ_k γ_k·L_P_k, on x_s and G(x_s) as the paper's, and every L_P_k(G(x_s)) reaches G.

Besides: the supervised step (T alone: `source_only`, `target_only`) and the pretraining
step (T, P and φ on the simulator's labels and privileged information: `pretrain`).
"""

from __future__ import annotations

import torch
from torch import nn

from spigan.depth import depth_prediction, encode_depth
from spigan.errors import SpiganError
from spigan.loss_config import LossConfig, split_pi
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


def privileged_targets(z_s: dict[str, torch.Tensor], w: LossConfig) -> dict[str, torch.Tensor]:
    """What P regresses for each kind of PI in w.pi, from the batch's z_s (by kind): depth
    encoded (spigan.depth: w.max_depth, w.depth_target, w.depth_far); normals and
    boundaries as they come. A kind missing from z_s (a source that cannot give it) is an
    error naming it."""
    missing = [kind for kind in w.pi if kind not in z_s]
    if missing:
        raise SpiganError(f"loss.pi: the source's batches carry no {', '.join(missing)} (P learns "
                          f"{', '.join(w.pi)}; they carry {', '.join(z_s) or 'no privileged information'})")
    return {kind: encode_depth(z_s[kind], w.max_depth, w.depth_target, w.depth_far) if kind == "depth" else z_s[kind]
            for kind in w.pi}


def privileged_losses(raw: torch.Tensor, targets: dict[str, torch.Tensor], w: LossConfig) -> dict[str, torch.Tensor]:
    """L_P_k of each kind of PI in w.pi, from P's raw output (b, Σ_k C_k, h, w) against
    `targets` (privileged_targets): depth the L1 of Eq. 5, normals 1 - cosine, boundaries
    the class-balanced cross-entropy (spigan.losses)."""
    out = {}
    for kind, prediction in split_pi(raw, w.pi).items():
        if kind == "depth":
            out[kind] = l1_depth(depth_prediction(prediction, w.max_depth, w.depth_target), targets[kind])
        elif kind == "normals":
            out[kind] = cosine_normals(prediction, targets[kind])
        else:  # boundaries: one logit per pixel
            out[kind] = balanced_bce(prediction, targets[kind])
    return out


def term_name(kind: str, image: str) -> str:
    """The logged name of L_P_k on `image` ("source": x_s, "adapted": G(x_s)): depth keeps
    the paper's privileged_source / privileged_adapted; the others privileged_KIND_IMAGE."""
    return f"privileged_{image}" if kind == "depth" else f"privileged_{kind}_{image}"


def _weighted_sum(terms: dict[str, torch.Tensor], weights: dict[str, float], zero: torch.Tensor) -> torch.Tensor:
    """Σ_k weights[k]·terms[k] (`zero` without terms). With one term exactly weight·term:
    no addition, so a depth-only run computes what it did before the kinds of PI."""
    weighted = [weights[kind] * term for kind, term in terms.items()]
    return sum(weighted[1:], weighted[0]) if weighted else zero


def adaptation_step(nets: Networks, optimizers: dict[str, torch.optim.Optimizer], w: LossConfig,
                    x_s: torch.Tensor, y_s: torch.Tensor, z_s: dict[str, torch.Tensor],
                    update_task_and_privileged: bool, skip_nonfinite: bool = False,
                    scaler: torch.amp.GradScaler | None = None,
                    measure_generator_gradients: bool = False) -> dict[str, torch.Tensor]:
    """One step of G (and of T and P if `update_task_and_privileged`) with D fixed.

    `w` holds α, β, δ of Eq. 1 and γ_k of each kind of PI P learns (w.pi, w.pi_weights();
    the variant's effective weights, spigan.variant), the depth target of Eq. 5
    (w.depth_target, w.max_depth, w.depth_far; spigan.depth) and what P learns from
    (w.p_trained_on: both as in the paper, or source, x_s only).
    x_s (b, 3, h, w) in [-1, 1]; y_s (b, h, w) labels; z_s the privileged information by
    kind, those of w.pi at least: "depth" (b, 1, h, w) metres, "normals" (b, 3, h, w) unit
    vectors ((0, 0, 0) without geometry), "boundaries" (b, 1, h, w) in {0, 1}.
    Terms on x_s alone carry no gradient to G, so they are computed only when T and P move;
    then x_s and G(x_s) go through T (and P) as one batch, which equals two passes as
    neither network normalises over the batch.
    `measure_generator_gradients`: also returns the norm of the gradient each weighted term
    sends into G's parameters (see generator_gradient_norms), and that of each kind of PI
    (privileged_KIND); the update is unchanged.
    """
    G, D, T, P, phi = nets.generator, nets.discriminator, nets.task, nets.privileged, nets.perceptual
    update = update_task_and_privileged
    D.requires_grad_(False)  # D fixed: its input still gets gradients, its weights none
    T.requires_grad_(update)
    if P is not None:
        P.requires_grad_(update)
    zero = x_s.new_zeros(())
    targets = privileged_targets(z_s, w) if P is not None else {}
    b = len(x_s)

    x_f = G(x_s)  # adapted images, shared by every term below
    adv = adversarial_loss(D(x_f))
    if update:
        logits_s, logits_f = T(torch.cat([x_s, x_f])).split([b, b])
        task_source, task_adapted = cross_entropy(logits_s, y_s), cross_entropy(logits_f, y_s)
    else:
        task_source, task_adapted = zero, cross_entropy(T(x_f), y_s)
    priv_source, priv_adapted = {}, {}  # L_P_k on x_s and on G(x_s), by kind
    if P is not None and update and w.p_trained_on == "both":
        raw_s, raw_f = P(torch.cat([x_s, x_f])).split([b, b])
        priv_source, priv_adapted = privileged_losses(raw_s, targets, w), privileged_losses(raw_f, targets, w)
    elif P is not None and update:  # p_trained_on "source": L_P(G(x_s)) reaches G, not P
        priv_source = privileged_losses(P(x_s), targets, w)
        priv_adapted = privileged_losses(_with_fixed_weights(P)(x_f), targets, w)
    elif P is not None:  # P does not move in this step
        priv_adapted = privileged_losses(P(x_f), targets, w)
    if phi is not None:
        with torch.no_grad():  # φ(x_s) is a constant target
            target_features = phi(x_s)
        perc = perceptual_loss(target_features, phi(x_f))
    else:
        perc = zero
    task = task_source + task_adapted  # Eq. 3
    gamma = w.pi_weights()
    # Eq. 5 for each kind of PI, weighted by its γ_k: γ·L_P = Σ_k γ_k·(L_P_k(x_s) + L_P_k(G(x_s))).
    privileged = _weighted_sum({k: priv_source.get(k, zero) + f for k, f in priv_adapted.items()}, gamma, zero)

    total = w.adversarial * adv + w.task * task + privileged + w.perceptual * perc  # Eq. 1 (γ_k inside privileged)

    # What reaches G: only the terms on G(x_s) (those on x_s alone give G no gradient).
    weighted = {"adversarial": w.adversarial * adv, "task": w.task * task_adapted,
                "privileged": _weighted_sum(priv_adapted, gamma, zero), "perceptual": w.perceptual * perc}
    norms = {}
    if measure_generator_gradients:
        # And each kind's own (privileged_KIND); one kind's is the privileged term's: no extra pass.
        several = len(priv_adapted) > 1
        kinds = {f"privileged_{k}": gamma[k] * f for k, f in priv_adapted.items()} if several else {}
        norms = generator_gradient_norms(G, {**weighted, **kinds})
        if not several:
            norms.update({f"privileged_{k}": norms["privileged"] for k in priv_adapted})
    moving = ["generator"] + (["task", "privileged"] if update else [])
    applied = _apply({n: optimizers[n] for n in moving if n in optimizers}, total, skip_nonfinite, scaler)
    terms = {"adversarial": adv, "task_adapted": task_adapted, "total": total, **applied}
    if phi is not None:
        terms["perceptual"] = perc
    terms.update({term_name(k, "adapted"): v for k, v in priv_adapted.items()})
    if update:
        terms["task_source"] = task_source
        terms.update({term_name(k, "source"): v for k, v in priv_source.items()})
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


def pretraining_weights(w: LossConfig) -> dict[str, float]:
    """How P's kinds of PI weigh against each other in pretraining: as in Eq. 5 (γ_k), scaled
    to sum to 1, so that one kind alone weighs exactly 1 (its loss unweighted, as before the
    kinds of PI); equal where every γ_k is 0."""
    gamma = w.pi_weights()
    total = sum(gamma.values())
    return {k: g / total if total > 0 else 1 / len(gamma) for k, g in gamma.items()}


def pretrain_step(nets: Networks, optimizers: dict[str, torch.optim.Optimizer], w: LossConfig, x_s: torch.Tensor,
                  y_s: torch.Tensor, z_s: dict[str, torch.Tensor], skip_nonfinite: bool = False,
                  scaler: torch.amp.GradScaler | None = None) -> dict[str, torch.Tensor]:
    """Pretraining on the simulator (`train.method: pretrain`): T, P and φ learn from one
    source batch, each from its own loss, each with its own Adam.

    - T: the cross-entropy against y_s (Eq. 4 on x_s, as `source_only`).
    - P: Eq. 5 on x_s alone for each kind of PI in w.pi (the L1 of depth with the configured
      target: w.depth_target, w.max_depth, w.depth_far), weighted by pretraining_weights
      (depth alone: its L1, unweighted).
    - φ: trained as a segmentation backbone, its VGG19 features under a light head
      (nets.perceptual_head: a score layer on each tapped layer, models.PerceptualHead),
      with the cross-entropy against y_s. The paper's φ has ImageNet features, learned by
      classification; labels are what the simulator has, so φ learns to tell its classes
      apart in the layers the perceptual loss compares. Only φ's features are kept as φ
      (the head is stored beside them, under its own name, and no later run uses it).

    x_s (b, 3, h, w) in [-1, 1]; y_s (b, h, w) labels; z_s the privileged information by kind
    (adaptation_step).
    Returns the loss terms: task_source, privileged_source (depth; privileged_KIND_source for
    the others), perceptual_task (and _apply's).
    """
    T, P, phi, head = nets.task, nets.privileged, nets.perceptual, nets.perceptual_head
    T.requires_grad_(True)
    P.requires_grad_(True)
    getattr(phi, "module", phi).unfreeze_()  # built frozen, φ learns here (under DDP: the module inside)
    task = cross_entropy(T(x_s), y_s)
    priv_source = privileged_losses(P(x_s), privileged_targets(z_s, w), w)
    privileged = _weighted_sum(priv_source, pretraining_weights(w), x_s.new_zeros(()))
    perceptual_task = cross_entropy(head(phi(x_s)), y_s)
    # The three networks share no parameter, so one backward pass of the sum gives each the
    # gradient of its own loss alone: the sum weighs nothing against anything.
    total = task + privileged + perceptual_task
    applied = _apply({n: optimizers[n] for n in ("task", "privileged", "perceptual", "perceptual_head")}, total,
                     skip_nonfinite, scaler)
    terms = {"task_source": task, **{term_name(k, "source"): v for k, v in priv_source.items()},
             "perceptual_task": perceptual_task}
    return {**{k: v.detach() for k, v in terms.items()}, **applied}
