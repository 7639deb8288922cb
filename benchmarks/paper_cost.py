"""What one training iteration costs at a config's sizes, counted without running it: FLOPs
(torch.utils.flop_counter on the meta device: shapes only, no arithmetic, so the paper's
full-size networks are counted in seconds on any CPU), parameters, checkpoint sizes, and the
tensors autograd keeps for the backward pass (a lower bound on activation memory).

    python benchmarks/paper_cost.py [CONFIG] [key=value ...] [--tflops 300 ...]

It runs the training step itself (spigan.objective: one D step, then `generator_steps`
adaptation steps, the first also moving T and P), so the schedule is counted as trained,
with two stand-ins that change no FLOP count: optimisers that do not step (Adam's
elementwise update is not counted by the FLOP counter anyway) and L_P means written
without boolean indexing (the meta device cannot size a masked selection). Not counted:
the gradient diagnostic of logging iterations (4 extra backward passes through G every
train.log_every iterations, and one per kind of PI where P learns several), evaluation,
data loading.

Times for a GPU are FLOPs / (assumed sustained FLOP/s): ESTIMATES, to be replaced by
`benchmarks/throughput.py` measurements (docs/GPU.md).
"""

from __future__ import annotations

import argparse
import json
from unittest import mock

import torch
from torch.utils.flop_counter import FlopCounterMode


class _NoStep:
    """An optimiser that clears gradients and never steps (meta tensors hold no values)."""

    def __init__(self, params):
        self.param_groups = [{"params": list(params)}]

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.param_groups[0]["params"]:
            p.grad = None

    def step(self) -> None:
        pass


