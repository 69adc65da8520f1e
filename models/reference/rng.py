"""The sampler's counter-based RNG (part of the sampler contract; see models/README.md).

All arithmetic is on unsigned 32-bit integers (mod 2^32). `uniform` returns a float64 in (0, 1)
with 53 random bits. The vectorised numpy form is bit-identical to the scalar form (tested in
models/reference/test_reference.py).
"""
from __future__ import annotations

import numpy as np

M = 0xFFFFFFFF
RANDOM_STREAM = 0xFFFFFFFF  # stream id used for `random` remasking


def h32(x: int) -> int:
    x &= M
    x ^= x >> 16
    x = (x * 0x7FEB352D) & M
    x ^= x >> 15
    x = (x * 0x846CA68B) & M
    x ^= x >> 16
    return x


def uniform(seed: int, step: int, pos: int, stream: int) -> float:
    """seed: uint32; step: global step; pos: absolute position in the full sequence (prompt
    included); stream: token id for Gumbel noise, 0xFFFFFFFF for random remasking."""
    h = h32(seed ^ 0x9E3779B9)
    h = h32(h ^ step)
    h = h32(h ^ pos)
    h = h32(h ^ stream)
    hi = h32(h ^ 0x85EBCA6B)
    lo = h32(hi ^ 0xC2B2AE35)
    return ((hi >> 5) * 67108864 + (lo >> 6) + 0.5) / 9007199254740992.0


def _h32_np(x: np.ndarray) -> np.ndarray:
    # uint64 holding uint32 values: products fit in 64 bits, then mask back to 32.
    m = np.uint64(M)
    x = x & m
    x ^= x >> np.uint64(16)
    x = (x * np.uint64(0x7FEB352D)) & m
    x ^= x >> np.uint64(15)
    x = (x * np.uint64(0x846CA68B)) & m
    x ^= x >> np.uint64(16)
    return x


def uniform_np(seed: int, step: int, pos: np.ndarray, stream: np.ndarray) -> np.ndarray:
    """Vectorised `uniform`: pos and stream broadcast against each other; returns float64."""
    pos = np.asarray(pos, dtype=np.uint64)
    stream = np.asarray(stream, dtype=np.uint64)
    h = _h32_np(np.uint64((seed & M) ^ 0x9E3779B9))
    h = _h32_np(h ^ np.uint64(step & M))
    h = _h32_np(h ^ pos)
    h = _h32_np(h ^ stream)
    hi = _h32_np(h ^ np.uint64(0x85EBCA6B))
    lo = _h32_np(hi ^ np.uint64(0xC2B2AE35))
    # (hi>>5)*2^26 + (lo>>6) < 2^53 is exact in float64; "+ 0.5" rounds exactly as the scalar form
    n = ((hi >> np.uint64(5)) * np.uint64(67108864) + (lo >> np.uint64(6))).astype(np.float64)
    return (n + 0.5) / 9007199254740992.0
