"""Reference sampler for every faithsweep sampler mode (docs/sampler.md), over numpy, written from
the modes' descriptions; the TypeScript sampler (node-agent/sampler/step.ts) must match it token for
token and step for step (models/arith-cot/golden-modes.jsonl, test/agent/golden-modes.test.ts).

Modes, each named after the reference code it follows:
  llada      ML-GSAI/LLaDA generate.py: x0 = argmax(l + temperature * g) with g Gumbel noise from
             the counter RNG; confidence softmax(l)[x0] (low_confidence) or a seeded uniform
             (random); per-block schedule n // S (+1 for the first n % S steps).
             Options: end_confidence='lowest' (x0 an end token -> confidence -inf; LLaDA's
             confidence_eos_eot_inf as intended), suppress_end (end-token logits -inf before
             everything; logits_eos_inf), cfg_scale s (float32 un + (s + 1)(cond - un), the
             unconditional pass masks the whole prompt).
  dream      HKUNLP/Dream generation_utils.py: logits / temperature (when > 0), top-p filter, then
             softmax; x0 sampled from it (Gumbel-max on the scaled logits) or its argmax;
             confidence maskgit_plus = p[x0], topk_margin = p1 - p2, entropy = sum p log(p + 1e-10);
             block step k commits int(m * (1 - t[k+1] / t[k])) in float32 with t = linspace(1, eps,
             S + 1) (PyTorch's CPU formula), the rest at the block's last step.
  fast-dllm  NVlabs/Fast-dLLM llada/generate.py: float64 softmax confidences; commit the most
             confident plus every candidate >= threshold (get_transfer_index), or the factor rule
             (get_transfer_index_dynamic); the step grid is block_length steps per block.
Ranking: (-confidence, position); tie_break='model' rounds confidences to float32 first.
Every sum over the vocabulary is taken sequentially in token-id order.
"""
from __future__ import annotations

import numpy as np

from models.reference.rng import RANDOM_STREAM, uniform_np
from models.reference.sampler import Result

MODE_REMASKING = {"llada": ("low_confidence", "random", "entropy", "topk_margin"),
                  "dream": ("maskgit_plus", "topk_margin", "entropy"),
                  "fast-dllm": ("low_confidence",)}
f32 = np.float32


def dream_grid(n: int, eps: float = 1e-3) -> np.ndarray:
    """torch.linspace(1, eps, n + 1) in float32 as PyTorch's CPU kernel computes it."""
    start, end = f32(1), f32(eps)
    step = f32(f32(end - start) / f32(n))
    half = (n + 1) // 2
    return np.array([f32(start + f32(step * f32(i))) if i < half else f32(end - f32(step * f32(n - i)))
                     for i in range(n + 1)], dtype=np.float32)


def _softmax(l: np.ndarray) -> np.ndarray:
    """Rows of l -> float64 softmax, exp(l - max) with -inf -> 0, normaliser summed sequentially."""
    m = l.max(axis=-1, keepdims=True)
    e = np.where(np.isneginf(l), 0.0, np.exp(l - m))
    s = np.zeros(l.shape[:-1])
    for k in range(l.shape[-1]):
        s = s + e[..., k]
    return e / s[..., None]


def _seqsum(a: np.ndarray) -> np.ndarray:
    s = np.zeros(a.shape[:-1])
    for k in range(a.shape[-1]):
        s = s + a[..., k]
    return s


def _top_p(l: np.ndarray, top_p: float) -> np.ndarray:
    if not top_p < 1:
        return l
    l = l.copy()
    p = _softmax(l)
    for r in range(l.shape[0]):
        order = np.lexsort((np.arange(l.shape[1]), -l[r]))
        cum, removing = 0.0, False
        for k in order:
            if removing:
                l[r, k] = -np.inf
            cum += p[r, k]
            if cum > top_p:
                removing = True
    return l


def _fast_count(sorted_conf: np.ndarray, threshold, factor) -> int:
    n = len(sorted_conf)
    if threshold is not None:
        c = 1
        while c < n and sorted_conf[c] >= threshold:
            c += 1
        return c
    i = 0
    while i < n:
        if i > 0 and sorted_conf[i] < 1 - factor / (i + 2):
            break
        i += 1
    if i == n:
        i = n - 1
    return i + 1 if i in (0, n - 1) else i


