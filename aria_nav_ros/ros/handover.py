"""Images handed from the driver to a perception node in the same process, as objects: no serialization.

rclpy has no intra-process transport: an image published to a subscriber in
the same process is still converted to C, serialized, delivered by Fast DDS,
deserialized and converted back to Python. Between processes, on the H200,
the RGB frames of the GPU graph spent p50 2.5 ms / p99 4.6 ms in transport,
and the RGB camera-to-decision budget is 15 ms. With the driver and
`rgb_perception` composed in one process (graph setting `driver_with_rgb`),
the driver gives each image message to the perception node's callback first
and then publishes it as always (recorder, monitor, RViz, other hosts); the
perception node takes its camera from here instead of subscribing over DDS,
and the driver counts such takers as ready readers.

Resolved topic names are the keys: a node in another namespace never gets
another graph's frames.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

Callback = Callable[[object], None]

_lock = threading.Lock()
_providers: dict[str, int] = {}  # resolved topic: how many nodes of this process publish it
_takers: dict[str, list[Taker]] = {}


@dataclass(eq=False)
class Taker:
    """A node's hold on a topic's hand-over; `close` ends it (deactivation, teardown)."""

    topic: str
    node: tuple[str, str]  # (namespace, name): who reads, for the driver's readiness check
    callback: Callback = field(repr=False)

    def close(self) -> None:
        with _lock:
            takers = _takers.get(self.topic, [])
            if self in takers:
                takers.remove(self)


def provide(topic: str) -> None:
    """A node of this process publishes `topic` and hands its messages over (the driver, at its start)."""
    with _lock:
        _providers[topic] = _providers.get(topic, 0) + 1


def withdraw(topic: str) -> None:
    """It no longer does (the driver's teardown)."""
    with _lock:
        if _providers.get(topic, 0) > 1:
            _providers[topic] -= 1
        else:
            _providers.pop(topic, None)


def provided(topic: str) -> bool:
    """Whether a node of this process provides `topic`."""
    with _lock:
        return topic in _providers


def take(topic: str, node: tuple[str, str], callback: Callback) -> Taker | None:
    """Messages of `topic` to `callback`, in the publisher's thread; None when nothing here provides it."""
    with _lock:
        if topic not in _providers:
            return None
        taker = Taker(topic, node, callback)
        _takers.setdefault(topic, []).append(taker)
        return taker


def takers(topic: str) -> set[tuple[str, str]]:
    """The nodes that take `topic` here."""
    with _lock:
        return {t.node for t in _takers.get(topic, [])}


def hand(topic: str, message: object, on_error: Callable[[tuple[str, str], Exception], None] | None = None) -> int:
    """Give `message` to every taker of `topic` (each must only queue it: the publisher waits); how many took it.

    A taker that raises is its own fault, never the publisher's (the driver's source must not stop for it):
    `on_error` hears of it, and the others still get the message."""
    with _lock:
        takers = list(_takers.get(topic, []))
    took = 0
    for taker in takers:
        try:
            taker.callback(message)
        except Exception as error:  # noqa: BLE001 - any failure of the taker, reported, not raised
            if on_error is not None:
                on_error(taker.node, error)
        else:
            took += 1
    return took
