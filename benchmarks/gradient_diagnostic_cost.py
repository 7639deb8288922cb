"""Cost of `train.log_generator_gradients`: the first adaptation step of an iteration with and
without the per-term gradient norms into G, at a config's sizes (random inputs).

    python benchmarks/gradient_diagnostic_cost.py [CONFIG] [--threads 2] [--repeats 8]

The measure runs on logging iterations only (every `train.log_every`), so its share of a
run's time is about extra / (log_every x seconds per iteration).
"""

from __future__ import annotations

import argparse
import statistics
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("config", nargs="?", default="demo")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=8)
    args = parser.parse_args()

    import torch

    from spigan.build import build_networks, build_optimizers, class_names
    from spigan.config import load_config
    from spigan.objective import adaptation_step

    torch.manual_seed(0)
    torch.set_num_threads(args.threads)
    cfg = load_config(args.config, ["train.method=spigan", "model.vgg16_weights=", "model.vgg19_weights="])
    nets = build_networks(cfg, torch.device("cpu"))
    optimizers = build_optimizers(nets, cfg)
    weights = cfg.variant().weights  # spigan: all four terms on
    b, (h, w) = cfg.train.batch_size, cfg.data.crop
    x_s = torch.rand(b, 3, h, w) * 2 - 1
    y_s = torch.randint(0, len(class_names(cfg)), (b, h, w))  # the config's ontology, not always 16
    z_s = {"depth": torch.rand(b, 1, h, w) * 100 + 1}
    times = {False: [], True: []}
    for _ in range(args.repeats):
        for measure in (False, True):  # alternating, so that machine load hits both alike
            start = time.perf_counter()
            adaptation_step(nets, optimizers, weights, x_s, y_s, z_s, True, measure_generator_gradients=measure)
            times[measure].append(time.perf_counter() - start)
    off, on = (statistics.median(times[m][2:]) for m in (False, True))  # the first two warm up
    print(f"{cfg.name}: first adaptation step {1000 * off:.0f} ms without the measure, {1000 * on:.0f} ms with it "
          f"(+{1000 * (on - off):.0f} ms per logging iteration; log_every {cfg.train.log_every})")


if __name__ == "__main__":
    main()
