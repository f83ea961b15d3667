"""Sound for cues: stereo earcons panned to the bearing, espeak-ng speech, and where it all goes.

Earcon: short tone pulses, pitch by urgency (critical: two alternating
pitches, a sound no other cue makes), more pulses and louder when nearer,
placed by equal-power panning (left = cos, right = sin of (p + 1) pi / 4,
p = bearing / 90 clamped to [-1, 1]). Speech follows, centred.

Sinks: the sound device through PortAudio (a callback stream fed from a
queue), or a WAV file holding the run's timeline (each cue at its time).
AudioPlayer renders in its own thread and sinks never wait for the sound:
nothing here blocks a ROS callback; a critical cue drops what is waiting and
cuts off what is playing.
"""

from __future__ import annotations

import io
import math
import queue
import shutil
import signal
import struct
import subprocess
import threading
import time
import wave
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from aria_nav_ros.core.navigation.config import TIERS
from aria_nav_ros.core.navigation.policy import CRITICAL, KIND_SYSTEM, Cue

ESPEAK_VOICES = {"en": "en-us", "es": "es"}


def pan_gains(bearing_deg: float) -> tuple[float, float]:
    p = min(1.0, max(-1.0, bearing_deg / 90.0))
    theta = (p + 1.0) * math.pi / 4.0
    return math.cos(theta), math.sin(theta)


def earcon(cue: Cue, settings: dict[str, Any]) -> np.ndarray:
    """(N, 2) float32 samples in [-1, 1]."""
    rate = int(settings["sample_rate"])
    base = float(settings["frequency_hz"][TIERS[cue.urgency]])
    distance = cue.distance_m if math.isfinite(cue.distance_m) else 10.0
    gain = min(1.0, max(float(settings["min_gain"]), float(settings["full_gain_m"]) / max(distance, 1e-3)))
    pulses = 1 + cue.urgency + (1 if distance < 2.0 else 0)
    pulse_n, gap_n = int(settings["pulse_s"] * rate), int(settings["gap_s"] * rate)
    t = np.arange(pulse_n) / rate
    fade = np.minimum(1.0, np.minimum(t, t[::-1]) / 0.005)  # 5 ms ramps: no clicks
    parts = []
    for i in range(pulses):
        frequency = base * (1.5 if cue.urgency == CRITICAL and i % 2 else 1.0)
        parts.append(np.sin(2 * np.pi * frequency * t) * fade)
        parts.append(np.zeros(gap_n))
    mono = np.concatenate(parts) * gain
    left, right = pan_gains(cue.bearing_deg)
    return np.stack((mono * left, mono * right), axis=1).astype(np.float32)


# A stop (Ctrl-C, the launcher's SIGINT to the node's process group) reaches a running espeak-ng as well.
STOP_SIGNALS = (-signal.SIGINT, -signal.SIGTERM)


class SpeechStopped(RuntimeError):
    """espeak-ng ended by the signal that stops this process: no failure to report, the stop is under way."""


def speech(text: str, language: str, rate: int) -> np.ndarray:
    """Mono float32 speech from espeak-ng, resampled to `rate`."""
    if shutil.which("espeak-ng") is None:
        raise RuntimeError("espeak-ng is not installed (apt-get install espeak-ng): cues cannot be spoken")
    try:
        wav = subprocess.run(
            ["espeak-ng", "-v", ESPEAK_VOICES[language], "-s", "190", "--stdout", text],
            capture_output=True,
            timeout=10,
            check=True,
        ).stdout
    except subprocess.CalledProcessError as error:
        if error.returncode in STOP_SIGNALS:  # the stop of the node's process group reached espeak-ng too
            raise SpeechStopped(f"{text!r} not spoken: the stop ({signal.Signals(-error.returncode).name})") from error
        raise
    with wave.open(io.BytesIO(wav)) as w:
        source_rate = w.getframerate()
        samples = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16).astype(np.float32) / 32768
    if source_rate != rate and len(samples):
        positions = np.arange(0, len(samples), source_rate / rate)
        samples = np.interp(positions, np.arange(len(samples)), samples).astype(np.float32)
    return samples


def render(cue: Cue, language: str, settings: dict[str, Any], speak: bool = True) -> np.ndarray:
    """The whole sound of a cue: earcon (not for system cues) then speech."""
    rate = int(settings["sample_rate"])
    parts = [] if cue.kind == KIND_SYSTEM else [earcon(cue, settings), np.zeros((int(0.05 * rate), 2), np.float32)]
    if speak:
        voice = speech(cue.text, language, rate) * 0.8
        parts.append(np.stack((voice, voice), axis=1) * math.sqrt(0.5))
    return np.concatenate(parts).astype(np.float32) if parts else np.zeros((0, 2), np.float32)