def generate_mode(model, prompt_ids: np.ndarray, seed: int, *, gen_length: int, steps: int, block_length: int,
                  mask_id: int, mode: str = "llada", remasking: str = "low_confidence", temperature: float = 0.0,
                  top_p: float = 1.0, threshold: float | None = None, factor: float | None = None,
                  end_ids: tuple[int, ...] = (), end_confidence: str = "model", suppress_end: bool = False,
                  cfg_scale: float = 0.0, tie_break: str = "float64", eps: float = 1e-3) -> Result:
    """One prompt (int64 [P]) -> Result with tokens [1, gen_length], commit_step [1, gen_length]."""
    if remasking not in MODE_REMASKING[mode]:
        raise ValueError(f"remasking {remasking!r} is not one of mode {mode}'s")
    prompt_ids = np.asarray(prompt_ids, dtype=np.int64).reshape(-1)
    seed = int(seed) & 0xFFFFFFFF
    P = len(prompt_ids)
    L = P + gen_length
    blocks = gen_length // block_length
    if mode == "fast-dllm":
        steps = gen_length
    spb = steps // blocks
    x = np.concatenate([prompt_ids, np.full(gen_length, mask_id, dtype=np.int64)])
    commit = np.full(gen_length, -1, dtype=np.int64)
    margin = np.inf
    ends = np.array(sorted(end_ids), dtype=np.int64)
    for s in range(steps):
        k = s % spb
        hi = P + (s // spb + 1) * block_length
        cand = np.array([i for i in range(P, hi) if commit[i - P] < 0], dtype=np.int64)
        m = len(cand)
        if m == 0:
            continue
        if mode == "llada":
            # ceil(m / steps left): LLaDA's n // S schedule on a clean run
            left = spb - k
            q = -(-m // left)
        elif mode == "dream":
            if k == spb - 1:
                q = m
            else:
                t = dream_grid(spb, eps)
                q = int(f32(f32(m) * f32(f32(1) - f32(t[k + 1] / t[k]))))
            if q == 0:
                continue
        else:
            q = m
        if cfg_scale > 0:
            un = x.copy()
            un[:P] = mask_id
            both = model(np.stack([x, un]))
            c, u = both[0].astype(np.float32), both[1].astype(np.float32)
            logits = (u + f32(cfg_scale + 1) * (c - u)).astype(np.float32)
        else:
            logits = model(x[None])[0].astype(np.float32)
        l = logits[cand].astype(np.float64)  # [m, V]
        V = l.shape[1]
        if suppress_end and len(ends):
            l[:, ends] = -np.inf
        if mode == "dream":
            if temperature > 0:
                l = l / temperature
            l = _top_p(l, top_p)
        if temperature > 0:
            g = np.stack([-np.log(-np.log(uniform_np(seed, s, np.uint64(p), np.arange(V, dtype=np.uint64))))
                          for p in cand])
            noisy = l + g if mode == "dream" else l + temperature * g
            noisy = np.where(np.isneginf(l), -np.inf, noisy)
            x0 = noisy.argmax(axis=-1)
        else:
            x0 = l.argmax(axis=-1)
        if remasking == "random":
            conf = np.array([uniform_np(seed, s, np.uint64(p), np.uint64(RANDOM_STREAM)) for p in cand], dtype=np.float64)
        else:
            p = _softmax(l)
            if remasking == "entropy":
                conf = _seqsum(p * np.log(p + 1e-10)) if mode == "dream" else _seqsum(np.where(p > 0, p * np.log(np.where(p > 0, p, 1)), 0.0))
            elif remasking == "topk_margin":
                srt = -np.sort(-p, axis=-1)
                conf = srt[:, 0] - srt[:, 1]
            else:
                conf = p[np.arange(m), x0]
        if end_confidence == "lowest" and len(ends):
            conf = np.where(np.isin(x0, ends), -np.inf, conf)
        if tie_break == "model":
            conf = conf.astype(np.float32).astype(np.float64)
        order = np.lexsort((cand, -conf))
        if mode == "fast-dllm":
            q = _fast_count(conf[order], threshold, factor)
        chosen = order[:q]
        if q < m:
            with np.errstate(invalid="ignore"):  # -inf - -inf: two end tokens tied last
                gap = conf[order[q - 1]] - conf[order[q]]
            margin = min(margin, 0.0 if np.isnan(gap) else gap)
        x[cand[chosen]] = x0[chosen]
        commit[cand[chosen] - P] = s
    assert (commit >= 0).all()
    return Result(tokens=x[None, P:].copy(), commit_step=commit[None], min_commit_margin=np.array([margin]))
