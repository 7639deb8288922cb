"""Where a training iteration's CPU time goes, and what running two trainings side by side
costs each of them.

    python benchmarks/iteration_profile.py [CONFIG] [key=value ...] [--repeats 8]

CONFIG (default sim2camvid) is read with train.method=spigan (the slowest run of the
ablation) and data.target=sim (no dataset is read: the target only has to pass
validation) before the changes given. Inputs are random tensors of the config's crop size
and batch (the paper's depth as the privileged information), so this times the networks,
not data loading or rendering. `train.init_from=RUN` gives the networks a run's trained
weights (a warm start's); they are as built otherwise.
It reports:
  networks   each network's forward (no graph) and forward + backward, one thread, median
  iteration  one D step + `generator_steps` adaptation steps (spigan.objective, as training
             runs them), median seconds per iteration: alone with 1 thread, alone with 2,
             and two 1-thread processes started together (what `spigan ablate --jobs 2`
             does on a 2-core CPU)
Each iteration setting runs in its own process.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

DEFAULTS = ["train.method=spigan", "data.target=sim"]  # before the changes given


def median_ms(f, repeats: int) -> float:
    f()  # warm-up: oneDNN picks its kernels on the first call
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


def setup(config: str, overrides: list[str]):
    import torch

    from spigan.build import build_networks, build_optimizers, class_names
    from spigan.checkpoint import init_weights_from
    from spigan.config import load_config

    cfg = load_config(config, overrides)
    torch.manual_seed(0)
    nets = build_networks(cfg, torch.device("cpu"))
    if cfg.train.init_from:  # trained weights, as a warm-started run has them
        init_weights_from(nets, cfg.train.init_from, class_names(cfg), cfg.train.init_networks, cfg.loss.pi)
    return cfg, nets, build_optimizers(nets, cfg), len(class_names(cfg))


def random_batch(cfg, n_classes: int, generator):
    import torch

    (h, w), b = cfg.data.crop, cfg.train.batch_size
    memory = torch.channels_last if cfg.train.channels_last else torch.contiguous_format
    image = (torch.rand(b, 3, h, w, generator=generator) * 2 - 1).contiguous(memory_format=memory)
    return {"image": image, "labels": torch.randint(0, n_classes, (b, h, w), generator=generator),
            "depth": torch.rand(b, 1, h, w, generator=generator) * 80 + 1}


def networks(config: str, overrides: list[str], repeats: int) -> dict:
    import torch

    torch.set_num_threads(1)
    cfg, nets, _, n_classes = setup(config, overrides)
    x = random_batch(cfg, n_classes, torch.Generator().manual_seed(1))["image"].requires_grad_(True)
    times = {}
    for name, net in nets.present().items():
        if name == "perceptual_head":
            continue

        def forward():
            with torch.no_grad():
                net(x)

        def forward_backward():
            out = net(x)
            sum(o.float().sum() for o in (out if isinstance(out, (list, tuple)) else [out])).backward()

        times[name] = {"forward_ms": median_ms(forward, repeats), "forward_backward_ms": median_ms(forward_backward, repeats)}
    return times


def iteration(config: str, overrides: list[str], repeats: int, threads: int) -> float:
    """Median seconds of one iteration (D step, then the adaptation steps) in this process."""
    import torch

    from spigan.objective import adaptation_step, discriminator_step

    torch.set_num_threads(threads)
    cfg, nets, optimizers, n_classes = setup(config, overrides)
    generator = torch.Generator().manual_seed(1)
    batches = [random_batch(cfg, n_classes, generator) for _ in range(cfg.train.generator_steps)]
    x_r = random_batch(cfg, n_classes, generator)["image"]
    weights = cfg.variant().weights
    if set(weights.pi) - {"depth"}:
        raise SystemExit(f"loss.pi={list(weights.pi)}: this benchmark makes random depth only")

    def run():
        discriminator_step(nets.generator, nets.discriminator, optimizers["discriminator"], batches[0]["image"], x_r)
        for k, batch in enumerate(batches):
            adaptation_step(nets, optimizers, weights, batch["image"], batch["labels"],
                            {key: batch[key] for key in weights.pi}, update_task_and_privileged=k == 0)

    return median_ms(run, repeats) / 1000


def in_processes(args, threads: int, processes: int) -> list[float]:
    """Seconds per iteration of each of `processes` processes started together."""
    cmd = [sys.executable, __file__, args.config, *args.overrides, "--repeats", str(args.repeats),
           "--worker-threads", str(threads)]
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    workers = [subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, text=True) for _ in range(processes)]
    outputs = [w.communicate()[0] for w in workers]
    if any(w.returncode for w in workers):
        raise SystemExit(f"an iteration process with {threads} thread(s) failed (its error is above)")
    return [json.loads(out.strip().splitlines()[-1])["seconds_per_iteration"] for out in outputs]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("config", nargs="?", default="sim2camvid")
    parser.add_argument("overrides", nargs="*")
    parser.add_argument("--repeats", type=int, default=8)
    parser.add_argument("--worker-threads", type=int, help=argparse.SUPPRESS)  # one iteration setting
    args = parser.parse_args()
    overrides = [*DEFAULTS, *args.overrides]
    if args.worker_threads:
        print(json.dumps({"seconds_per_iteration": iteration(args.config, overrides, args.repeats, args.worker_threads)}))
        return
    import torch

    from spigan.hardware import cpu_info

    print(f"CPU: {cpu_info()}; {platform.processor() or platform.machine()}; torch {torch.__version__}, "
          f"kernels {torch.backends.cpu.get_cpu_capability()}")
    print(f"{args.config} {' '.join(overrides)}")
    print("\nnetwork | forward (ms) | forward + backward (ms)\n---|---|---")
    for name, t in networks(args.config, overrides, args.repeats).items():
        print(f"{name} | {t['forward_ms']:.1f} | {t['forward_backward_ms']:.1f}")
    alone_1 = in_processes(args, 1, 1)[0]
    alone_2 = in_processes(args, 2, 1)[0]
    paired = in_processes(args, 1, 2)
    print("\nsetting | s/iteration | iterations/s in all\n---|---|---")
    print(f"alone, 1 thread | {alone_1:.3f} | {1 / alone_1:.2f}")
    print(f"alone, 2 threads | {alone_2:.3f} | {1 / alone_2:.2f}")
    print(f"two 1-thread processes side by side | {' and '.join(f'{s:.3f}' for s in paired)} | "
          f"{sum(1 / s for s in paired):.2f}")


if __name__ == "__main__":
    main()
