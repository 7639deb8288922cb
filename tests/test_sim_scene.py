"""Scenes and their lighting against hand-computed cases: the street canyon's sky view
factor, and the weathers, seasons and times of day the `sim` renderer draws."""

import math

import numpy as np
import pytest

from spigan.sim.environment import SEASONS, WEATHERS, sample_environment
from spigan.sim.scene import Layout, Scene
from spigan.sim.table import PrimitiveTable


def canyon(height_left: float, height_right: float, half_width: float = 10.0) -> Scene:
    """A street along z between two unbroken rows of blocks, facades at x = +-half_width."""
    layout = Layout(road_half=6, lane_width=3, lanes_per_side=1, parking_width=3, sidewalk_width=4,
                    curb_height=0.15)
    skyline = {-1: [(-100.0, 300.0, half_width, height_left)], 1: [(-100.0, 300.0, half_width, height_right)]}
    return Scene(layout, PrimitiveTable.of([]), np.array([0.0, 1.0, 0.0]), skyline=skyline)


def test_sky_view_of_a_street_canyon():
    scene = canyon(20.0, 20.0)
    up, facing_right = np.array([[0.0, 1.0, 0.0]]), np.array([[1.0, 0.0, 0.0]])
    # The middle of the street: walls rise to atan(20 / 10) on both sides; cos of that.
    middle = scene.sky_view(np.array([[0.0, 0.0, 50.0]]), up)
    assert middle[0] == pytest.approx(math.cos(math.atan(2.0)))
    # The foot of the left facade, facing the right one 20 m away and 20 m high: 1 - sin(45).
    foot = scene.sky_view(np.array([[-10.0, 0.0, 50.0]]), facing_right)
    assert foot[0] == pytest.approx(1 - math.sin(math.pi / 4))
    # Above the opposite roofs, and beyond the street's end, the sky is open.
    assert scene.sky_view(np.array([[-10.0, 25.0, 50.0]]), facing_right)[0] == pytest.approx(1.0)
    assert scene.sky_view(np.array([[0.0, 0.0, 500.0]]), up)[0] == pytest.approx(1.0)
    # Lower blocks hide less sky.
    assert canyon(8.0, 8.0).sky_view(np.array([[0.0, 0.0, 50.0]]), up)[0] > middle[0]


def test_environments_cover_weathers_seasons_and_times_of_day():
    envs = [sample_environment(np.random.default_rng(i)) for i in range(300)]
    assert {e.weather for e in envs} == set(WEATHERS) and {e.season for e in envs} == set(SEASONS)
    elevations = np.degrees(np.arcsin([e.to_sun[1] for e in envs]))
    assert elevations.min() < 10 and elevations.max() > 55
    hidden = [e for e in envs if e.weather in ("rain", "fog")]
    assert all(not e.sun.any() for e in hidden) and all(e.wet > 0 for e in envs if e.weather == "rain")
    assert all(e.visibility < 200 for e in envs if e.weather == "fog")
    # Low suns are redder: their light crosses more atmosphere.
    low = [e for e in envs if e.weather == "clear" and e.to_sun[1] < 0.2]
    high = [e for e in envs if e.weather == "clear" and e.to_sun[1] > 0.75]
    assert low and high
    assert np.mean([e.sun[2] / e.sun[0] for e in low]) < np.mean([e.sun[2] / e.sun[0] for e in high])


def test_randomization_widens_the_light():
    plain = [sample_environment(np.random.default_rng(i)) for i in range(200)]
    randomized = [sample_environment(np.random.default_rng(i), 1.0) for i in range(200)]

    def tint_spread(envs):
        return np.std([e.horizon / e.horizon.mean() for e in envs])

    assert tint_spread(randomized) > 2 * tint_spread(plain)
