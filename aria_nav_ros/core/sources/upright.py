"""The Aria cameras are mounted sideways: frames are turned 90 degrees clockwise."""

import numpy as np


def turn_clockwise(pixels: np.ndarray) -> np.ndarray:
    """A contiguous copy of `pixels` turned 90 degrees clockwise."""
    return np.ascontiguousarray(np.rot90(pixels, k=-1))
