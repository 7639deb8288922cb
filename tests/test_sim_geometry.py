"""Ray casting against hand-computed cases."""

import math

import numpy as np
import pytest

from spigan.sim.casting import cast_primary, cast_shadows
from spigan.sim.geometry import Box, Camera, Cylinder, Ellipsoid, Ground
from spigan.sim.table import PrimitiveTable


def camera_looking_forward(hfov_deg=60.0, height=0.0) -> Camera:
    return Camera(x=0.0, y=height, z=0.0, yaw=0.0, pitch=0.0, hfov=math.radians(hfov_deg))


def test_depth_is_z_buffer_not_range():
    # A wall facing the camera at z = 10: every pixel has z-depth 10, although the ray
    # lengths to its corners are longer.
    wall = Box(label=2, material="wall", color=(0.5, 0.5, 0.5), center=(0, 0, 10.5), half=(50, 50, 0.5))
    depth, index, rays = cast_primary(camera_looking_forward(), PrimitiveTable.of([wall]), 16, 32)
    np.testing.assert_allclose(depth, 10.0, rtol=1e-12)
    assert (index == 0).all()
    np.testing.assert_allclose(rays @ camera_looking_forward().basis()[2], 1.0)


def test_nearest_primitive_wins_and_sky_is_unhit():
    near = Ellipsoid(label=10, material="skin", color=(1, 1, 1), center=(0, 0, 5), radii=(1, 1, 1))
    far = Box(label=2, material="facade", color=(1, 1, 1), center=(0, 0, 20), half=(2, 2, 1))
    depth, index, _ = cast_primary(camera_looking_forward(), PrimitiveTable.of([far, near]), 9, 9)
    assert index[4, 4] == 1 and depth[4, 4] == pytest.approx(4.0, abs=0.05)  # sphere front at z = 4
    assert index[0, 0] == -1 and np.isinf(depth[0, 0])


def test_ground_plane_depth_matches_geometry():
    cam = Camera(x=0, y=1.5, z=0, yaw=0, pitch=math.radians(-10), hfov=math.radians(60))
    road = PrimitiveTable.of([Ground(label=0, material="asphalt", color=(0, 0, 0))])
    depth, index, rays = cast_primary(cam, road, 32, 32)
    hit = np.isfinite(depth)
    points = cam.position + depth[..., None] * rays
    np.testing.assert_allclose(points[hit][:, 1], 0.0, atol=1e-9)
    assert hit[-1].all() and not hit[0].any()  # road at the bottom, sky at the top


@pytest.mark.parametrize("yaw", [0.0, 0.7])
def test_box_intersection_and_normal(yaw):
    box = Box(label=2, material="wall", color=(0, 0, 0), center=(1.0, 2.0, 3.0), half=(1.0, 0.5, 2.0), yaw=yaw)
    # A ray from far along the box's local +x axis, aimed at its centre, hits the +x face.
    axis = np.array([math.cos(yaw), 0, -math.sin(yaw)])
    origin = box.center + 10 * axis
    t = box.intersect(tuple(origin), tuple(-axis))
    assert float(t) == pytest.approx(9.0)
    np.testing.assert_allclose(box.normal((origin - 9.0 * axis)[None]), axis[None], atol=1e-9)


def test_cylinder_side_and_cap():
    cyl = Cylinder(label=5, material="metal", color=(0, 0, 0), center=(0, 1, 0), radius=0.5, half_length=1.0)
    assert float(cyl.intersect((-5.0, 1.0, 0.0), (1.0, 0.0, 0.0))) == pytest.approx(4.5)  # side
    assert float(cyl.intersect((0.0, 10.0, 0.2), (0.0, -1.0, 0.0))) == pytest.approx(8.0)  # top cap at y = 2
    assert np.isinf(cyl.intersect((-5.0, 2.5, 0.0), (1.0, 0.0, 0.0)))  # above it


def test_shadow_under_a_box():
    roof = Box(label=2, material="facade", color=(0, 0, 0), center=(0, 5, 0), half=(1, 0.1, 1))
    points = np.array([[0.0, 0.0, 0.0], [5.0, 0.0, 0.0]])
    shadowed = cast_shadows(points, np.array([0.0, 1.0, 0.0]), PrimitiveTable.of([roof]), np.array([0]))
    assert shadowed.tolist() == [True, False]
