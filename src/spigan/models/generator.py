"""G: the CycleGAN / Johnson et al. ResNet generator (c7s1-64, d128, d256, 9 residual
blocks, u128, u64, c7s1-3; instance norm, reflection padding, tanh)."""

from __future__ import annotations

import torch
from torch import nn


class ResidualBlock(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.body = nn.Sequential(
            nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3), nn.InstanceNorm2d(channels), nn.ReLU(True),
            nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3), nn.InstanceNorm2d(channels),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class ResnetGenerator(nn.Module):
    """Maps an image in [-1, 1] to an adapted image in [-1, 1] of the same size.

    Args:
        width: channels of the first layer (64 in the paper); the others are 2x and 4x it.
        blocks: residual blocks at 1/4 resolution (9 in the paper).
        skip: our option, not the paper's: G(x) = clamp(x + r(x), -1, 1), where r is the same
            network (tanh output in [-1, 1]) with its last convolution zero-initialised, so G
            starts as the identity and learns only the change of appearance. It makes G
            label-preserving from the first step, which matters when training is short.
        upsampling: "transposed", the paper's u128 and u64 (3x3 fractionally-strided
            convolutions, stride 1/2); or "resize", ours: nearest-neighbour x2, then a 3x3
            convolution (reflection padding), with the same parameters. A transposed
            convolution of stride 2 and kernel 3 overlaps its outputs unevenly, which paints
            checkerboards (Odena, Dumoulin, Olah, "Deconvolution and Checkerboard Artifacts",
            Distill 2016); resizing first spreads every input evenly.
    Convolutions carry biases because instance norm has no affine parameters (CycleGAN's
    choice); at the paper's settings this gives exactly 11,378,179 parameters (either way).
    """

    def __init__(self, width: int = 64, blocks: int = 9, channels: int = 3, skip: bool = False,
                 upsampling: str = "transposed"):
        super().__init__()
        self.skip = skip
        w = width
        layers = [nn.ReflectionPad2d(3), nn.Conv2d(channels, w, 7), nn.InstanceNorm2d(w), nn.ReLU(True)]  # c7s1-64
        for c_in, c_out in ((w, 2 * w), (2 * w, 4 * w)):  # d128, d256
            layers += [nn.Conv2d(c_in, c_out, 3, stride=2, padding=1), nn.InstanceNorm2d(c_out), nn.ReLU(True)]
        layers += [ResidualBlock(4 * w) for _ in range(blocks)]
        for c_in, c_out in ((4 * w, 2 * w), (2 * w, w)):  # u128, u64
            if upsampling == "transposed":
                layers.append(nn.ConvTranspose2d(c_in, c_out, 3, stride=2, padding=1, output_padding=1))
            elif upsampling == "resize":
                layers += [nn.Upsample(scale_factor=2, mode="nearest"), nn.ReflectionPad2d(1), nn.Conv2d(c_in, c_out, 3)]
            else:
                raise ValueError(f"unknown upsampling {upsampling!r}: expected transposed or resize")
            layers += [nn.InstanceNorm2d(c_out), nn.ReLU(True)]
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(w, channels, 7), nn.Tanh()]  # c7s1-3
        self.model = nn.Sequential(*layers)
        for m in self.modules():  # CycleGAN's "normal" init
            if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
                nn.init.normal_(m.weight, 0.0, 0.02)
                nn.init.zeros_(m.bias)
        if skip:
            nn.init.zeros_(self.model[-2].weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.model(x)  # (b, 3, h, w) -> (b, 3, h, w); h, w multiples of 4
        return (x + out).clamp(-1, 1) if self.skip else out
