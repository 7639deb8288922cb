"""The `sim` renderer's knobs: where its cameras stand, how strongly it randomises the
domain, and whether frames filled by one object are kept. The `photo` renderer (the demo's
stand-in for real photos) has none: its look and car-mounted camera are fixed."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SimKnobs:
    """Args:
        camera: 0 = SYNTHIA-RAND's random viewpoints (anywhere over road and sidewalks,
            1.2-6 m high, yaw within +-70 degrees, pitch -25..5, field of view 55-100), 1 =
            a vehicle-mounted camera (1-2 m high, in a lane, small yaw, pitch and roll);
            values between interpolate every camera parameter between the two draws.
        randomization: domain randomisation strength (Tobin et al. 2017, Tremblay et al.
            2018): 0 = none; up to 1, that share of objects get random textures and colours,
            lighting and exposure ranges widen, and random distractor shapes (labelled void)
            float in front of the camera.
        degenerate: keep frames in which one object fills most of the view (by default such
            a camera is drawn again).
    """

    camera: float = 1.0
    randomization: float = 0.0
    degenerate: bool = False

    def __post_init__(self):
        for name in ("camera", "randomization"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {value}")

    def tag(self) -> str:
        """A short name for cache folders: every knob that changes a frame is in it."""
        return f"cam{self.camera:g}-dr{self.randomization:g}" + ("-degenerate" if self.degenerate else "")
