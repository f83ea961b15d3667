"""Opening a frame source by kind, from the driver's parameters."""

from __future__ import annotations

from dataclasses import dataclass, field

from aria_nav_ros.core.cameras import CAMERAS, PICTURE_HFOV_DEG, RGB
from aria_nav_ros.core.sources.aria_live import AriaLiveConfig, AriaLiveSource
from aria_nav_ros.core.sources.base import FrameSource, SourceError

SOURCE_KINDS = ("live", "vrs", "bag", "video", "images")
MEDIA_KINDS = ("video", "images")  # one picture: one camera, unless stand-in SLAM views are asked for


def source_cameras(kind: str, cameras: tuple[str, ...], stand_in_slam: bool) -> tuple[str, ...]:
    """The cameras a source of `kind` publishes: a video or photos is one camera (the RGB one) unless
    `stand_in_slam` asks for two stand-in SLAM views (the picture's halves)."""
    if kind in MEDIA_KINDS and not stand_in_slam:
        return (RGB,)
    return cameras


@dataclass(frozen=True)
class SourceSettings:
    kind: str  # one of SOURCE_KINDS
    path: str = ""  # the recording, bag, video or image folder
    speed: float = 1.0  # recordings: x recorded speed; 0 = as fast as they are taken
    loop: bool = False  # recordings: start over at the end
    cameras: tuple[str, ...] = CAMERAS
    image_fps: float = 10.0  # image folders: photos per second of recorded time
    hfov_deg: float = PICTURE_HFOV_DEG  # videos and photos: nominal horizontal field of view of the RGB image
    live: AriaLiveConfig = field(default_factory=AriaLiveConfig)


def open_source(settings: SourceSettings) -> FrameSource:
    """The source the settings name; SourceError naming the file when it cannot be opened."""
    kind, path = settings.kind, settings.path
    if kind not in SOURCE_KINDS:
        raise SourceError(f"unknown source {kind!r}: choose one of {', '.join(SOURCE_KINDS)}")
    if kind == "live":
        return AriaLiveSource(settings.live)
    if not path:
        raise SourceError(f"source {kind!r} needs a path")
    if kind == "vrs":
        from aria_nav_ros.core.sources.vrs import VrsSource

        return VrsSource(path, settings.speed, settings.loop, settings.cameras)
    if kind == "bag":
        from aria_nav_ros.core.sources.bag import BagSource

        return BagSource(path, settings.speed, settings.loop, settings.cameras)
    from aria_nav_ros.core.sources.media import ImageFolderSource, PictureOptions, VideoSource

    slam = any(c != RGB for c in settings.cameras)  # stand-in SLAM views (the picture's halves)
    options: PictureOptions = {
        "speed": settings.speed, "loop": settings.loop, "with_slam": slam, "hfov_deg": settings.hfov_deg,
    }  # fmt: skip
    if kind == "video":
        return VideoSource(path, **options)
    return ImageFolderSource(path, settings.image_fps, **options)
