"""The early-stopping rule (paper §4.1) on hand-made loss sequences."""

from spigan.config import EarlyStoppingConfig
from spigan.early_stopping import EarlyStopping


def test_early_stopping_rule():
    rule = EarlyStopping(EarlyStoppingConfig(smoothing=0.0, margin=0.5, patience=3, warmup=20))
    # D under half of G from iteration 10 on; values before the warm-up (20) are ignored
    fired = [it for it in range(10, 100, 10) if rule.update(it, 0.1, 0.5)]
    assert fired == [40] and rule.fired_at == 40
    rule = EarlyStopping(EarlyStoppingConfig(smoothing=0.0, margin=0.5, patience=2, warmup=0))
    seq = [(0.1, 0.5), (0.3, 0.5), (0.1, 0.5), (0.1, 0.5)]  # 0.3 is not under half of 0.5: streak resets
    assert [rule.update(i, d, g) for i, (d, g) in enumerate(seq, 1)] == [False, False, False, True]


def test_early_stopping_smoothing_starts_at_warmup():
    rule = EarlyStopping(EarlyStoppingConfig(smoothing=0.5, margin=0.5, patience=1, warmup=2))
    assert not rule.update(1, 5.0, 0.1)  # ignored: before the warm-up
    assert rule.update(2, 0.1, 0.5) and rule.ema_discriminator == 0.1
    rule.update(3, 0.3, 0.5)
    assert rule.ema_discriminator == 0.5 * 0.1 + 0.5 * 0.3


def test_state_round_trip():
    rule = EarlyStopping(EarlyStoppingConfig(smoothing=0.5, margin=0.5, patience=2, warmup=0))
    rule.update(1, 0.1, 0.5)
    copy = EarlyStopping(EarlyStoppingConfig(smoothing=0.5, margin=0.5, patience=2, warmup=0))
    copy.load_state_dict(rule.state_dict())
    assert copy.update(2, 0.1, 0.5) == rule.update(2, 0.1, 0.5) is True
