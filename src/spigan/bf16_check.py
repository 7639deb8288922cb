"""Does bfloat16 compute this run's networks correctly on this machine? Checked before a run
trains in bf16, and the verdict cached per machine.

Why: on an AMD EPYC of the Zen 4 generation (AVX512-BF16, PyTorch 2.13), oneDNN's native
bf16 kernels gave T non-finite gradients from a finite loss within a few steps, at the demo's
widths, where float32 and emulated bf16 stayed finite (issue 21, docs/PERFORMANCE.md). Such
a fault depends on the CPU, the library versions and the layer shapes, so no table of
"good CPUs" can stand in for a check on the run's own shapes.

The check: every network of the run, built as the config builds it (same widths, memory
format and device) but on random weights of its own, takes random inputs of the shapes the
training gives it; one forward and backward in float32, the same in bf16 autocast. bf16
passes when its outputs and gradients (of the weights and of the input) are finite, and
each network's gradient, all weights and the input together, is within TOLERANCE of
float32's (relative L2 error). Seconds on a
CPU at the CPU configs' widths; the verdict is kept in CACHE_FILE under the frame cache,
keyed by everything that selects kernels (CPU, library versions, kernel-set variables,
device, shapes).
"""

from __future__ import annotations

import json
import os
import platform
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import torch
from torch import nn

from spigan import distributed
from spigan.atomic import write_text_atomically
from spigan.build import build_network
from spigan.config import Config
from spigan.errors import SpiganError
from spigan.hardware import Precision, cpu_info
from spigan.sim.dataset import frame_cache_dir

CACHE_FILE = "bf16_checks.json"
# bf16 keeps 8 bits of mantissa (relative rounding 0.4% per operation); through these
# networks, on random weights, float32 and bf16 gradients differ by 1-19% (largest for the
# 16-layer φ; docs/PERFORMANCE.md). Wrong kernels give non-finite or unrelated gradients, an
# error of order 100%. A wrong but finite gradient confined to one small layer can stay
# under this bound: the check is for broken kernels, not for bf16's own rounding.
TOLERANCE = 0.5
KERNEL_VARIABLES = ("ATEN_CPU_CAPABILITY", "ONEDNN_MAX_CPU_ISA", "ONEDNN_DEFAULT_FPMATH_MODE",
                    "DNNL_MAX_CPU_ISA", "MKL_ENABLE_INSTRUCTIONS")


@dataclass(frozen=True)
class Verdict:
    ok: bool
    detail: str  # what failed, or the largest error seen


def network_shapes(cfg: Config) -> list[tuple[str, tuple[int, ...]]]:
    """(network, input shape) for every call a training iteration makes: an adapted run
    passes x_s and G(x_s) through T and P as one batch of 2b in its first generator step
    and G(x_s) alone (b) in the others; D sees x_r and G(x_s) (2b); φ sees b."""
    variant = cfg.variant()
    h, w = cfg.data.crop if cfg.data.crop != (0, 0) else cfg.data.size
    b = cfg.train.batch_size
    if variant.pretraining:  # T, P and φ, each on the source batch
        return [("task", (b, 3, h, w)), ("privileged", (b, 3, h, w)), ("perceptual", (b, 3, h, w))]
    if not variant.adapted:
        return [("task", (b, 3, h, w))]
    shapes = [("generator", (b, 3, h, w)), ("discriminator", (2 * b, 3, h, w)), ("task", (2 * b, 3, h, w)),
              ("task", (b, 3, h, w))]
    if variant.privileged:
        shapes += [("privileged", (2 * b, 3, h, w)), ("privileged", (b, 3, h, w))]
    if variant.perceptual:
        shapes.append(("perceptual", (b, 3, h, w)))
    return shapes


def _gradients(net: nn.Module, x: torch.Tensor, weights: torch.Tensor | None, bf16: bool):
    """(outputs, gradients of the input and of every weight) of sum(out * weights)."""
    x = x.detach().clone().requires_grad_(True)
    net.zero_grad(set_to_none=True)
    with torch.autocast(x.device.type, dtype=torch.bfloat16, enabled=bf16):
        out = net(x)
    outs = out if isinstance(out, (list, tuple)) else [out]
    if weights is None:
        weights = [torch.randn(o.shape, device=o.device) for o in outs]
    loss = sum((o.float() * r).sum() / r.numel() for o, r in zip(outs, weights))
    loss.backward()
    grads = [x.grad] + [p.grad for p in net.parameters() if p.grad is not None]
    return [o.detach().float() for o in outs], [g.detach().float() for g in grads], weights


