"""Fault drills: a lost GPU made on purpose (inject_fault), to hear what the wearer hears when one is really lost;
a drawing that fails, to check that the annotated images' failure never silences the detections.

Only where allowed at start (allow_fault_injection), so that a stray `ros2 param set` cannot blind a wearer.
"""

from __future__ import annotations

from collections.abc import Callable

GPU_LOST = "gpu_lost"
DRAWING_FAILS = "drawing_fails"
FAULTS = ("", GPU_LOST, DRAWING_FAILS)


class FaultDrill:
    def __init__(self, allowed: bool, said: Callable[[str], None]) -> None:
        self.allowed = allowed
        self.fault = ""
        self.said = said  # each change of fault, for the log

    def inject(self, name: str, fault: object) -> str:
        """Why `fault` cannot be injected ("" once it is); `name` is the parameter's (a live setting's apply)."""
        fault = str(fault)
        if fault and not self.allowed:
            return f"{name}: fault injection is off (allow_fault_injection:=true at start turns it on)"
        if fault not in FAULTS:
            return f"{name} {fault!r}: one of {', '.join(repr(f) for f in FAULTS)}"
        if fault or self.fault:
            self.said(f"injected fault: {fault or 'none'}")
        self.fault = fault
        return ""

    def strike(self) -> None:
        """At a frame's start: fail it as the injected fault would."""
        if self.fault == GPU_LOST:
            raise RuntimeError("CUDA error: unspecified launch failure (injected: inject_fault=gpu_lost)")

    def strike_drawing(self) -> None:
        """Before a frame's drawings: fail them as a broken drawing would."""
        if self.fault == DRAWING_FAILS:
            raise RuntimeError("drawing failed (injected: inject_fault=drawing_fails)")
