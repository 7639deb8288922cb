"""Figures and tables from finished runs."""

from __future__ import annotations

from pathlib import Path


def plot_losses(history: list[dict], early_stop: int | None, path: str | Path, title: str = "") -> Path:
    """Loss curves like the paper's Figures 3 and 4: the task, perceptual and privileged
    terms; and the discriminator loss against the generator's adversarial loss, with the
    early-stopping iteration marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    its = [h["iteration"] for h in history]
    adversarial = any("adversarial" in h for h in history)
    fig, axes = plt.subplots(1, 2 if adversarial else 1, figsize=(12 if adversarial else 6, 4), squeeze=False)
    ax = axes[0, 0]
    for key, label in (("task_source", "task on x_s"), ("task_adapted", "task on G(x_s)"),
                       ("perceptual", "perceptual"), ("privileged_source", "privileged on x_s"),
                       ("privileged_adapted", "privileged on G(x_s)")):
        if any(key in h for h in history):
            ax.plot(its, [h.get(key, float("nan")) for h in history], label=label)
    ax.set_xlabel("iteration")
    ax.set_ylabel("loss")
    ax.set_title("task, perceptual and privileged terms (Fig. 3)")
    ax.legend()
    ax.grid(alpha=0.3)
    if adversarial:
        ax = axes[0, 1]
        ax.plot(its, [h["discriminator"] for h in history], label="discriminator", alpha=0.35, color="C0")
        ax.plot(its, [h["adversarial"] for h in history], label="generator (adversarial)", alpha=0.35, color="C1")
        smooth = [h for h in history if "early_stopping/ema_discriminator" in h]
        ax.plot([h["iteration"] for h in smooth], [h["early_stopping/ema_discriminator"] for h in smooth], color="C0",
                label="discriminator, smoothed")
        ax.plot([h["iteration"] for h in smooth], [h["early_stopping/ema_adversarial"] for h in smooth], color="C1",
                label="generator, smoothed")
        if early_stop is not None:
            ax.axvline(early_stop, color="k", linestyle="--", label=f"early stop ({early_stop})")
        ax.set_xlabel("iteration")
        ax.set_title("adversarial losses and early stopping (Fig. 4)")
        ax.legend()
        ax.grid(alpha=0.3)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path
