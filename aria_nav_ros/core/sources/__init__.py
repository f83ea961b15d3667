"""Frame sources: where the glasses' images come from, as plain items.

`open_source` picks one by kind; every source delivers Frames and ImuSamples
through `run(emit, stop)` and fails with a SourceError naming its file or
device.
"""

from aria_nav_ros.core.sources.base import (
    Emit,
    Frame,
    FrameSource,
    ImuSample,
    Item,
    SourceError,
)

__all__ = ["Emit", "Frame", "FrameSource", "ImuSample", "Item", "SourceError"]
