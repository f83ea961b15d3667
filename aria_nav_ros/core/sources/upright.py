"""Turning raw sensor images upright.

Aria Gen 1's cameras are mounted sideways: their frames are turned 90 degrees
clockwise. Aria Gen 2's are recorded upright (gravity already points down every
raw image): turned by nothing. The generation's turn is in aria_calibration.
"""

import numpy as np


def turn_clockwise(pixels: np.ndarray) -> np.ndarray:
    """A contiguous copy of `pixels` turned 90 degrees clockwise."""
    return np.ascontiguousarray(np.rot90(pixels, k=-1))


def turn_upright(pixels: np.ndarray, quarter_turns: int) -> np.ndarray:
    """`pixels` turned `quarter_turns` x 90 degrees clockwise; untouched (no copy) for none."""
    if quarter_turns % 4 == 0:
        return pixels
    return np.ascontiguousarray(np.rot90(pixels, k=-quarter_turns))
