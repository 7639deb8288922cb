"""T and P: FCN-8s on VGG16 (Long, Shelhamer, Darrell 2015), as in the reference Caffe
model and its PyTorch port: conv1_1 padded by 100, fc6/fc7 as convolutions, three score
layers, learnable bilinear-initialised upsampling without bias, and the crops that align them.

T outputs one score per class; P one channel per channel of its kinds of privileged
information (1 for depth alone, the paper's; loss_config.PI_CHANNELS).

P with several kinds is one FCN-8s, its output channels split per kind, not one FCN-8s per
kind (the paper: its method "trivially extends to multiple separate types of PI", §3.2).
The score layers are 1x1 convolutions, and P's upsampling is per channel
(`channelwise_upsampling`: T's mixes channels, as FCN-8s' learnt deconvolutions do), so
each output channel is a linear head of its own on the shared VGG16 trunk: a kind's loss
trains the trunk and its own head, never another kind's. For one channel the layers are
the same as without the option (same names, shapes and initial values), so a depth-only P
is the paper's network and this code's before the option. The cost of a kind is its head:
P with depth, normals and boundaries (5 channels) has 134,286,319 parameters at the
paper's sizes against 134,265,699 for depth alone (+20,620, +0.015%), and 2,596,159
against 2,593,203 at configs/cpu.yaml's (fcn_width 16, fc_dim 256; +2,956, +0.11%). One
P per kind would have 402,807,407 and 7,781,087 (3.0 times), with an Adam state each, and
would pass x_s and G(x_s) through three VGG16s where this passes them through one.

`input_padding=1` is a compact variant for small inputs (an option of ours, not the
paper's): without the 100-pixel padding, fc6 is padded instead, and the upsampling layers
are padded to double / octuple exactly, so no crops are needed. Same parameters, same
layers; at 64x128 it is about 17x cheaper, as the padding no longer dwarfs the image.
"""

from __future__ import annotations

import torch
from torch import nn

from spigan.models.vgg import (
    VGG16,
    ImageNetInput,
    copy_features_,
    init_vgg_,
    read_state_dict,
    vgg_features,
    weight_file,
)


