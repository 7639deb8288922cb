"""Early stopping (paper §4.1): stop when the discriminator loss is "significantly and
consistently" lower than the generator's, without looking at any target label. The rule's
parameters and their meaning: config.EarlyStoppingConfig."""

from __future__ import annotations

from spigan.config import EarlyStoppingConfig


class EarlyStopping:
    """Fires once, when the smoothed discriminator loss has stayed below (1 - margin) times
    the smoothed generator adversarial loss for `patience` consecutive checks from `warmup`
    on (see EarlyStoppingConfig)."""

    def __init__(self, cfg: EarlyStoppingConfig):
        self.cfg = cfg
        self.ema_discriminator: float | None = None
        self.ema_adversarial: float | None = None
        self.streak = 0
        self.fired_at: int | None = None

    def update(self, iteration: int, discriminator: float, adversarial: float) -> bool:
        """Feeds one check (the losses averaged over a logging interval); True exactly when
        the rule fires."""
        if iteration < self.cfg.warmup:
            return False
        s = self.cfg.smoothing
        if self.ema_discriminator is None:
            self.ema_discriminator, self.ema_adversarial = discriminator, adversarial
        else:
            self.ema_discriminator = s * self.ema_discriminator + (1 - s) * discriminator
            self.ema_adversarial = s * self.ema_adversarial + (1 - s) * adversarial
        if not self.cfg.enabled or self.fired_at is not None:
            return False
        below = self.ema_discriminator < (1 - self.cfg.margin) * self.ema_adversarial
        self.streak = self.streak + 1 if below else 0
        if self.streak >= self.cfg.patience:
            self.fired_at = iteration
            return True
        return False

    def state_dict(self) -> dict:
        return {"ema_discriminator": self.ema_discriminator, "ema_adversarial": self.ema_adversarial,
                "streak": self.streak, "fired_at": self.fired_at}

    def load_state_dict(self, state: dict) -> None:
        self.ema_discriminator = state["ema_discriminator"]
        self.ema_adversarial = state["ema_adversarial"]
        self.streak = state["streak"]
        self.fired_at = state["fired_at"]
