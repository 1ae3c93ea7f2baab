"""The OpenBLAS behind Debian's torch 1.13 (libblas.so.3 -> openblas-pthread): its kernels and threads.

Imported by every PyTorch script in bench/ *before* torch, because OpenBLAS picks its kernels when
the library loads. Debian's OpenBLAS 0.3.21 does not recognise recent Xeons (family 6 model 207 here)
and falls back to its generic "Prescott" SSE3 kernels, several times slower than it can be: PyTorch
measured that way is unfairly slow. The benchmark drivers (bench/isa.js) set OPENBLAS_CORETYPE for
the ISA they measure; a script started by hand gets the best kernels this CPU runs, as bench_gemm
(bench/gemm.cpp) does for itself.
"""

import ctypes
import os

# The OpenBLAS core types of the x86 levels, best first, with the /proc/cpuinfo flags they need.
_X86_CORETYPES = (("SkylakeX", {"avx512f"}), ("Haswell", {"avx2", "fma"}))


def _cpu_flags():
    try:
        with open("/proc/cpuinfo", encoding="utf8") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def choose_fair_kernels():
    """Sets OPENBLAS_CORETYPE to the best x86 level this CPU has, unless it is already set (the
    benchmark drivers set it) or the CPU is not x86 (OpenBLAS's own detection knows ARM cores).
    Call before importing torch."""
    if "OPENBLAS_CORETYPE" in os.environ:
        return
    flags = _cpu_flags()
    for coretype, needs in _X86_CORETYPES:
        if needs <= flags:
            os.environ["OPENBLAS_CORETYPE"] = coretype
            return


def _library():
    try:
        lib = ctypes.CDLL("libopenblas.so.0")
    except OSError:
        return None
    if hasattr(lib, "openblas_get_corename"):
        lib.openblas_get_corename.restype = ctypes.c_char_p
    return lib


def threads():
    """OpenBLAS's thread count, or None without OpenBLAS.

    Debian's torch is built with BLAS=generic, so torch.set_num_threads() does not reach OpenBLAS:
    its GEMMs use OpenBLAS's own default (all cores) whatever torch.get_num_threads() says.
    """
    lib = _library()
    return lib.openblas_get_num_threads() if lib and hasattr(lib, "openblas_get_num_threads") else None


def set_threads(n):
    lib = _library()
    if lib and hasattr(lib, "openblas_set_num_threads"):
        lib.openblas_set_num_threads(n)


def corename():
    """The kernels OpenBLAS chose (e.g. 'SkylakeX', 'Haswell', 'Prescott'), or None without OpenBLAS."""
    lib = _library()
    if not lib or not hasattr(lib, "openblas_get_corename"):
        return None
    return lib.openblas_get_corename().decode()


def coretype_mismatch():
    """A message when OPENBLAS_CORETYPE asked for kernels OpenBLAS did not load, else None."""
    asked, chosen = os.environ.get("OPENBLAS_CORETYPE"), corename()
    if asked and chosen and asked.lower() != chosen.lower():
        return f"OPENBLAS_CORETYPE={asked} but OpenBLAS runs its {chosen} kernels"
    return None
