"""What a published image's pixels mean: intrinsics and lens model, pixel <-> ray.

Two lens models:
- "pinhole": u = cx + fx * x / z (videos and photos, which carry no
  calibration; rectified images).
- "fisheye624": the Aria cameras' own model (projectaria-tools FISHEYE624,
  written here from its published definition): the angle from the axis,
  theta, is bent by an odd polynomial, theta_d = theta + k0 theta^3 + ... +
  k5 theta^13, then tangential (p0, p1) and thin-prism (s0..s3) terms are
  added. A pinhole formula is right only near the centre: 60 degrees off-axis
  the Aria RGB lens puts a point where a pinhole says about 46.

Rays are in the image's REP 103 optical frame: x right, y down, z forward.
Distortion coefficients are dimensionless, so scaling an image changes only
f and c; turning it a quarter turn turns the tangential and prism vectors.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

PINHOLE = "pinhole"
FISHEYE624 = "fisheye624"
FISHEYE624_COEFFICIENTS = 12  # k0..k5, p0, p1, s0..s3
NEWTON_STEPS = 20  # at most; a few reach TOLERANCE
TOLERANCE = 1e-12  # in normalised coordinates and radians: far below a pixel


@dataclass(frozen=True)
class CameraModel:
    """Intrinsics of a published image; `distortion` empty: pinhole, 12 numbers: FISHEYE624."""

    width: int
    height: int
    fx: float
    fy: float
    cx: float
    cy: float
    distortion: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        if len(self.distortion) not in (0, FISHEYE624_COEFFICIENTS):
            raise ValueError(f"distortion: 0 (pinhole) or {FISHEYE624_COEFFICIENTS} (fisheye624) numbers")

    @property
    def model(self) -> str:
        return FISHEYE624 if self.distortion else PINHOLE

    # --- pixel <-> ray -------------------------------------------------------------

    def project(self, rays: np.ndarray) -> np.ndarray:
        """(N, 3) points in the optical frame -> (N, 2) pixels."""
        rays = np.asarray(rays, dtype=np.float64).reshape(-1, 3)
        x, y, z = rays[:, 0], rays[:, 1], rays[:, 2]
        if not self.distortion:
            return np.stack([self.cx + self.fx * x / z, self.cy + self.fy * y / z], axis=1)
        lateral = np.hypot(x, y)
        theta = np.arctan2(lateral, z)
        scale = np.divide(self._bend(theta), lateral, out=np.ones_like(theta), where=lateral > 0)
        distorted = self._tangential_prism(np.stack([x * scale, y * scale], axis=1))
        return np.stack([self.cx + self.fx * distorted[:, 0], self.cy + self.fy * distorted[:, 1]], axis=1)

    def unproject(self, pixels: np.ndarray) -> np.ndarray:
        """(N, 2) pixels -> (N, 3) unit rays in the optical frame."""
        pixels = np.asarray(pixels, dtype=np.float64).reshape(-1, 2)
        normal = np.stack([(pixels[:, 0] - self.cx) / self.fx, (pixels[:, 1] - self.cy) / self.fy], axis=1)
        if not self.distortion:
            rays = np.concatenate([normal, np.ones((len(normal), 1))], axis=1)
            return rays / np.linalg.norm(rays, axis=1, keepdims=True)
        radial = self._undo_tangential_prism(normal)
        theta_d = np.hypot(radial[:, 0], radial[:, 1])
        theta = self._unbend(theta_d)
        direction = np.divide(radial, theta_d[:, None], out=np.zeros_like(radial), where=theta_d[:, None] > 0)
        return np.concatenate([direction * np.sin(theta)[:, None], np.cos(theta)[:, None]], axis=1)

    def _bend(self, theta: np.ndarray) -> np.ndarray:
        t2 = theta * theta
        poly = np.zeros_like(theta)
        for k in reversed(self.distortion[:6]):  # Horner in theta^2
            poly = (poly + k) * t2
        return theta * (1.0 + poly)

    def _bend_slope(self, theta: np.ndarray) -> np.ndarray:
        slope = np.ones_like(theta)
        for i, k in enumerate(self.distortion[:6]):
            power = 2 * i + 3
            slope = slope + power * k * theta ** (power - 1)
        return slope

    def _unbend(self, theta_d: np.ndarray) -> np.ndarray:
        theta = theta_d.copy()
        for _ in range(NEWTON_STEPS):
            step = (self._bend(theta) - theta_d) / self._bend_slope(theta)
            theta = theta - step
            if not np.any(np.abs(step) > TOLERANCE):
                break
        return theta

    def _tangential_prism(self, uv: np.ndarray) -> np.ndarray:
        p = np.array(self.distortion[6:8])
        s0, s1, s2, s3 = self.distortion[8:12]
        r2 = (uv * uv).sum(axis=1)
        along = 2.0 * (uv @ p)
        out = uv + along[:, None] * uv + r2[:, None] * p
        out[:, 0] += s0 * r2 + s1 * r2 * r2
        out[:, 1] += s2 * r2 + s3 * r2 * r2
        return out

    def _undo_tangential_prism(self, target: np.ndarray) -> np.ndarray:
        """The radial point whose tangential and prism terms land on `target` (Newton, numeric Jacobian:
        the terms are small, so a few steps reach far below a pixel)."""
        uv = target.copy()
        step = 1e-7
        for _ in range(NEWTON_STEPS):
            here = self._tangential_prism(uv)
            residual = here - target
            if not np.any(np.abs(residual) > TOLERANCE):
                break
            du = (self._tangential_prism(uv + [step, 0.0]) - here) / step
            dv = (self._tangential_prism(uv + [0.0, step]) - here) / step
            jac = np.stack([du, dv], axis=2)  # (N, 2 outputs, 2 inputs)
            uv = uv - np.linalg.solve(jac, residual[:, :, None])[:, :, 0]
        return uv

    # --- the same camera after the image changes --------------------------------

    def rotated_clockwise(self) -> CameraModel:
        """The same camera after its image is turned 90 degrees clockwise.

        A pixel (u, v) of the W x H original lands at (H - 1 - v, u): the new x axis is the old -y,
        the new y the old x. Radial terms do not care; the tangential vector (p0, p1) and the prism
        vectors (s0, s2), (s1, s3) turn with the image.
        """
        distortion = self.distortion
        if distortion:
            k, (p0, p1), (s0, s1, s2, s3) = distortion[:6], distortion[6:8], distortion[8:12]
            distortion = (*k, -p1, p0, -s2, -s3, s0, s1)
        return CameraModel(
            width=self.height,
            height=self.width,
            fx=self.fy,
            fy=self.fx,
            cx=self.height - 1 - self.cy,
            cy=self.cx,
            distortion=distortion,
        )

    def scaled(self, factor: float) -> CameraModel:
        """The same camera after its image is resized by `factor`."""
        return self.resized(factor, factor)

    def resized(self, fx_factor: float, fy_factor: float) -> CameraModel:
        """The same camera after its image is resized by these factors across and down."""
        if fx_factor == 1.0 and fy_factor == 1.0:
            return self
        return replace(
            self,
            width=round(self.width * fx_factor),
            height=round(self.height * fy_factor),
            fx=self.fx * fx_factor,
            fy=self.fy * fy_factor,
            cx=(self.cx + 0.5) * fx_factor - 0.5,
            cy=(self.cy + 0.5) * fy_factor - 0.5,
        )

    def cropped(self, left: int, top: int, width: int, height: int) -> CameraModel:
        """The camera of a part of the image: the same rays, the principal point moved."""
        return replace(self, width=width, height=height, cx=self.cx - left, cy=self.cy - top)

    @staticmethod
    def from_fov(width: int, height: int, hfov_deg: float) -> CameraModel:
        """A centred pinhole camera with the given horizontal field of view."""
        f = (width / 2) / np.tan(np.radians(hfov_deg) / 2)
        return CameraModel(width, height, float(f), float(f), (width - 1) / 2, (height - 1) / 2)


def from_camera_info(width: int, height: int, k: list[float], distortion_model: str, d: list[float]) -> CameraModel:
    """The camera a CameraInfo's fields describe (an rclpy message or one read from a bag).

    "fisheye624" carries our 12 coefficients; a pinhole model ("plumb_bob" or "rational_polynomial") is read
    as a pinhole only when its distortion is all zero. Anything else is refused (ValueError): geometry on a
    lens model read wrongly would put obstacles at the wrong bearing and distance without a word.
    """
    fx, fy, cx, cy = float(k[0]), float(k[4]), float(k[2]), float(k[5])
    if distortion_model == FISHEYE624:
        return CameraModel(int(width), int(height), fx, fy, cx, cy, tuple(float(v) for v in d))
    if distortion_model in ("", "plumb_bob", "rational_polynomial") and not any(d):
        return CameraModel(int(width), int(height), fx, fy, cx, cy)
    raise ValueError(f"lens model {distortion_model!r} with distortion {list(d)}: only fisheye624 and undistorted")
