"""D: the 70x70 PatchGAN of pix2pix/CycleGAN with 3 strided layers and instance norm."""

from __future__ import annotations

import torch
from torch import nn


class PatchDiscriminator(nn.Module):
    """Scores overlapping 70x70 patches: (b, 3, h, w) -> (b, 1, h/8 - 2, w/8 - 2) raw scores
    (least-squares GAN: no sigmoid). At width 64, 3 layers: exactly 2,764,737 parameters."""

    def __init__(self, width: int = 64, layers: int = 3, channels: int = 3):
        super().__init__()
        seq: list[nn.Module] = [nn.Conv2d(channels, width, 4, stride=2, padding=1), nn.LeakyReLU(0.2, True)]
        mult = 1
        for n in range(1, layers + 1):
            prev, mult = mult, min(2**n, 8)
            stride = 2 if n < layers else 1  # the last of them keeps the resolution
            seq += [nn.Conv2d(width * prev, width * mult, 4, stride=stride, padding=1),
                    nn.InstanceNorm2d(width * mult), nn.LeakyReLU(0.2, True)]
        seq += [nn.Conv2d(width * mult, 1, 4, stride=1, padding=1)]
        self.model = nn.Sequential(*seq)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.normal_(m.weight, 0.0, 0.02)
                nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)
