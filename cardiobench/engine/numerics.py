"""Numerics: which kernels compute a run, a mode that makes them the same on
every x86-64 CPU, and the signature every record carries.

A CPU's instruction set changes float rounding: ATen dispatches to AVX2 or
AVX-512 kernels, oneDNN and MKL pick code paths per CPU, and thread counts
change how reductions split. Training amplifies the last bit into whole
metric points, so a run is bit-identical only where all of these agree.

``native``
    This machine's fastest kernels (torch's defaults). Same machine, same
    seed: bit-identical predictions.
``portable``
    ATen's baseline kernels (``ATEN_CPU_CAPABILITY=default``), oneDNN and
    NNPACK off, MKL in its conditional-numerical-reproducibility branch
    ``COMPATIBLE`` (``MKL_CBWR``), a fixed intra-op thread count (2 unless
    ``engine.threads`` says otherwise), TF32 off and cuDNN deterministic on
    GPUs. Same torch build and C library, any x86-64 CPU (Intel or AMD, AVX2
    or AVX-512): bit-identical predictions.

ATen and MKL read their settings once, at their first computation, so a
process must choose before torch computes anything: :func:`prepare` sets the
environment (it imports nothing; the command line calls it at start-up) and
:func:`apply` sets torch's flags at the start of every run and refuses,
clearly, when the process has already computed with other kernels. This
module imports torch only inside its functions, so it can run before torch
is imported.
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import os
import platform
import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from cardiobench.errors import ConfigError

MODES = ("native", "portable")
PORTABLE_ENV = {"ATEN_CPU_CAPABILITY": "default", "MKL_CBWR": "COMPATIBLE"}
PORTABLE_THREADS = 2  # a 2-core CI machine's cores; the same bits on one core or many (OpenMP and MKL are told exactly 2)

# MKL's CNR constants (mkl_service.h): the branch query and the COMPATIBLE branch.
_MKL_CBWR_BRANCH, _MKL_CBWR_COMPATIBLE, _MKL_CBWR_ERR_MODE_CHANGE_FAILURE = 1, 3, -8
_MKL_BRANCHES = {0: "off", 1: "off", 2: "auto", 3: "COMPATIBLE", 4: "SSE2", 6: "SSSE3", 7: "SSE4_1", 8: "SSE4_2", 9: "AVX", 10: "AVX2", 12: "AVX512", 14: "AVX512_E1"}


def check_mode(mode: Any) -> str:
    """``mode`` if it is a known numerics mode, else a :class:`ConfigError`."""
    if mode not in MODES:
        raise ConfigError(f"engine.numerics must be one of {', '.join(MODES)}, got {mode!r} (native: this machine's fastest kernels; portable: bit-identical on any x86-64 CPU).")
    return mode


def check_threads(threads: Any) -> int | None:
    if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int) or threads < 1):
        raise ConfigError(f"engine.threads must be a whole number >= 1 or null (torch's default under native numerics, {PORTABLE_THREADS} under portable), got {threads!r}.")
    return threads


def configured(values: Mapping[str, Any]) -> tuple[str, int | None]:
    """A run config's ``engine.numerics`` and ``engine.threads``, checked (native for configs that predate them)."""
    engine = values.get("engine") or {}
    return check_mode(engine.get("numerics", "native")), check_threads(engine.get("threads"))


def prepare(mode: str) -> None:
    """Set what ATen and MKL read at their first computation (before torch is
    imported, or at least before it computes). Native leaves the environment as it is."""
    if check_mode(mode) == "portable":
        os.environ.update(PORTABLE_ENV)


def apply(mode: str, threads: int | None = None) -> None:
    """Make this process compute with ``mode``'s kernels and ``threads``
    intra-op threads (None: the mode's default). Portable numerics in a
    process whose ATen or MKL already chose other kernels is refused with a
    :class:`ConfigError` saying how to start it right."""
    import torch

    check_mode(mode)
    check_threads(threads)
    native_threads = _torch_default_threads()
    portable = mode == "portable"
    if portable:
        prepare(mode)
        _pin_baseline_kernels()
    torch.backends.mkldnn.enabled = not portable
    torch.backends.nnpack.set_flags(not portable)
    torch.set_num_threads(threads or (PORTABLE_THREADS if portable else native_threads))
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.backends.cudnn.benchmark = False
    torch.backends.cudnn.deterministic = portable
    torch.backends.cudnn.allow_tf32 = not portable  # torch's default: on
    if portable:
        torch.backends.cuda.matmul.allow_tf32 = False  # torch's default too, unless a user turned it on
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # deterministic cuBLAS (read at its first use)


@cache
def _torch_default_threads() -> int:
    """torch's own intra-op thread count, read once, before the first change."""
    import torch

    return torch.get_num_threads()


def _pin_baseline_kernels() -> None:
    import torch

    capability = torch.backends.cpu.get_cpu_capability()  # fixed from here on for this process
    problems = []
    if capability != "DEFAULT":
        problems.append(f"ATen already dispatches to its {capability} kernels")
    mkl = _mkl()
    if mkl is not None and mkl.mkl_serv_cbwr_set(_MKL_CBWR_COMPATIBLE) == _MKL_CBWR_ERR_MODE_CHANGE_FAILURE:
        problems.append(f"MKL already runs its {_mkl_branch()} branch")
    if problems:
        raise ConfigError(
            f"Portable numerics must be chosen before torch computes anything in a process, but {' and '.join(problems)} "
            f"(something computed with torch before this run started). Start the run in a fresh process (the cardiobench command does), "
            f"or, in Python, call cardiobench.engine.numerics.prepare('portable') first thing, or export "
            f"{' '.join(f'{k}={v}' for k, v in PORTABLE_ENV.items())} before starting Python."
        )


