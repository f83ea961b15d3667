"""Node processes for tests: start one, read its log as it comes, stop it with Ctrl-C."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time


def node_command(module: str, *extra: str, **parameters: object) -> list[str]:
    """`python -m aria_nav_ros.nodes.<module> [extra...] --ros-args -p k:=v ...`."""
    args = [sys.executable, "-m", f"aria_nav_ros.nodes.{module}", *extra, "--ros-args"]
    for key, value in parameters.items():
        text = str(value).lower() if isinstance(value, bool) else str(value)
        args += ["-p", f"{key}:={text}"]
    return args


class NodeProcess:
    """A child process whose stderr is collected line by line in the background."""

    def __init__(self, command: list[str], env: dict[str, str]) -> None:
        self.process = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append(line.rstrip("\n"))

    @property
    def log(self) -> str:
        return "\n".join(self.lines)

    def count(self, text: str) -> int:
        return sum(text in line for line in list(self.lines))

    def wait_for(self, text: str, times: int = 1, timeout_s: float = 30.0) -> bool:
        end = time.monotonic() + timeout_s
        while time.monotonic() < end:
            if self.count(text) >= times:
                return True
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        return self.count(text) >= times

    def stop(self, timeout_s: float = 15.0) -> int:
        """Ctrl-C, as a user would; the exit code (the test fails if it hangs)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        code = self.process.wait(timeout=timeout_s)
        self._reader.join(5)
        return code