def bilinear_kernel(channels: int, size: int, groups: int = 1) -> torch.Tensor:
    """(channels, channels / groups, size, size) weights of a per-channel bilinear
    upsampling (a transposed convolution of `groups` groups)."""
    factor = (size + 1) // 2
    center = factor - 1 if size % 2 == 1 else factor - 0.5
    r = torch.arange(size, dtype=torch.float64)
    filt = (1 - (r - center).abs() / factor)
    kernel = torch.zeros(channels, channels // groups, size, size, dtype=torch.float64)
    kernel[range(channels), [k % (channels // groups) for k in range(channels)]] = filt[:, None] * filt[None, :]
    return kernel.float()


class FCN8s(nn.Module):
    """(b, 3, h, w) image in [-1, 1] -> (b, out_channels, h, w) scores.

    Args:
        out_channels: number of classes for T; P's channels (1 for depth alone).
        width: VGG base width (64 in the paper); conv widths are width x (1, 2, 4, 8, 8).
        fc_dim: channels of fc6 and fc7 (4096 in the paper).
        weights: "" (documented initialisation), "torchvision", or a path to the published
            VGG16 state dict; its conv layers and fc6/fc7 (reshaped to convolutions) are used.
        channelwise_upsampling: each output channel upsampled from its own scores alone
            (P: one independent head per channel); False: FCN-8s' deconvolutions, which mix
            channels (T). The same layers for one channel.
    At the paper's settings: 134,412,144 parameters with 16 classes, 134,265,699 with 1.
    """

    POOL3, POOL4 = 17, 24  # `features` indices just after pool3 and pool4

    def __init__(self, out_channels: int, width: int = 64, fc_dim: int = 4096, weights: str = "",
                 input_padding: int = 100, dropout: float = 0.5, channelwise_upsampling: bool = False):
        super().__init__()
        if input_padding not in (1, 100):
            raise ValueError(f"FCN-8s input padding must be 100 (reference) or 1 (compact), got {input_padding}")
        c = out_channels
        self.compact = input_padding == 1
        self.input = ImageNetInput()
        self.features = vgg_features(VGG16, width, first_padding=input_padding, ceil_mode=True)
        c5 = 512 * width // 64
        self.fc6 = nn.Conv2d(c5, fc_dim, 7, padding=3 if self.compact else 0)
        self.fc7 = nn.Conv2d(fc_dim, fc_dim, 1)
        self.drop = nn.Dropout2d(dropout)  # after fc6 and fc7, as in FCN-8s
        self.score_fr = nn.Conv2d(fc_dim, c, 1)
        self.score_pool3 = nn.Conv2d(256 * width // 64, c, 1)
        self.score_pool4 = nn.Conv2d(c5, c, 1)
        pad2, pad8 = (1, 4) if self.compact else (0, 0)
        groups = c if channelwise_upsampling else 1
        self.upscore2 = nn.ConvTranspose2d(c, c, 4, stride=2, padding=pad2, bias=False, groups=groups)
        self.upscore_pool4 = nn.ConvTranspose2d(c, c, 4, stride=2, padding=pad2, bias=False, groups=groups)
        self.upscore8 = nn.ConvTranspose2d(c, c, 16, stride=8, padding=pad8, bias=False, groups=groups)
        self.pretrained = bool(weights)
        self.weight_file = weight_file(weights, "vgg16") if weights else None  # named in the log
        self._init(weights)

    def _init(self, weights: str) -> None:
        init_vgg_(self.features)
        for fc in (self.fc6, self.fc7):  # torchvision's init of the layers they come from
            nn.init.normal_(fc.weight, 0, 0.01)
            nn.init.zeros_(fc.bias)
        for score in (self.score_fr, self.score_pool3, self.score_pool4):  # FCN: zero-initialised scores
            nn.init.zeros_(score.weight)
            nn.init.zeros_(score.bias)
        for up in (self.upscore2, self.upscore_pool4, self.upscore8):
            up.weight.data.copy_(bilinear_kernel(up.in_channels, up.kernel_size[0], up.groups))
        if weights:
            state = read_state_dict(weights, "vgg16")
            copy_features_(self.features, state, weights)
            for fc, key in ((self.fc6, "classifier.0"), (self.fc7, "classifier.3")):
                w = state[f"{key}.weight"]
                if w.numel() != fc.weight.numel():
                    from spigan.errors import SpiganError

                    raise SpiganError(f"{weights}: '{key}.weight' has shape {tuple(w.shape)}, fc layers of "
                                      f"{tuple(fc.weight.shape)} need the paper's width 64 and fc_dim 4096")
                fc.weight.data.copy_(w.view_as(fc.weight))
                fc.bias.data.copy_(state[f"{key}.bias"])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.input(x)
        pool3 = self.features[: self.POOL3](h)  # (b, 4w, ~h/8 + 25, .)
        pool4 = self.features[self.POOL3: self.POOL4](pool3)  # 1/16
        h = self.features[self.POOL4:](pool4)  # pool5, 1/32
        h = self.drop(torch.relu(self.fc6(h)))
        h = self.drop(torch.relu(self.fc7(h)))
        # Offsets of the reference model's crops; the compact variant is aligned already
        # (it only trims the extra row/column that ceil-mode pooling adds to odd sizes).
        o4, o3, o_out = (0, 0, 0) if self.compact else (5, 9, 31)
        s4 = self.score_pool4(pool4)
        up2 = self.upscore2(self.score_fr(h))  # 1/16
        if self.compact:
            up2 = up2[:, :, : s4.shape[2], : s4.shape[3]]
        up4 = self.upscore_pool4(up2 + s4[:, :, o4: o4 + up2.shape[2], o4: o4 + up2.shape[3]])  # 1/8
        s3 = self.score_pool3(pool3)
        if self.compact:
            up4 = up4[:, :, : s3.shape[2], : s3.shape[3]]
        out = self.upscore8(up4 + s3[:, :, o3: o3 + up4.shape[2], o3: o3 + up4.shape[3]])
        return out[:, :, o_out: o_out + x.shape[2], o_out: o_out + x.shape[3]].contiguous()
