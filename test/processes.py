"""Node processes for tests: start one, read its log as it comes, stop it with Ctrl-C.

Each runs in a process group of its own, tied to the test process (it dies
with it, aria_nav_ros.graph.process), and is stopped and if need be killed by group,
so that nothing it started lives on; conftest checks that nothing did.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

from aria_nav_ros.graph.process import child_env

# Launcher tests' settings, light for a 2-core machine: small inputs, no depth, one torch thread, sound to a file.
LIGHT = ["--device", "cpu", "--rgb-imgsz", "160", "--slam-imgsz", "160", "--torch-threads", "1", "--depth-model", "",
         "--audio-sink", "wav"]  # fmt: skip


def launcher_command(*arguments: object) -> list[str]:
    """`python -m aria_nav_ros.launcher ARGUMENTS...`."""
    return [sys.executable, "-m", "aria_nav_ros.launcher", *map(str, arguments)]


def node_command(module: str, *extra: str, **parameters: object) -> list[str]:
    """`python -m aria_nav_ros.nodes.<module> [extra...] --ros-args -p k:=v ...`."""
    args = [sys.executable, "-m", f"aria_nav_ros.nodes.{module}", *extra, "--ros-args"]
    for key, value in parameters.items():
        text = str(value).lower() if isinstance(value, bool) else str(value)
        args += ["-p", f"{key}:={text}"]
    return args


class NodeProcess:
    """A child process whose stderr is collected line by line in the background."""

    def __init__(self, command: list[str], env: dict[str, str], with_stdout: bool = False) -> None:
        if with_stdout:  # both in the same lines
            self.process = spawn(command, env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        else:  # stdout left to pytest
            self.process = spawn(command, env, stderr=subprocess.PIPE, text=True)
        self._stream = self.process.stdout if with_stdout else self.process.stderr
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self._stream is not None
        for line in self._stream:
            self.lines.append(line.rstrip("\n"))

    @property
    def log(self) -> str:
        return "\n".join(self.lines)

    def count(self, text: str) -> int:
        return sum(text in line for line in list(self.lines))

    def wait_for(self, text: str | tuple[str, ...], times: int = 1, timeout_s: float = 30.0) -> bool:
        """Whether `text` (or any of several) has been written `times` times by the end of `timeout_s`."""
        texts = (text,) if isinstance(text, str) else text

        def seen() -> bool:
            return any(self.count(t) >= times for t in texts)

        end = time.monotonic() + timeout_s
        while time.monotonic() < end:
            if seen():
                return True
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        return seen()

    def ended(self, timeout_s: float) -> int:
        """The exit code of a process that ends by itself within `timeout_s` (stopped, and the test failed,
        if it does not), with every line it wrote read."""
        try:
            return self.process.wait(timeout=timeout_s)
        finally:
            self.stop()

    def stop(self, timeout_s: float = 15.0) -> int:
        """Ctrl-C, as a user would; the exit code (the test fails if it hangs)."""
        code = stop_group(self.process, timeout_s)
        self._reader.join(5)
        return code


def spawn(command: list[str], env: dict[str, str] | None = None, **popen: object) -> subprocess.Popen:
    """A child in a process group of its own that dies with this process."""
    return subprocess.Popen(command, env=child_env(env), start_new_session=True, **popen)


def stop_group(process: subprocess.Popen, timeout_s: float = 15.0, sig: int = signal.SIGINT) -> int:
    """Signal the child's process group, wait; past the timeout, SIGKILL the group and fail (or, where a test is
    already failing, add that to its failure rather than hide it)."""
    if process.poll() is None:
        os.killpg(process.pid, sig)
    try:
        return process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired as late:
        kill_group(process.pid)
        process.wait()
        said = f"{process.args} did not stop within {timeout_s:g} s of {signal.Signals(sig).name}"
        if late.__context__ is not None:  # called while a test's failure is on its way: that failure says why
            late.__context__.add_note(said)
            return process.returncode
        raise AssertionError(said) from late


def kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass
