"""Seeded uniform numbers, one fixed-size block of patients at a time.

Each block of `BLOCK_SIZE` patients has its own generator seeded from (seed, block index)
and always draws the same (BLOCK_SIZE, N_UNIFORMS) matrix, so a patient's numbers depend only
on the seed and the patient's position: output is identical whatever the write chunk size
(and a smaller batch is a prefix of a larger one). Every random quantity of a journey is a
deterministic transform of one column of that matrix, handed out in code order.
"""

from __future__ import annotations

import numpy as np

BLOCK_SIZE = 1000
N_UNIFORMS = 700


FLOAT32_STEP = np.float32(1.0 / 16777216.0)


def block_bits(seed: int, stream: int, block: int) -> np.ndarray:
    """The (BLOCK_SIZE, N_UNIFORMS) 24-bit integers behind
    `default_rng([seed, stream, block]).random((BLOCK_SIZE, N_UNIFORMS), dtype=np.float32)`:
    numpy makes each float32 from the next 32 bits of the PCG64 stream (low half of each
    64-bit output first) as (bits >> 8) * 2**-24. Drawing the raw stream skips the per-value
    call; tests/synthetic checks that the two agree."""
    raw = np.random.default_rng([seed, stream, block]).bit_generator.random_raw(BLOCK_SIZE * N_UNIFORMS // 2)
    return (raw.view(np.uint32) >> 8).reshape(BLOCK_SIZE, N_UNIFORMS)


class Draws:
    """The uniforms of the patients [first_patient, first_patient + n)."""

    def __init__(self, seed: int, first_patient: int, n: int, stream: int = 0) -> None:
        if first_patient % BLOCK_SIZE:
            raise ValueError("chunks start on a block boundary")
        first_block = first_patient // BLOCK_SIZE
        n_blocks = -(-n // BLOCK_SIZE)
        # held column-major (one contiguous row per uniform): each draw reads one stretch of memory
        self._u = np.empty((N_UNIFORMS, n_blocks * BLOCK_SIZE), dtype=np.float32)
        for b in range(n_blocks):
            np.multiply(block_bits(seed, stream, first_block + b).T, FLOAT32_STEP,
                        out=self._u[:, b * BLOCK_SIZE:(b + 1) * BLOCK_SIZE], dtype=np.float32, casting="unsafe")
        self._u = self._u[:, :n]
        self._next = 0
        self.n = n

    def u(self, width: int | None = None) -> np.ndarray:
        """The next column (shape (n,)) or the next `width` columns (shape (n, width))."""
        w = 1 if width is None else width
        if self._next + w > N_UNIFORMS:
            raise RuntimeError("N_UNIFORMS too small for the journey model")
        rows = self._u[self._next:self._next + w]
        self._next += w
        return rows[0].astype(np.float64) if width is None else np.ascontiguousarray(rows.T, dtype=np.float64)


def choice(u: np.ndarray, probabilities) -> np.ndarray:
    """Index drawn with the given probabilities (inverse transform of a uniform)."""
    cum = np.cumsum(np.asarray(probabilities, dtype=np.float64))
    cum /= cum[-1]
    return np.minimum(np.searchsorted(cum, u, side="right"), len(cum) - 1)


def randint(u: np.ndarray, low, high) -> np.ndarray:
    """Integer in [low, high] inclusive."""
    low = np.asarray(low)
    high = np.asarray(high)
    return (low + np.floor(u * (high - low + 1))).astype(np.int64)


def exponential_days(u: np.ndarray, median_days) -> np.ndarray:
    """Exponential time with the given median (constant hazard ln 2 / median)."""
    return np.ceil(-np.log1p(-np.minimum(u, 0.999999)) * np.asarray(median_days) / np.log(2)).astype(np.int64)
