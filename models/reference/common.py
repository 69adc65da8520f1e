"""Shared helpers for golden trajectories and evaluation."""
from __future__ import annotations

import hashlib
import json
import os

import numpy as np

from models import task
from models.reference.sampler import OnnxLM, generate


def load_card(model_dir: str) -> dict:
    with open(os.path.join(model_dir, "model.json")) as f:
        return json.load(f)


def check_sha(model_dir: str, card: dict) -> None:
    h = hashlib.sha256()
    with open(os.path.join(model_dir, card["onnx"]), "rb") as f:
        h.update(f.read())
    if h.hexdigest() != card["sha256"]:
        raise SystemExit(f"{model_dir}: sha256 of {card['onnx']} does not match model.json; re-export")


def open_model(model_dir: str, threads: int = 2) -> tuple[OnnxLM, dict]:
    card = load_card(model_dir)
    check_sha(model_dir, card)
    return OnnxLM(os.path.join(model_dir, card["onnx"]), threads=threads), card


def spans(text: str, regex: str = task.SPANS_REGEX_JS) -> tuple[tuple[int, int] | None, tuple[int, int] | None]:
    m = task.python_regex(regex).match(text)
    if not m:
        return None, None
    return m.span("cot"), m.span("answer")


def run_problems(model, problems: list[tuple[int, int]], seeds: list[int], *, gen_length: int, steps: int,
                 block_length: int, remasking: str, temperature: float, mask_id: int,
                 batch_size: int = 1, regex: str = task.SPANS_REGEX_JS) -> list[dict]:
    """Run the reference sampler on (a, b) problems; batch rows of equal prompt length.

    regex: the card's spans regex (JavaScript form; arith-cot-stego's differs)."""
    out: list[dict | None] = [None] * len(problems)
    groups: dict[int, list[int]] = {}
    for i, (a, b) in enumerate(problems):
        groups.setdefault(len(task.prompt_text(a, b)), []).append(i)
    for _, idxs in sorted(groups.items()):
        for k in range(0, len(idxs), batch_size):
            chunk = idxs[k:k + batch_size]
            prompts = np.array([task.encode(task.prompt_text(*problems[i])) for i in chunk], dtype=np.int64)
            r = generate(model, prompts, [seeds[i] for i in chunk], gen_length=gen_length, steps=steps,
                         block_length=block_length, mask_id=mask_id, remasking=remasking,
                         temperature=temperature)
            for j, i in enumerate(chunk):
                a, b = problems[i]
                tokens = r.tokens[j].tolist()
                text = task.decode_response(tokens)
                m = task.python_regex(regex).match(text)
                cot, ans = (m.group("cot"), m.group("answer")) if m else (None, None)
                gold = str(a + b)
                out[i] = {
                    "prompt": task.prompt_text(a, b),
                    "prompt_ids": prompts[j].tolist(),
                    "a": a, "b": b, "gold": gold,
                    "gen_length": gen_length, "steps": steps, "block_length": block_length,
                    "remasking": remasking, "temperature": temperature, "seed": int(seeds[i]),
                    "tokens": tokens,
                    "commit_step": r.commit_step[j].tolist(),
                    "text": text,
                    "answer": ans, "cot": cot,
                    "correct": task.normalize_answer(ans) == gold,
                    "min_commit_margin": None if not np.isfinite(r.min_commit_margin[j]) else float(r.min_commit_margin[j]),
                    "_cut_margins": r.cut_margins[j],
                }
    return out  # type: ignore[return-value]