class Sink(Protocol):
    def play(self, samples: np.ndarray, at_s: float, interrupt: bool) -> None: ...

    def close(self) -> None: ...


class WavSink:
    """The run's sound as one stereo 16-bit WAV: each cue at its time, silence between.

    Written as it comes, so memory stays flat over hours and the file is whole
    at any moment (its header is patched after every cue), even if the process
    is killed. An interruption cuts the clip before it (the file is truncated).
    """

    HEADER = 44
    FRAME = 4  # bytes per stereo 16-bit sample

    def __init__(self, path: str | Path, rate: int) -> None:
        self.path = Path(path)
        self.rate = rate
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = self.path.open("wb+")
        self._t0: float | None = None
        self._begin = 0  # where the newest clip starts, in samples
        self._end = 0  # samples in the file
        self._patch()

    def play(self, samples: np.ndarray, at_s: float, interrupt: bool) -> None:
        self._t0 = at_s if self._t0 is None else self._t0
        start = int(round((at_s - self._t0) * self.rate))
        if interrupt and self._end > start:
            self._end = max(self._begin, start)
            self._file.truncate(self.HEADER + self._end * self.FRAME)
        start = max(start, self._end)  # no overlap: a clip starts once the one before is over
        self._file.seek(self.HEADER + self._end * self.FRAME)
        silence = start - self._end
        while silence > 0:  # the silence between, a second at a time
            self._file.write(bytes(min(silence, self.rate) * self.FRAME))
            silence -= self.rate
        self._file.write((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())
        self._begin, self._end = start, start + len(samples)
        self._patch()

    def _patch(self) -> None:
        data = self._end * self.FRAME
        self._file.seek(0)
        self._file.write(
            b"RIFF" + struct.pack("<I", 36 + data) + b"WAVEfmt "
            + struct.pack("<IHHIIHH", 16, 1, 2, self.rate, self.rate * self.FRAME, self.FRAME, 16)
            + b"data" + struct.pack("<I", data)
        )  # fmt: skip
        self._file.flush()

    def close(self) -> None:
        if not self._file.closed:
            self._patch()
            self._file.close()

    def __str__(self) -> str:
        return f"WAV file {self.path}"


class DeviceSink:
    """The sound device through PortAudio: one output stream whose callback plays the queued clips.

    `play` only queues (nothing blocks the caller); an interrupting clip drops what waits and cuts what
    plays at the next callback, so the critical cue is heard one block (BLOCK frames) plus the device's
    latency after it is played. A stream that stopped (the device is gone) makes `play` raise, so the
    player can hand over to the WAV file.
    """

    BLOCK = 256  # frames per callback: 11.6 ms at 22050 Hz

    def __init__(self, rate: int, device: int | str | None = None, sd: Any = None) -> None:
        """`sd`: the sounddevice module (default: imported), or an object with its OutputStream API."""
        if sd is None:
            import sounddevice as sd
        self.rate = rate
        self._lock = threading.Lock()
        self._clips: deque[np.ndarray] = deque()
        self._playing: np.ndarray | None = None
        self._position = 0
        self._idle = threading.Condition(self._lock)
        self._cut_asked: float | None = None  # when an interrupt was asked (perf_counter), until it is heard
        self.cut_in_s: list[float] = []  # interrupt asked -> its first sample at the DAC, measured
        self.problems: list[str] = []  # PortAudio's status flags (underflows), as they came
        self.frames_played = 0  # of the clips (silence between them not counted)
        self.stream = sd.OutputStream(
            samplerate=rate, channels=2, dtype="float32", blocksize=self.BLOCK, latency="low",
            callback=self._callback, device=device,
        )  # fmt: skip
        self.stream.start()

    @staticmethod
    def available() -> bool:
        try:
            import sounddevice

            return sounddevice.query_devices(kind="output") is not None
        except Exception:  # no PortAudio, no device: the WAV sink takes over
            return False

    def play(self, samples: np.ndarray, at_s: float, interrupt: bool) -> None:
        if not self.stream.active:
            raise RuntimeError("the sound device stopped playing")
        clip = np.ascontiguousarray(samples, dtype=np.float32).reshape(-1, 2)
        with self._lock:
            if interrupt:
                self._clips.clear()
                self._playing, self._position = None, 0
                self._cut_asked = time.perf_counter()
            self._clips.append(clip)

    def _callback(self, out: np.ndarray, frames: int, when: Any, status: Any) -> None:
        # PortAudio's own thread, against the clock: no allocation beyond slicing, no waiting but the lock.
        if status:
            self.problems.append(str(status))
        filled = 0
        with self._lock:
            while filled < frames:
                if self._playing is None:
                    if not self._clips:
                        break
                    self._playing, self._position = self._clips.popleft(), 0
                    if self._cut_asked is not None:  # the interrupting clip starts in this block
                        to_dac = max(0.0, when.outputBufferDacTime - when.currentTime) + filled / self.rate
                        self.cut_in_s.append(time.perf_counter() - self._cut_asked + to_dac)
                        self._cut_asked = None
                take = min(frames - filled, len(self._playing) - self._position)
                out[filled : filled + take] = self._playing[self._position : self._position + take]
                filled += take
                self._position += take
                self.frames_played += take
                if self._position >= len(self._playing):
                    self._playing = None
            if self._playing is None and not self._clips:
                self._idle.notify_all()
        out[filled:] = 0.0

    def drained(self, timeout_s: float) -> bool:
        """Waits until every queued clip has been played; False at the timeout (or a stopped stream)."""
        with self._idle:
            return self._idle.wait_for(
                lambda: (self._playing is None and not self._clips) or not self.stream.active, timeout_s
            )

    def close(self, timeout_s: float = 3.0) -> None:
        """What is queued plays out (at most `timeout_s`), then the stream closes."""
        drained = False
        try:
            drained = self.drained(timeout_s)
        finally:
            if drained:
                self.stream.stop()  # plays out what the device still holds
            else:
                self.stream.abort()  # a stuck device: stop() could wait on it
            self.stream.close()

    def __str__(self) -> str:
        return "the sound device"


class AudioPlayer:
    """Renders and plays cues in a thread of its own; `say` returns at once."""

    def __init__(
        self,
        sink: Sink,
        language: str,
        settings: dict[str, Any],
        speak: bool = True,
        on_error: Callable[[str], None] | None = None,
        fallback: Callable[[], Sink] | None = None,
    ) -> None:
        """`fallback`: makes the sink that takes over, once, when `sink` fails (a sound device gone)."""
        self.sink = sink
        self.fallback = fallback
        self.language = language
        self.settings = settings
        self.speak = speak
        self.volume = 1.0  # scales everything played (the navigation node's live `volume`)
        self.on_error = on_error or (lambda message: None)
        self._queue: queue.Queue[Cue | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="audio", daemon=True)
        self._thread.start()

    def say(self, cue: Cue) -> None:
        if cue.interrupts:
            self._drop_waiting()  # what waits is older and less urgent than this
        self._queue.put(cue)

    def _drop_waiting(self) -> None:
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
            self._queue.task_done()

    def played(self, timeout_s: float) -> bool:
        """Waits until every cue said so far is played (or dropped, or failed); False at the timeout."""
        done = self._queue.all_tasks_done
        with done:
            return done.wait_for(lambda: self._queue.unfinished_tasks == 0, timeout_s)

    def _run(self) -> None:
        while (cue := self._queue.get()) is not None:
            try:
                try:
                    samples = render(cue, self.language, self.settings, self.speak)
                except SpeechStopped:  # a stop (its own cue, "Navigation stopped", says so): no error line, and
                    samples = render(cue, self.language, self.settings, speak=False)  # the earcon still sounds
                self._play(samples * self.volume, cue)
            except Exception as error:  # the wearer must not lose later cues to one failure; say it
                self.on_error(f"audio failed for {cue.text!r}: {error}")
            finally:
                self._queue.task_done()

    def _play(self, samples: np.ndarray, cue: Cue) -> None:
        try:
            self.sink.play(samples, cue.time, cue.interrupts)
        except Exception as error:
            if self.fallback is None:
                raise
            make, self.fallback = self.fallback, None
            try:
                self.sink.close()
            except Exception:  # it is broken already; what matters is the sink that takes over
                pass
            self.sink = make()
            self.on_error(f"sound output failed ({error}): speech and earcons now go to {self.sink}")
            self.sink.play(samples, cue.time, cue.interrupts)

    def close(self, timeout_s: float = 5.0, last: Cue | None = None) -> None:
        """Stop: what is still waiting is dropped (the run is over), what is playing ends, then `last` plays."""
        self._drop_waiting()
        if last is not None:
            self._queue.put(last)
        self._queue.put(None)
        self._thread.join(timeout_s)
        try:
            self.sink.close()
        except Exception as error:  # a device gone at the very end: nothing left to play, but say it
            self.on_error(f"closing the sound output failed: {error}")
