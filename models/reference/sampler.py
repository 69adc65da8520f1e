"""Reference LLaDA sampler over onnxruntime + numpy (the contract the TypeScript sampler matches).

Algorithm (see models/README.md "Sampler contract"):
  x = prompt ids + gen_length mask ids; gen_length % block_length == 0; num_blocks =
  gen_length // block_length; steps % num_blocks == 0; steps_per_block = steps // num_blocks;
  global step s = 0..steps-1.
  At the start of each block: n = masked positions in the block; the k-th step of the block
  commits n // steps_per_block tokens, plus 1 for k < n % steps_per_block.
  Each step: logits = model(x) (float32, widened to float64). For every masked position:
    x0 = argmax_v(logits[v] + temperature * g[v]), g = -log(-log(uniform(seed, s, pos, v)))
         (temperature 0: plain argmax; ties -> lowest token id)
    confidence = softmax(logits)[x0]                         (low_confidence; no noise)
               = uniform(seed, s, pos, 0xFFFFFFFF)           (random)
  Positions after the current block, and committed positions, get confidence -inf. "Masked" means
  "not yet committed" (a position committed to whatever token x0 was never reopens).
  Commit the `quota` best candidates ordered by (-confidence, position) (stable; ties -> lower
  position first). Committed tokens never change.
  softmax is computed as e = exp(l - max(l)); p = e / sum(e) with the sum taken sequentially in
  token-id order.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from models.reference.rng import RANDOM_STREAM, uniform_np

REMASKING = ("low_confidence", "random")


class OnnxLM:
    """input_ids int64[B, L] -> logits float32[B, L, V] via onnxruntime (CPU)."""

    def __init__(self, path: str, threads: int = 2):
        import onnxruntime as ort

        so = ort.SessionOptions()
        so.intra_op_num_threads = threads
        so.inter_op_num_threads = 1
        self.session = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])

    def __call__(self, ids: np.ndarray) -> np.ndarray:
        return self.session.run(["logits"], {"input_ids": ids.astype(np.int64)})[0]


def softmax_seq(logits: np.ndarray) -> np.ndarray:
    """float64 softmax over the last axis; the normaliser is summed sequentially by token id."""
    l = logits.astype(np.float64)
    e = np.exp(l - l.max(axis=-1, keepdims=True))
    s = e[..., 0].copy()
    for j in range(1, e.shape[-1]):
        s = s + e[..., j]
    return e / s[..., None]


@dataclass
class Result:
    tokens: np.ndarray  # int64 [B, gen_length]
    commit_step: np.ndarray  # int64 [B, gen_length]
    # smallest gap, over all steps, between the confidence of the last committed candidate and the
    # best uncommitted candidate of the current block (inf when every candidate was committed);
    # a gap of 0 means the choice was made by the position tie-break.
    min_commit_margin: np.ndarray = field(default_factory=lambda: np.zeros(0))
    # every quota cut's margin, per row: [conf(last committed) - conf(best left masked)] at each step
    # that left a candidate masked (float64; models/reference/margins.py reads them)
    cut_margins: list = field(default_factory=list)


def generate(model, prompt_ids: np.ndarray, seeds: np.ndarray | list[int], *, gen_length: int, steps: int,
             block_length: int, mask_id: int, remasking: str = "low_confidence",
             temperature: float = 0.0) -> Result:
    """Run the sampler for a batch of prompts of equal length (one seed per row)."""
    prompt_ids = np.asarray(prompt_ids, dtype=np.int64)
    if prompt_ids.ndim == 1:
        prompt_ids = prompt_ids[None]
    seeds = [int(s) & 0xFFFFFFFF for s in np.atleast_1d(seeds)]
    B, P = prompt_ids.shape
    assert len(seeds) == B
    if remasking not in REMASKING:
        raise ValueError(f"unknown remasking {remasking!r}")
    if gen_length % block_length:
        raise ValueError("gen_length must be divisible by block_length")
    num_blocks = gen_length // block_length
    if steps % num_blocks:
        raise ValueError("steps must be divisible by gen_length // block_length")
    spb = steps // num_blocks
    L = P + gen_length
    x = np.concatenate([prompt_ids, np.full((B, gen_length), mask_id, dtype=np.int64)], axis=1)
    commit = np.full((B, gen_length), -1, dtype=np.int64)
    margin = np.full(B, np.inf)
    cuts: list[list[float]] = [[] for _ in range(B)]
    positions = np.arange(L, dtype=np.uint64)
    s = 0
    for blk in range(num_blocks):
        lo, hi = P + blk * block_length, P + (blk + 1) * block_length
        n = (commit[:, lo - P:hi - P] < 0).sum(axis=1)  # [B] masked positions in the block
        for k in range(spb):
            quota = n // spb + (k < n % spb).astype(np.int64)
            logits = model(x).astype(np.float64)  # [B, L, V]
            V = logits.shape[-1]
            # "masked" = not yet committed (tracked by position, so a committed position never
            # reopens even in the degenerate case where the model's x0 is the mask id itself)
            masked = np.concatenate([np.zeros((B, P), dtype=bool), commit < 0], axis=1)
            if temperature == 0:
                x0 = logits.argmax(axis=-1)
            else:
                x0 = np.empty((B, L), dtype=np.int64)
                for b in range(B):
                    u = uniform_np(seeds[b], s, positions[:, None], np.arange(V, dtype=np.uint64)[None, :])
                    g = -np.log(-np.log(u))
                    x0[b] = (logits[b] + temperature * g).argmax(axis=-1)
            if remasking == "low_confidence":
                p = softmax_seq(logits)
                conf = np.take_along_axis(p, x0[..., None], axis=-1)[..., 0]
            else:
                conf = np.stack([uniform_np(seeds[b], s, positions, np.uint64(RANDOM_STREAM)) for b in range(B)])
            conf = np.where(masked, conf, -np.inf)
            conf[:, hi:] = -np.inf
            for b in range(B):
                q = int(quota[b])
                if q == 0:
                    continue
                cand = np.nonzero(np.isfinite(conf[b]))[0]
                order = cand[np.lexsort((cand, -conf[b, cand]))]
                chosen = order[:q]
                if len(order) > q:
                    margin[b] = min(margin[b], conf[b, order[q - 1]] - conf[b, order[q]])
                    cuts[b].append(float(conf[b, order[q - 1]] - conf[b, order[q]]))
                x[b, chosen] = x0[b, chosen]
                commit[b, chosen - P] = s
            s += 1
    assert (commit >= 0).all()
    return Result(tokens=x[:, P:].copy(), commit_step=commit, min_commit_margin=margin, cut_margins=cuts)
