"""What a process's CUDA context holds beyond our tensors, and the one knob that shrinks it.

A context reserves local memory for every thread the GPU can hold at once: the per-thread stack limit (1 KiB by
default) times 2048 threads times the multiprocessors (132 on an H100 or H200), about 264 MiB before any model
is loaded. The driver grows that reservation when a kernel needs more, so a smaller limit costs nothing in
correctness: the engine sets it before warming up, and each kernel's own need (cuDNN and cuBLAS kernels use a
few hundred bytes) is what remains. ARIA_NAV_CUDA_STACK=default leaves the driver's limit, to measure.

The driver API is reached with ctypes (libcuda is there wherever CUDA runs); the calls act on the context current
in the calling thread, which torch made current by initialising the device.
"""

from __future__ import annotations

import ctypes
import os

import torch

STACK_ENV = "ARIA_NAV_CUDA_STACK"
# The limit the engine sets; kernels that need more get it from the driver. 0 B rather than 256: 66 MB less a
# process on an H100, the graphs captured and every frame processed (bench/results/gpu_memory_stack_h100.json,
# graph_gpu_repeat_stack0_h100.json).
STACK_BYTES = 0
_CU_LIMIT_STACK_SIZE = 0  # CUlimit in cuda.h


def _driver() -> ctypes.CDLL | None:
    try:
        return ctypes.CDLL("libcuda.so.1")
    except OSError:
        return None


def stack_limit(device: torch.device) -> int | None:
    """The context's per-thread stack limit in bytes; None without CUDA."""
    driver = _driver()
    if driver is None or device.type != "cuda":
        return None
    with torch.cuda.device(device):
        torch.cuda.init()
        value = ctypes.c_size_t()
        if driver.cuCtxGetLimit(ctypes.byref(value), _CU_LIMIT_STACK_SIZE) != 0:
            return None
        return value.value


def shrink_stack(device: torch.device, limit: int = STACK_BYTES) -> int | None:
    """Lower the context's per-thread stack limit to `limit` bytes (unless ARIA_NAV_CUDA_STACK=default or a
    number); returns the limit in force, None where there is no CUDA driver. A failure leaves the driver's."""
    if device.type != "cuda":
        return None
    setting = os.environ.get(STACK_ENV, "")
    if setting == "default":
        return stack_limit(device)
    if setting:
        limit = int(setting)
    driver = _driver()
    if driver is None:
        return None
    with torch.cuda.device(device):
        torch.cuda.init()
        torch.zeros(1, device=device)  # the primary context exists and is current in this thread
        driver.cuCtxSetLimit(_CU_LIMIT_STACK_SIZE, ctypes.c_size_t(limit))
    return stack_limit(device)
