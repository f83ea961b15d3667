"""Frame sources: where the glasses' images come from, as plain Frames."""

from aria_nav_ros.core.sources.base import Frame, FrameSource, SourceError
from aria_nav_ros.core.sources.image_folder import ImageFolderSource

__all__ = ["Frame", "FrameSource", "ImageFolderSource", "SourceError"]
