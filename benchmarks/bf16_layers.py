"""Which layer, and which oneDNN primitive, goes wrong under bf16 on this CPU (issue 21).

One step of a network of a config (T of the demo by default: the network whose fc6 weight
gradient was non-finite on a Zen 4 CPU), in float32 and in bf16 autocast on the same input,
compared layer by layer: each leaf module's output and the gradients of its weights and
input. The first layer where bf16 is non-finite (or further from float32 than --tolerance)
is then run alone at its recorded input shape, with oneDNN's verbose mode on, which names
the primitive and its implementation (e.g. `brgconv_bwd_w:avx512_core_bf16`), and a
standalone reproduction of a few lines is printed.

    .venv/bin/python benchmarks/bf16_layers.py                       # demo's T, NCHW
    .venv/bin/python benchmarks/bf16_layers.py --channels-last --steps 10
    .venv/bin/python benchmarks/bf16_layers.py --network privileged --config sim2camvid data.target_root=/x
    ONEDNN_MAX_CPU_ISA=AVX512_CORE .venv/bin/python benchmarks/bf16_layers.py   # bf16 emulated

Seen on an AMD EPYC Zen 4 (reported, not run here: our CPUs have AVX2 only): T's fc6.weight
gradient non-finite at step 1 (NCHW), step 3 or 6 (channels_last); finite in fp32 and with
oneDNN capped below its bf16 instructions. On a CPU without native bf16 this script reports
every layer finite (autocast emulates bf16 there), as it did on our AVX2 EPYC.
"""

from __future__ import annotations

import argparse
import sys

import torch
from torch import nn

from spigan.build import build_network
from spigan.config import load_config
from spigan.hardware import cpu_info


def record(net: nn.Module, x: torch.Tensor, y: torch.Tensor, bf16: bool, seed: int) -> dict:
    """{layer: {"input_shape", "output", "grad_input", "grad_<param>"}} for one step
    (`seed`: the same dropout masks in both precisions)."""
    seen: dict[str, dict] = {}
    hooks = []
    for name, module in net.named_modules():
        if list(module.children()) or not name:
            continue

        def forward_hook(mod, inputs, output, name=name):
            seen[name] = {"input_shape": tuple(inputs[0].shape), "output": output.detach().float().clone(),
                          "module": mod}

        def backward_hook(mod, grad_input, grad_output, name=name):
            if grad_input and grad_input[0] is not None:
                seen[name]["grad_input"] = grad_input[0].detach().float().clone()

        hooks += [module.register_forward_hook(forward_hook), module.register_full_backward_hook(backward_hook)]
    net.zero_grad(set_to_none=True)
    x = x.detach().clone().requires_grad_(True)
    torch.manual_seed(seed)
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        out = net(x)
    loss = nn.functional.cross_entropy(out.float(), y) if out.shape[1] > 1 else out.float().abs().mean()
    loss.backward()
    for h in hooks:
        h.remove()
    for name, info in seen.items():
        for pname, p in info["module"].named_parameters(recurse=False):
            if p.grad is not None:
                info[f"grad_{pname}"] = p.grad.detach().float().clone()
    return seen


def relative(a: torch.Tensor, b: torch.Tensor) -> float:
    if not torch.isfinite(a).all():
        return float("inf")
    scale = b.norm()
    return float((a - b).norm() / scale) if scale > 0 else float((a - b).norm())


def isolate(name: str, module: nn.Module, shape: tuple, channels_last: bool) -> None:
    """Runs one layer alone in bf16 with oneDNN verbose on; prints what it ran and a repro."""
    x = (torch.rand(shape) * 2 - 1)
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    x.requires_grad_(True)
    module.zero_grad(set_to_none=True)
    print(f"\n--- {name} alone at input {shape}, bf16, oneDNN verbose on (stdout):", flush=True)
    with torch.backends.mkldnn.verbose(torch.backends.mkldnn.VERBOSE_ON):
        with torch.autocast("cpu", dtype=torch.bfloat16):
            y = module(x)
        y.float().sum().backward()
    grads = {n: p.grad for n, p in module.named_parameters() if p.grad is not None}
    bad = [n for n, g in grads.items() if not torch.isfinite(g).all()]
    print(f"--- alone: gradients {'non-finite: ' + ', '.join(bad) if bad else 'finite'}")
    fmt = "torch.channels_last" if channels_last else "torch.contiguous_format"
    print(f"""
# A standalone reproduction (layer {name}):
import torch
layer = torch.nn.{module!r}.to(memory_format={fmt})
x = (torch.rand{shape} * 2 - 1).contiguous(memory_format={fmt}).requires_grad_(True)
with torch.autocast("cpu", dtype=torch.bfloat16):
    y = layer(x)
y.float().sum().backward()
print({{n: bool(torch.isfinite(p.grad).all()) for n, p in layer.named_parameters()}})
""")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--config", default="demo")
    ap.add_argument("--network", default="task", choices=["task", "privileged", "generator", "discriminator",
                                                          "perceptual"])
    ap.add_argument("--channels-last", action="store_true")
    ap.add_argument("--steps", type=int, default=5, help="steps of Adam between comparisons (the fault came "
                                                         "at step 1-6)")
    ap.add_argument("--tolerance", type=float, default=0.5, help="relative L2 error counted as wrong")
    ap.add_argument("overrides", nargs="*", help="key=value config overrides")
    args = ap.parse_args()
    cpu = cpu_info()
    print(f"CPU: {cpu.describe()}; torch {torch.__version__}; oneDNN {torch.backends.mkldnn.is_available()}")
    cfg = load_config(args.config, args.overrides)
    torch.manual_seed(0)
    net = build_network(cfg, args.network, imagenet=False)
    fmt = torch.channels_last if args.channels_last else torch.contiguous_format
    net = net.to(memory_format=fmt)
    net.requires_grad_(True)
    for module in net.modules():  # same mathematics; in-place ReLUs would forbid the backward hooks
        if isinstance(module, (nn.ReLU, nn.LeakyReLU)):
            module.inplace = False
    opt = torch.optim.Adam([p for p in net.parameters() if p.requires_grad], 2e-4, betas=(0.5, 0.999))
    h, w = cfg.data.crop if cfg.data.crop != (0, 0) else cfg.data.size
    b = cfg.train.batch_size
    classes = 16 if args.network == "task" else 1
    for step in range(args.steps):
        x = (torch.rand(b, 3, h, w) * 2 - 1).contiguous(memory_format=fmt)
        y = torch.randint(0, classes, (b, h, w))
        fp32, bf16 = record(net, x, y, False, 1000 + step), record(net, x, y, True, 1000 + step)
        worst = ("", "", 0.0)
        for name, ref in fp32.items():
            for key, value in ref.items():
                if key in ("input_shape", "module") or key not in bf16[name]:
                    continue
                error = relative(bf16[name][key], value)
                if error > args.tolerance:
                    print(f"step {step}: first wrong layer {name} ({type(ref['module']).__name__}): {key} "
                          f"{'non-finite' if error == float('inf') else f'{error:.0%} from float32'}; "
                          f"its input {ref['input_shape']}")
                    isolate(name, ref["module"], ref["input_shape"], args.channels_last)
                    return 1
                if error > worst[2]:
                    worst = (name, key, error)
        print(f"step {step}: every layer finite in bf16; largest error {worst[2]:.1%} ({worst[0]} {worst[1]})",
              flush=True)
        opt.step()  # with bf16's gradients (left by the second pass), as bf16 training steps
    return 0


if __name__ == "__main__":
    sys.exit(main())