def compare(net: nn.Module, shape: tuple[int, ...], device: torch.device, channels_last: bool = False) -> float:
    """The relative L2 error of bf16's gradients against float32's for one network and
    input shape; inf where bf16 gives a non-finite output or gradient."""
    x = torch.rand(shape, device=device) * 2 - 1
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    outs32, grads32, weights = _gradients(net, x, None, bf16=False)
    outs16, grads16, _ = _gradients(net, x, weights, bf16=True)
    if not all(torch.isfinite(t).all() for t in outs16 + grads16):
        return float("inf")
    reference = torch.sqrt(sum(g.square().sum() for g in grads32))
    error = torch.sqrt(sum((a - b).square().sum() for a, b in zip(grads16, grads32)))
    return float(error / reference) if reference > 0 else float(error)


def run_check(cfg: Config, device: torch.device) -> Verdict:
    """Checks every (network, shape) of the run; the RNG streams are left as they were."""
    devices = [device] if device.type == "cuda" else []
    worst = ("", (), 0.0)
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(0)
        built: dict[str, nn.Module] = {}
        for name, shape in network_shapes(cfg):
            if name not in built:
                net = build_network(cfg, name, imagenet=False).to(device)
                net.requires_grad_(True)
                built[name] = net.to(memory_format=torch.channels_last) if cfg.train.channels_last else net
            error = compare(built[name], shape, device, cfg.train.channels_last)
            if not error <= TOLERANCE:
                what = "non-finite outputs or gradients" if error == float("inf") else \
                    f"gradients {error:.0%} away from float32's"
                return Verdict(False, f"{name} at input {tuple(shape)}: {what}")
            if error >= worst[2]:
                worst = (name, shape, error)
    return Verdict(True, f"largest gradient error {worst[2]:.1%} ({worst[0]} at input {tuple(worst[1])})")


def cache_key(cfg: Config, device: torch.device) -> str:
    """Everything that chooses the kernels a run's bf16 steps execute."""
    if device.type == "cuda":
        where = {"gpu": torch.cuda.get_device_name(device), "cuda": torch.version.cuda}
    else:
        cpu = cpu_info()
        where = {"cpu": cpu.model, "capability": cpu.capability, "avx512_bf16": cpu.avx512_bf16, "amx": cpu.amx,
                 "mkldnn": torch.backends.mkldnn.is_available()}
    key = {"torch": torch.__version__, "python": platform.python_version(), **where,
           "variables": {v: os.environ.get(v, "") for v in KERNEL_VARIABLES},
           "model": asdict(cfg.model), "shapes": network_shapes(cfg), "channels_last": cfg.train.channels_last}
    return json.dumps(key, sort_keys=True, default=str)


def check_bf16(cfg: Config, device: torch.device, cache_dir: Path) -> Verdict:
    """The cached verdict for this run's shapes on this machine, or a new check's."""
    path = cache_dir / CACHE_FILE
    key = cache_key(cfg, device)
    try:
        cache = json.loads(path.read_text())
    except (OSError, ValueError):
        cache = {}
    if isinstance(cache, dict) and isinstance(cache.get(key), dict):
        return Verdict(bool(cache[key].get("ok")), str(cache[key].get("detail", "")))
    verdict = run_check(cfg, device)
    cache = cache if isinstance(cache, dict) else {}
    cache[key] = asdict(verdict)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomically(path, json.dumps(cache, indent=1))
    except OSError:
        pass  # an unwritable cache costs a check next time, nothing else
    return verdict


def checked_precision(precision: Precision, cfg: Config, device: torch.device,
                      ctx: distributed.Context = distributed.Context()) -> Precision:
    """`precision` if it is not bf16 or bf16 passes its check on every process. Where it
    fails, `auto` falls back to fp32 and says why; an explicit bf16 is a one-line error."""
    if precision.used != "bf16":
        return precision
    verdict = check_bf16(cfg, device, frame_cache_dir(cfg.data.cache_dir))  # beside the frames
    if not distributed.any_across(not verdict.ok, ctx, device):
        return replace(precision, reason=f"{precision.reason}; checked against fp32 on this run's shapes, "
                                         f"{verdict.detail}")
    detail = verdict.detail if not verdict.ok else "it failed in another process"
    if precision.requested == "auto":
        return Precision("auto", "fp32", f"bf16 fails its check on this machine ({detail})")
    raise SpiganError(f"train.precision=bf16: bfloat16 does not compute this run's networks correctly on this machine "
                      f"({detail}); train in fp32 (train.precision=fp32 or auto)")
