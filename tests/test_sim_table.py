"""The scene's table of primitives: its columns are the primitives' attributes."""

import numpy as np
import pytest

from spigan.sim.geometry import _SIGNS, Box, Cylinder, Ellipsoid, Ground
from spigan.sim.scene import generate_scene
from spigan.sim.table import BOX, CYLINDER, ELLIPSOID, GROUND, MATERIALS, PrimitiveTable


def test_columns_are_the_primitives_attributes():
    prims = list(generate_scene(np.random.default_rng(3)).table.shapes)
    t = PrimitiveTable.of(prims)
    assert len(t) == len(prims) and set(t.kind.tolist()) == {GROUND, BOX, CYLINDER, ELLIPSOID}
    for k, q in enumerate(prims):
        assert t.label[k] == q.label and t.object_id[k] == q.object_id and MATERIALS[t.material[k]] == q.material
        np.testing.assert_array_equal(t.color[k], q.color)
        np.testing.assert_array_equal(t.center[k], q.center)
        for name, value in q.style.items():
            np.testing.assert_array_equal(t.style[name][k], value)
        if not isinstance(q, Ground):
            np.testing.assert_array_equal(t.extent[k], q.extent())
            R = np.array([[q._cos, 0, q._sin], [0, 1, 0], [-q._sin, 0, q._cos]])
            np.testing.assert_allclose(t.corners[k], (_SIGNS * q.extent()) @ R.T + q.center, atol=1e-9)
    floors = t.param("floor", 3.0)
    assert (floors[[isinstance(q, Box) and "floor" in q.style for q in prims]] > 2.7).all()
    assert (floors[[isinstance(q, Cylinder) for q in prims]] == 3.0).all()  # the default where a row has none


def test_take_and_concat_keep_rows_aligned():
    road = Ground(label=0, material="asphalt", color=(0.1, 0.2, 0.3), object_id=1, style={"lanes": 2})
    ball = Ellipsoid(label=11, material="skin", color=(1, 1, 1), object_id=5, center=(0, 1, 5), radii=(1, 2, 3))
    sign = Box(label=7, material="sign", color=(1, 0, 0), object_id=6, half=(0.3, 0.3, 0.02),
               style={"face": (0.9, 0.1, 0.1)})
    t = PrimitiveTable.of([road, ball]).concat(PrimitiveTable.of([sign]))
    assert t.object_id.tolist() == [1, 5, 6] and t.shapes == (road, ball, sign)
    assert np.isnan(t.style["lanes"][1:]).all() and t.style["lanes"][0] == 2
    np.testing.assert_array_equal(t.param("face", (0.6, 0.6, 0.6))[[0, 2]], [[0.6, 0.6, 0.6], [0.9, 0.1, 0.1]])
    sub = t.take(np.array([2, 0]))
    assert sub.object_id.tolist() == [6, 1] and sub.shapes == (sign, road) and sub.style["lanes"][1] == 2
    np.testing.assert_array_equal(sub.radii[0], np.ones(3))  # not an ellipsoid
    np.testing.assert_array_equal(t.radii[1], [1, 2, 3])


def test_unknown_materials_and_style_parameters_are_refused():
    with pytest.raises(ValueError, match="marble"):
        PrimitiveTable.of([Box(label=2, material="marble", color=(1, 1, 1))])
    with pytest.raises(ValueError, match="STYLES"):
        PrimitiveTable.of([Box(label=2, material="wall", color=(1, 1, 1), style={"ivy": 1.0})])
