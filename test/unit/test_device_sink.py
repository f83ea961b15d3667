"""The real sound-device sink (DeviceSink): against PortAudio's own ALSA null device, and against a stream built to
sounddevice's OutputStream API that keeps real time (no speaker exists here), where a critical cue's cut-in is
measured."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from aria_nav_ros.core.navigation.audio import AudioPlayer, DeviceSink, WavSink
from aria_nav_ros.core.navigation.config import NavigationConfig
from aria_nav_ros.core.navigation.policy import CRITICAL, KIND_HAZARD, WARNING, Cue

RATE = 22050
EARCON = NavigationConfig.load()["earcon"]


class NoFlags:
    """sounddevice.CallbackFlags with nothing set (no underflow)."""

    def __bool__(self) -> bool:
        return False


class RealTimeStream:
    """sounddevice.OutputStream's API (the parts DeviceSink uses), paced like a device: the callback runs in
    a thread of its own every `blocksize` frames of real time, and what it writes is kept, block by block."""

    LATENCY_S = 0.02  # what a low-latency device adds after the callback

    def __init__(self, samplerate: float, channels: int, dtype: str, blocksize: int, latency: Any, callback, device):
        assert dtype == "float32" and channels == 2 and blocksize > 0
        self.samplerate, self.blocksize, self.callback = samplerate, blocksize, callback
        self.latency = self.LATENCY_S
        self.blocks: list[tuple[float, np.ndarray]] = []  # (perf_counter at the callback, what it wrote)
        self.active = False
        self.closed = False
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self.active = True
        self._thread.start()

    def _run(self) -> None:
        period = self.blocksize / self.samplerate
        tick = time.perf_counter()
        while self.active:
            out = np.full((self.blocksize, 2), np.nan, np.float32)
            now = time.perf_counter()
            when = SimpleNamespace(currentTime=now, outputBufferDacTime=now + self.latency)
            self.callback(out, self.blocksize, when, NoFlags())
            self.blocks.append((now, out))
            tick += period
            time.sleep(max(0.0, tick - time.perf_counter()))

    def stop(self) -> None:
        self.active = False
        if self._thread.is_alive():
            self._thread.join(timeout=2.0)

    def abort(self) -> None:  # the device is gone
        self.stop()

    def close(self) -> None:
        self.closed = True


def device_sink() -> tuple[DeviceSink, RealTimeStream]:
    streams: list[RealTimeStream] = []

    def make(**kwargs) -> RealTimeStream:
        streams.append(RealTimeStream(**kwargs))
        return streams[-1]

    sink = DeviceSink(RATE, sd=SimpleNamespace(OutputStream=make))
    return sink, streams[0]


def tone(value: float, seconds: float) -> np.ndarray:
    return np.full((int(seconds * RATE), 2), value, np.float32)


def test_a_critical_cue_cuts_the_clip_that_plays_at_the_next_block() -> None:
    sink, stream = device_sink()
    sink.play(tone(0.25, 2.0), 0.0, interrupt=False)  # a long sentence
    deadline = time.monotonic() + 5.0
    while not any((block == 0.25).any() for _, block in stream.blocks) and time.monotonic() < deadline:
        time.sleep(0.005)  # until the sentence is heard
    asked = time.perf_counter()
    sink.play(tone(0.75, 0.3), 0.0, interrupt=True)  # "Careful!"
    assert sink.drained(5.0)
    sink.close()
    after = [block for at, block in stream.blocks if at > asked]
    first_critical = next(i for i, block in enumerate(after) if (block == 0.75).any())
    # The interrupt is taken by the very next callback: at most one block of the old clip plays after it.
    assert first_critical <= 1
    assert not any((block == 0.25).any() for block in after[first_critical:])
    [cut_in] = sink.cut_in_s
    print(f"cut-in: {cut_in * 1e3:.1f} ms (block {DeviceSink.BLOCK / RATE * 1e3:.1f} ms + device latency "
          f"{RealTimeStream.LATENCY_S * 1e3:.0f} ms)")  # fmt: skip
    assert cut_in <= DeviceSink.BLOCK / RATE * (first_critical + 1) + RealTimeStream.LATENCY_S + 0.05
    played = np.concatenate([block for _, block in stream.blocks])
    assert (played == 0.75).all(axis=1).sum() == int(0.3 * RATE)  # the critical clip whole, once


def test_clips_play_in_order_without_the_caller_waiting() -> None:
    sink, stream = device_sink()
    clips = [tone(v, 0.1) for v in (0.1, 0.2, 0.3)]
    for clip in clips:
        sink.play(clip, 0.0, interrupt=False)  # returns at once: the callback plays them
    assert sink.drained(5.0)
    sink.close()
    played = np.concatenate([block for _, block in stream.blocks])
    sound = played[(played != 0).any(axis=1)]
    assert np.array_equal(sound, np.concatenate(clips))
    assert sink.frames_played == sum(len(c) for c in clips)
    assert stream.closed


def test_a_device_that_stops_hands_over_to_the_wav_file(tmp_path: Path) -> None:
    sink, stream = device_sink()
    errors: list[str] = []
    wav = tmp_path / "navigation.wav"
    player = AudioPlayer(sink, "en", EARCON, speak=False, on_error=errors.append, fallback=lambda: WavSink(wav, RATE))
    cue = Cue(0.0, KIND_HAZARD, WARNING, "person", 2.0, 0.0, "ahead", ("rgb",), 1, "Person ahead, two meters")
    player.say(cue)
    assert player.played(5.0) and sink.drained(5.0)
    stream.abort()  # headphones pulled out
    player.say(Cue(1.0, KIND_HAZARD, CRITICAL, "car", 1.0, 30.0, "right", ("rgb",), 2, "Careful! Car on the right"))
    assert player.played(5.0)
    player.close()
    assert errors and "sound output failed" in errors[0] and str(wav) in errors[0]
    assert wav.stat().st_size > WavSink.HEADER


REAL_DEVICE_SCRIPT = textwrap.dedent("""
    import json, numpy as np
    from aria_nav_ros.core.navigation.audio import DeviceSink
    assert DeviceSink.available()
    sink = DeviceSink(22050)
    clips = [np.full((2205, 2), v, np.float32) for v in (0.1, 0.2)]
    for clip in clips:
        sink.play(clip, 0.0, interrupt=False)
    sink.play(np.full((2205, 2), 0.9, np.float32), 0.0, interrupt=True)
    drained = sink.drained(10.0)
    sink.close()
    try:
        sink.play(clips[0], 0.0, interrupt=False)
        refused = ""
    except RuntimeError as error:
        refused = str(error)
    print(json.dumps({"drained": drained, "frames": sink.frames_played, "cut_ins": len(sink.cut_in_s),
                      "refused": refused, "problems": sink.problems}))
