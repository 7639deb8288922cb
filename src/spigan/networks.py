"""The networks of a run by their paper names (T, G, D, P, φ), as one typed record: what
the update steps take, what a checkpoint saves, what `build` makes. Only torch: loading a
trained model for prediction needs it without the objective or the losses."""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn


@dataclass
class Networks:
    """T always; G and D for the adapted variants; P when some γ_k > 0 (loss.pi); φ when δ > 0; P, φ and
    φ's segmentation head when pretraining."""

    task: nn.Module  # T
    generator: nn.Module | None = None  # G
    discriminator: nn.Module | None = None  # D
    privileged: nn.Module | None = None  # P
    perceptual: nn.Module | None = None  # φ (frozen, except while pretrained)
    perceptual_head: nn.Module | None = None  # φ's segmentation head: pretraining only

    def present(self) -> dict[str, nn.Module]:
        """The networks this variant has, by name."""
        named = {"task": self.task, "generator": self.generator, "discriminator": self.discriminator,
                 "privileged": self.privileged, "perceptual": self.perceptual, "perceptual_head": self.perceptual_head}
        return {k: v for k, v in named.items() if v is not None}

    def trainable(self) -> dict[str, nn.Module]:
        """The networks that learn: all but φ, which learns only beside its head (pretraining)."""
        return {k: v for k, v in self.present().items() if k != "perceptual" or self.perceptual_head is not None}
