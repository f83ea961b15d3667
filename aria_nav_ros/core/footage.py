"""Real photos of people close to a camera, from an installed package, for close-range tests.

No registry here ships a video of people walking up to a camera at head height. What one does ship are
two real photographs of a person within reach of the camera, cut by the frame, in scikit-image's wheel
(`pip install scikit-image`; Debian's python3-skimage holds the same files):

- `camera.png`: a man bent over a camera on a tripod, about a metre away, his body cut by the left and
  lower edges (greyscale, 512x512; "No copyright restrictions. CC0 by the photographer (Lav Varshney)").
- `astronaut.png`: Eileen Collins, head and shoulders, well under a metre, cut by the lower edge and both
  sides (colour, 512x512; NASA, "No known copyright restrictions, released into the public domain").

The licences are as skimage.data's docstrings state them; the package itself is BSD-3-Clause. The files
are found where the package is installed, without importing it.
"""

from __future__ import annotations

import importlib.util
import math
from dataclasses import dataclass
from pathlib import Path

SKIMAGE_PIP = "scikit-image==0.26.0"  # what scripts/setup.sh installs; any version since 0.18 has both photos
DEBIAN_SKIMAGE_DATA = Path("/usr/lib/python3/dist-packages/skimage/data")  # Debian's python3-skimage


@dataclass(frozen=True)
class ClosePhoto:
    name: str  # the file in skimage/data
    shows: str
    licence: str


CLOSE_PEOPLE = (
    ClosePhoto("camera.png", "a man at a tripod camera, about a metre away, cut by the left and lower edges",
               "CC0 (Lav Varshney)"),
    ClosePhoto("astronaut.png", "Eileen Collins, head and shoulders, under a metre, cut by the lower edge and sides",
               "public domain (NASA)"),
)  # fmt: skip


def skimage_data() -> Path | None:
    """scikit-image's data folder where the package is installed (pip, else Debian's), or None."""
    spec = importlib.util.find_spec("skimage")  # a top-level find: nothing of the package is run
    if spec is not None and spec.origin is not None:
        folder = Path(spec.origin).parent / "data"
        if folder.is_dir():
            return folder
    return DEBIAN_SKIMAGE_DATA if DEBIAN_SKIMAGE_DATA.is_dir() else None


def close_people() -> list[Path]:
    """The close-range photos that exist here, in CLOSE_PEOPLE's order; empty when none is installed."""
    folder = skimage_data()
    if folder is None:
        return []
    return [folder / p.name for p in CLOSE_PEOPLE if (folder / p.name).is_file()]


def missing_reason() -> str | None:
    """Why the close-range photos cannot be used here (None when all are installed)."""
    found = {p.name for p in close_people()}
    missing = [p.name for p in CLOSE_PEOPLE if p.name not in found]
    if not missing:
        return None
    return (f"real close-range photos {', '.join(missing)} not installed: pip install {SKIMAGE_PIP} "
            "(scripts/setup.sh does), or apt install python3-skimage")  # fmt: skip


def standing_folder(dest: Path, seconds_each: float, fps: float) -> list[tuple[str, float, float]]:
    """A photo folder for `--source images` at `fps`: each close-range photo held `seconds_each` (a person
    standing still in front of the wearer), in CLOSE_PEOPLE's order. Returns (photo, start s, end s) of each
    scene, in the replay's recorded time."""
    reason = missing_reason()
    if reason:
        raise FileNotFoundError(reason)
    frames = math.ceil(seconds_each * fps)
    dest.mkdir(parents=True, exist_ok=True)
    scenes = []
    for index, photo in enumerate(close_people()):
        for k in range(frames):
            link = dest / f"{index:02d}_{k:04d}_{photo.name}"
            if not link.exists():
                link.symlink_to(photo)
        start = index * frames / fps
        scenes.append((photo.name, start, start + frames / fps))
    return scenes
