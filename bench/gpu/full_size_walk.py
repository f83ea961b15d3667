"""The sample walk at the glasses' full sizes: RGB 1408x1408 rgb8 (the sample's is the binned 704), SLAM 640x480.

Same scenes, photos, IMU and stamps as `aria_nav_ros.core.sample` (its writer is used as it is); only the RGB
side changes, so the graph benchmark on a GPU moves the bytes the real RGB camera sends. `--photos` names a
folder holding the darknet photos (kite.jpg, person.jpg) where Debian's darknet package is not installed (the
GPU machine); bus.jpg and zidane.jpg come from ultralytics.

    python bench/gpu/full_size_walk.py OUT [--photos DIR]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from aria_nav_ros.core import sample

RGB_FULL = 1408  # Aria's RGB camera at full resolution


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="the bag folder to write (replaced if it exists)")
    parser.add_argument("--photos", type=Path, help="folder with kite.jpg and person.jpg (else darknet's)")
    args = parser.parse_args()
    # The sample module reads these at call time: the walk and its CameraInfo follow.
    sample.RGB_SIZE = RGB_FULL
    if args.photos:
        sample.DARKNET_DATA = args.photos
    start = time.monotonic()
    counts = sample.write_sample(args.out)
    size = sum(f.stat().st_size for f in args.out.iterdir()) / 1e6
    print(f"[full_size_walk] {args.out}: {sum(counts.values())} messages, {size:.0f} MB,"
          f" RGB {RGB_FULL}x{RGB_FULL}, {time.monotonic() - start:.1f} s")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
