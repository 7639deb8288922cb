"""torchrun / DistributedDataParallel support: process group from torchrun's environment,
gloo on CPU and NCCL on GPU, and the few collective helpers the training loop needs."""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

from spigan.errors import SpiganError
from spigan.networks import Networks


@dataclass(frozen=True)
class Context:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1


def setup(device_type: str) -> Context:
    """Joins the process group torchrun describes (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR,
    MASTER_PORT); a plain `spigan train` is a world of one and starts nothing."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Context()
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device_type == "cuda" else "gloo")
    ctx = Context(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", "0")))
    if device_type == "cuda":
        torch.cuda.set_device(ctx.local_rank)
    return ctx


def mean_across(values: dict[str, float], ctx: Context, device: torch.device) -> dict[str, float]:
    """Averages logged values over processes, so every rank logs and decides alike."""
    if not ctx.enabled or not values:
        return values
    keys = sorted(values)
    t = torch.tensor([values[k] for k in keys], dtype=torch.float64, device=device)
    dist.all_reduce(t)
    return dict(zip(keys, (t / ctx.world_size).tolist()))


def rank_device(device: torch.device, ctx: Context) -> torch.device:
    """The device this process trains on: its own GPU (LOCAL_RANK) under torchrun."""
    return torch.device("cuda", ctx.local_rank) if ctx.enabled and device.type == "cuda" else device


def any_across(flag: bool, ctx: Context, device: torch.device) -> bool:
    """True on every rank if it is true on any (e.g. a stop signal received by one)."""
    if not ctx.enabled:
        return flag
    t = torch.tensor([1.0 if flag else 0.0], device=device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item() > 0)


def check_identical(modules: dict, ctx: Context, device: torch.device) -> None:
    """Raises if the ranks' parameters differ (they must, after DDP's synchronised updates)."""
    if not ctx.enabled:
        return
    sums = torch.stack([torch.stack([p.detach().double().sum() for p in m.parameters()]).sum()
                        for m in modules.values()]).to(device)
    gathered = [torch.zeros_like(sums) for _ in range(ctx.world_size)]
    dist.all_gather(gathered, sums)
    if any(not torch.equal(gathered[0], g) for g in gathered[1:]):
        raise SpiganError(f"rank {ctx.rank}: parameters differ across processes after training")


def barrier(ctx: Context) -> None:
    if ctx.enabled:
        dist.barrier()


def teardown(ctx: Context) -> None:
    if ctx.enabled and dist.is_initialized():
        dist.destroy_process_group()


def step_networks(nets: Networks, ctx: Context, device: torch.device) -> dict[str, Networks]:
    """Per kind of step, which module to call for each network: DDP wrappers for those the
    step trains (one forward, one backward each), plain modules for the frozen ones."""
    if not ctx.enabled:
        return {"supervised": nets, "pretrain": nets, "discriminator": nets, "all": nets, "generator": nets}
    from torch.nn.parallel import DistributedDataParallel as DDP

    ids = [device.index] if device.type == "cuda" else None
    wrapped = {name: DDP(net, device_ids=ids) for name, net in nets.trainable().items()}
    w = lambda name: wrapped.get(name)  # noqa: E731
    return {
        "supervised": Networks(task=w("task")),
        "pretrain": Networks(task=w("task"), privileged=w("privileged"), perceptual=w("perceptual"),
                             perceptual_head=w("perceptual_head")),
        "discriminator": Networks(task=nets.task, generator=nets.generator, discriminator=w("discriminator")),
        "all": Networks(task=w("task"), generator=w("generator"), discriminator=nets.discriminator,
                        privileged=w("privileged"), perceptual=nets.perceptual),
        "generator": Networks(task=nets.task, generator=w("generator"), discriminator=nets.discriminator,
                              privileged=nets.privileged, perceptual=nets.perceptual),
    }