@cache
def _mkl() -> Any:
    """MKL's service functions inside libtorch, or None (a build without MKL)."""
    import torch

    try:
        lib = ctypes.CDLL(str(Path(torch.__file__).parent / "lib" / "libtorch_cpu.so"))
        for name in ("mkl_serv_cbwr_get", "mkl_serv_cbwr_set"):
            getattr(lib, name).argtypes, getattr(lib, name).restype = [ctypes.c_int], ctypes.c_int
    except (OSError, AttributeError):
        return None
    return lib


def _mkl_branch() -> str | None:
    mkl = _mkl()
    if mkl is None:
        return None
    code = mkl.mkl_serv_cbwr_get(_MKL_CBWR_BRANCH)
    return _MKL_BRANCHES.get(code, str(code))


@cache
def _cpu() -> dict[str, Any]:
    """The CPU's model, vendor and the instruction-set extensions that change kernels."""
    info = {"model": platform.processor() or platform.machine(), "vendor": None, "extensions": []}
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return info
    fields = dict(re.findall(r"^(model name|vendor_id|flags)\s*:\s*(.*)$", text, re.M)[:3])
    flags = set(fields.get("flags", "").split())
    info["model"] = fields.get("model name", info["model"])
    info["vendor"] = fields.get("vendor_id")
    info["extensions"] = [f for f in ("fma", "avx2", "avx512f", "avx512_bf16", "avx512_fp16", "amx_tile") if f in flags]
    return info


def _blas() -> dict[str, Any]:
    import torch

    shown = torch.__config__.show()
    if torch.backends.mkl.is_available():
        version = re.search(r"Math Kernel Library Version ([\d.]+)", shown)
        return {"library": f"MKL {version.group(1) if version else '?'}", "reproducibility": _mkl_branch()}
    blas = re.search(r"BLAS_INFO=(\w+)", shown)
    return {"library": blas.group(1) if blas else "unknown", "reproducibility": None}


def _cuda(device: Any) -> dict[str, Any] | None:
    import torch

    if getattr(device, "type", None) != "cuda":
        return None
    return {
        "device": torch.cuda.get_device_name(device),
        "capability": ".".join(map(str, torch.cuda.get_device_capability(device))),
        "cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version(),
        "tf32_matmul": torch.backends.cuda.matmul.allow_tf32,
        "tf32_cudnn": torch.backends.cudnn.allow_tf32,
        "cudnn_deterministic": torch.backends.cudnn.deterministic,
        "cudnn_benchmark": torch.backends.cudnn.benchmark,
    }


def signature(mode: str, device: Any = None) -> dict[str, Any]:
    """What made this process's numbers: the mode, the CPU, the kernels ATen,
    oneDNN and the BLAS use, threads, determinism and, on a GPU, its settings;
    ``key`` hashes what decides the bits (under portable numerics, the CPU
    itself is not part of it)."""
    import torch

    libc = " ".join(platform.libc_ver()).strip() or None
    out = {
        "mode": mode,
        "cpu": _cpu(),
        "aten_capability": torch.backends.cpu.get_cpu_capability(),
        "onednn": bool(torch.backends.mkldnn.is_available() and torch.backends.mkldnn.enabled),
        "nnpack": bool(torch.backends.nnpack.is_available() and torch._C._get_nnpack_enabled()),
        "blas": _blas(),
        "threads": torch.get_num_threads(),
        "deterministic_algorithms": torch.are_deterministic_algorithms_enabled(),
        "libc": libc,
        "torch": torch.__version__,
        "cuda": _cuda(device),
    }
    decisive = {k: v for k, v in out.items() if k != "cpu"}
    if not portable_signature(out):  # native kernels depend on the CPU that ran them
        decisive["cpu"] = out["cpu"]
    out["key"] = hashlib.blake2b(json.dumps(decisive, sort_keys=True).encode(), digest_size=6).hexdigest()
    return out


def portable_signature(sig: dict[str, Any]) -> bool:
    """Whether a signature describes CPU-independent kernels: portable mode that
    took hold (baseline ATen, no oneDNN or NNPACK, MKL COMPATIBLE or no MKL), on the CPU."""
    blas = sig.get("blas") or {}
    return (
        sig.get("mode") == "portable"
        and sig.get("aten_capability") == "DEFAULT"
        and not sig.get("onednn")
        and not sig.get("nnpack")
        and (blas.get("reproducibility") == "COMPATIBLE" or not str(blas.get("library", "")).startswith("MKL"))
        and sig.get("cuda") is None
    )


def describe(sig: dict[str, Any]) -> str:
    """One line for logs and run pages, e.g. 'portable (a1b2c3d4e5f6): ATen DEFAULT, oneDNN off, MKL 2024.2 COMPATIBLE, 2 threads'."""
    blas = sig.get("blas") or {}
    parts = [
        f"ATen {sig.get('aten_capability')}",
        f"oneDNN {'on' if sig.get('onednn') else 'off'}",
        f"{blas.get('library')}{' ' + blas['reproducibility'] if blas.get('reproducibility') else ''}",
        f"{sig.get('threads')} thread{'s' if sig.get('threads') != 1 else ''}",
    ]
    cpu = sig.get("cpu") or {}
    where = f" on {cpu.get('model')}" if cpu.get("model") else ""
    if sig.get("cuda"):
        where += f", {sig['cuda']['device']}"
    return f"{sig.get('mode')} ({sig.get('key')}): {', '.join(parts)}{where}"
