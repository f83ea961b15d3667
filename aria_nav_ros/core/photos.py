"""The real photos this machine has from its packages, for samples and tests.

ultralytics ships bus.jpg and zidane.jpg; Debian's darknet package ships
dog, person, horses, kite and others under /usr/share/darknet/data.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

DARKNET_DATA = Path("/usr/share/darknet/data")
ULTRALYTICS_PHOTOS = ("bus.jpg", "zidane.jpg")
DARKNET_PHOTOS = ("person.jpg", "dog.jpg", "horses.jpg", "kite.jpg", "giraffe.jpg", "eagle.jpg")


def ultralytics_assets() -> Path | None:
    spec = importlib.util.find_spec("ultralytics")
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).parent / "assets"


def real_photos() -> list[Path]:
    """Every known photo that exists here, in a fixed order."""
    assets = ultralytics_assets()
    candidates = [assets / name for name in ULTRALYTICS_PHOTOS] if assets else []
    candidates += [DARKNET_DATA / name for name in DARKNET_PHOTOS]
    return [path for path in candidates if path.is_file()]


def photo_folder(dest: Path, names: tuple[str, ...] | None = None) -> Path:
    """A folder of links to the real photos (all, or those named), in order."""
    photos = [p for p in real_photos() if names is None or p.name in names]
    if not photos:
        raise FileNotFoundError(
            "no real photos found: install ultralytics (pip) and darknet (apt); scripts/setup.sh does both"
        )
    dest.mkdir(parents=True, exist_ok=True)
    for index, photo in enumerate(photos):
        link = dest / f"{index:03d}_{photo.name}"
        if not link.exists():
            link.symlink_to(photo)
    return dest