def _l1_depth(prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """losses.l1_depth's value without boolean indexing (same FLOP count: none)."""
    valid = (target >= 0).to(prediction.dtype)
    return ((prediction - target).abs() * valid).sum() / valid.sum().clamp(min=1)


def _cosine_normals(prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """losses.cosine_normals' value without boolean indexing."""
    from spigan.losses import NORMALS_EPS

    valid = (target != 0).any(1).to(prediction.dtype)
    cosine = (torch.nn.functional.normalize(prediction, dim=1, eps=NORMALS_EPS) * target).sum(1)
    return ((1 - cosine) * valid).sum() / valid.sum().clamp(min=1)


def count(cfg) -> dict:
    """FLOPs of one iteration (by step and by network), parameters, checkpoint bytes and the
    bytes autograd saves for backward, at the config's crop size and batch."""
    from spigan import objective
    from spigan.build import build_networks
    from spigan.loss_config import PI_CHANNELS

    with torch.device("meta"):
        nets = build_networks(cfg, torch.device("meta"))
    trainable = {name: sum(p.numel() for p in net.parameters()) for name, net in nets.trainable().items()}
    frozen = {name: sum(p.numel() for p in net.parameters()) for name, net in nets.present().items()
              if name not in trainable}
    optimizers = {name: _NoStep(net.parameters()) for name, net in nets.trainable().items()}
    weights = cfg.variant().weights
    b, (h, w) = cfg.train.batch_size, (cfg.data.crop if cfg.data.crop != (0, 0) else cfg.data.size)
    x = torch.empty(b, 3, h, w, device="meta")
    y = torch.zeros(b, h, w, dtype=torch.long, device="meta")
    z = {kind: torch.empty(b, PI_CHANNELS[kind], h, w, device="meta") for kind in weights.pi}

    saved: dict[int, int] = {}  # storage -> bytes: a tensor saved by several ops counts once

    def pack(t: torch.Tensor) -> torch.Tensor:
        storage = t.untyped_storage()
        saved[storage._cdata] = storage.nbytes()
        return t

    steps, peak_saved = {}, 0
    variant = cfg.variant()
    if not variant.adapted:  # source_only, target_only: T alone, one step
        with FlopCounterMode(display=False) as counter, torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            objective.supervised_step(nets.task, optimizers["task"], x, y)
        steps["supervised step (T)"] = counter.get_total_flops()
        peak_saved = sum(saved.values())
    with mock.patch.object(objective, "l1_depth", _l1_depth), mock.patch.object(objective, "cosine_normals",
                                                                                 _cosine_normals):
        for k in range(-1, cfg.train.generator_steps if variant.adapted else -1):
            saved.clear()
            with FlopCounterMode(display=False) as counter, torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
                if k < 0:
                    objective.discriminator_step(nets.generator, nets.discriminator, optimizers["discriminator"], x, x)
                else:
                    objective.adaptation_step(nets, optimizers, weights, x, y, z, update_task_and_privileged=k == 0)
            name = "discriminator step" if k < 0 else ("adaptation step 1 (G, T, P)" if k == 0 else
                                                       "adaptation steps 2.. (G)")
            steps[name] = counter.get_total_flops()  # steps 2.. are alike: the last one is kept
            peak_saved = max(peak_saved, sum(saved.values()))
    per_iteration = sum(steps.values()) + (cfg.train.generator_steps - 2) * steps.get("adaptation steps 2.. (G)", 0)
    weights_bytes = 4 * sum(trainable.values())
    return {
        "config": cfg.name, "crop": [h, w], "batch": b, "generator_steps": cfg.train.generator_steps,
        "flops_per_iteration": per_iteration, "flops_by_step": steps,
        "parameters": {**trainable, **{f"{k} (frozen)": v for k, v in frozen.items()}},
        # A full checkpoint: every trained network's float32 weights and Adam's two moments.
        "checkpoint_bytes": 3 * weights_bytes, "weights_bytes": weights_bytes,
        "saved_for_backward_bytes": peak_saved,
        # Weights, gradients and Adam's moments of the trained networks, φ's weights, and
        # what the largest step saves for backward (float32): a floor; the allocator, cuDNN
        # workspaces and temporaries come on top (measure with benchmarks/throughput.py).
        "memory_floor_bytes": 4 * weights_bytes + 4 * sum(frozen.values()) + peak_saved,
    }


def main() -> None:
    from spigan.config import load_config

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("config", nargs="?", default="paper")
    parser.add_argument("overrides", nargs="*", metavar="key=value")
    parser.add_argument("--tflops", type=float, nargs="*", default=[100.0, 300.0],
                        help="assumed sustained TFLOP/s for the time estimates (default: 100 300)")
    parser.add_argument("--json", help="also write the numbers here")
    args = parser.parse_args()
    # No ImageNet files are read: only shapes matter here.
    cfg = load_config(args.config, ["model.vgg16_weights=", "model.vgg19_weights=", *args.overrides])
    result = count(cfg)
    flops = result["flops_per_iteration"]
    print(f"{cfg.name}: crop {result['crop'][0]}x{result['crop'][1]}, batch {result['batch']}, "
          f"{result['generator_steps']} generator steps")
    print(f"FLOPs per iteration: {flops / 1e12:.2f} TFLOP")
    for step, f in result["flops_by_step"].items():
        print(f"  {step}: {f / 1e12:.3f} TFLOP")
    print("parameters: " + ", ".join(f"{k} {v / 1e6:.1f} M" for k, v in result["parameters"].items()))
    print(f"checkpoint (weights + Adam's two moments, float32): {result['checkpoint_bytes'] / 1e9:.2f} GB; "
          f"weights alone {result['weights_bytes'] / 1e9:.2f} GB")
    print(f"saved for backward, largest step: {result['saved_for_backward_bytes'] / 2**30:.2f} GiB (float32); "
          f"memory floor {result['memory_floor_bytes'] / 2**30:.2f} GiB")
    for tflops in args.tflops:
        seconds = flops / (tflops * 1e12)
        print(f"ESTIMATE at {tflops:g} TFLOP/s sustained: {seconds:.3f} s per iteration, "
              f"{3600 / seconds:.0f} iterations per hour")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)


if __name__ == "__main__":
    main()