""")


def test_the_real_sink_plays_through_portaudio_on_the_alsa_null_device(tmp_path: Path) -> None:
    pytest.importorskip("sounddevice", reason="sounddevice is not installed")
    # PortAudio's own ALSA backend, with ALSA's null PCM as the default device (no sound card here): the real
    # stream, its real callback thread, unpaced (the null device takes samples as fast as they come).
    (tmp_path / ".asoundrc").write_text("pcm.!default { type null }\n")
    env = {**os.environ, "HOME": str(tmp_path)}
    result = subprocess.run([sys.executable, "-c", REAL_DEVICE_SCRIPT], env=env, capture_output=True, text=True,
                            timeout=60)  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["drained"]
    # What the interrupt left: the critical clip, after whatever of the first two had been taken already.
    assert 2205 <= report["frames"] <= 3 * 2205 and report["cut_ins"] == 1
    assert report["refused"] == "the sound device stopped playing"
    assert report["problems"] == []


# Ends by the signal even where this session started with it ignored (a shell cannot undo that for its child).
_SIGNALLED = "import os, signal; signal.signal(signal.{0}, signal.SIG_DFL); os.kill(os.getpid(), signal.{0})"


def _stand_in_espeak(folder: Path, body: str) -> str:
    """An espeak-ng that ends as `body` says (what the real one does at a stop or a fault); PATH with it first."""
    folder.mkdir()
    program = folder / "espeak-ng"
    program.write_text(f"#!/bin/sh\n{body}\n")
    program.chmod(0o755)
    return f"{folder}{os.pathsep}{os.environ['PATH']}"


@pytest.mark.parametrize(
    ("body", "said"),
    [
        (f"exec {sys.executable} -c '{_SIGNALLED.format('SIGINT')}'", False),
        (f"exec {sys.executable} -c '{_SIGNALLED.format('SIGTERM')}'", False),
        ("echo 'voice missing' >&2; exit 1", True),
    ],
    ids=["stopped by SIGINT", "stopped by SIGTERM", "failed"],
)
def test_speech_ended_by_the_stop_is_no_error_but_a_failure_is_said(tmp_path: Path, monkeypatch, body, said) -> None:
    """The launcher stops a node by its process group, so a cue being synthesised then loses its espeak-ng to
    the same signal: the stop is under way, not an audio failure to log (its earcon still plays). Any other end
    of espeak-ng is said."""
    monkeypatch.setenv("PATH", _stand_in_espeak(tmp_path / "bin", body))
    errors: list[str] = []
    player = AudioPlayer(WavSink(tmp_path / "n.wav", RATE), "en", EARCON, speak=True, on_error=errors.append)
    player.say(Cue(0.0, KIND_HAZARD, WARNING, "person", 2.0, 0.0, "ahead", ("rgb",), 1, "Person ahead, two meters"))
    assert player.played(10.0)
    player.close()
    assert bool(errors) == said, errors
    if not said:  # the speech is lost with its espeak-ng, never the earcon before it
        assert (tmp_path / "n.wav").stat().st_size > WavSink.HEADER
    if said:
        assert "audio failed for 'Person ahead, two meters'" in errors[0] and "exit status 1" in errors[0], errors


def test_a_sink_that_fails_after_a_stopped_speech_is_said_and_the_player_goes_on(tmp_path: Path, monkeypatch) -> None:
    """The earcon of a cue whose speech a stop ended goes through the same path as any clip: a sink that fails
    then is said, and the player still takes the next cue."""
    monkeypatch.setenv(
        "PATH", _stand_in_espeak(tmp_path / "bin", f"exec {sys.executable} -c '{_SIGNALLED.format('SIGINT')}'")
    )

    class Unplugged:
        def play(self, samples: np.ndarray, at_s: float, interrupt: bool) -> None:
            raise RuntimeError("the sound device is gone")

        def close(self) -> None:
            pass

    errors: list[str] = []
    player = AudioPlayer(Unplugged(), "en", EARCON, speak=True, on_error=errors.append)
    for text in ("Person ahead, two meters", "Person on the left, three meters"):
        player.say(Cue(0.0, KIND_HAZARD, WARNING, "person", 2.0, 0.0, "ahead", ("rgb",), 1, text))
    assert player.played(10.0)
    player.close()
    assert len(errors) == 2 and all("the sound device is gone" in e for e in errors), errors
