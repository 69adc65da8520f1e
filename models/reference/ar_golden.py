"""Golden generations of an autoregressive organism, for the TypeScript agent's parity test.

  models/.venv/bin/python -m models.reference.ar_golden --model models/arith-cot-ar

golden.jsonl (all unbatched, B = 1, like a single agent call):
  - 50 held-out prompts (task.heldout_problems(50, seed=2024)), greedy (temperature 0, seed 0);
  - 10 prompts (heldout_problems(20, seed=2025)[:10]) at temperature 1.0, seeds 1000-1009;
  - 10 prompts (heldout_problems(20, seed=2025)[10:]) at temperature 0.7, seeds 2000-2009.
golden-interventions.jsonl: for the first 10 golden prompts, greedy, one line per intervention:
  truncate f in {0, 0.4, 0.8} (early answering), mistake at CoT index k in {0, 5, 11, 25} (adding
  mistakes), paraphrase, filler (the card's filler_token).

One JSON object per line:
  {"kind" ("clean" | "truncate" | "mistake" | "paraphrase" | "filler"), "params" ({} | {"f", "kept"} |
   {"k", "token"} | {} | {"filler_token"}), "prompt", "prompt_ids", "a", "b", "gold", "gen_length",
   "temperature", "seed", "prefix" (forced response ids; [] for clean runs), "tokens" (the response:
   prefix, then the generated ids up to and including the first end token), "text" (decoded up to the
   first end token), "answer" (raw 5-digit answer or null; forced_answer_regex after the prefix for
   truncate / paraphrase / filler, the spans regex otherwise), "cot" (spans regex on the full text, or
   null), "correct", "min_margin" (diagnostic: smallest gap, over generated tokens, between the chosen
   token's score and the runner-up; scores are float64 logits (+ T * Gumbel noise))}
"""
from __future__ import annotations

import argparse
import json
import os

import numpy as np

from models import task
from models.reference import ar
from models.reference.common import open_model
from models.reference.rng import uniform_np

GOLDEN_PROBLEM_SEED = 2024
SAMPLED_PROBLEM_SEED = 2025


def min_margin(model, prompt_ids: list[int], tokens: list[int], n_forced: int, seed: int, temperature: float) -> float | None:
    seq = np.array([prompt_ids + tokens], dtype=np.int64)
    logits = model(seq)[0].astype(np.float64)
    P = len(prompt_ids)
    best = None
    for i in range(n_forced, len(tokens)):
        p = P + i
        s = logits[p - 1].copy()
        if temperature > 0:
            u = uniform_np(seed, i, np.uint64(p), np.arange(s.shape[0], dtype=np.uint64))
            s = s + temperature * -np.log(-np.log(u))
        top = np.sort(s)[::-1]
        gap = float(top[0] - top[1])
        best = gap if best is None else min(best, gap)
    return best


def line(model, kind: str, params: dict, a: int, b: int, prefix: list[int], temperature: float, seed: int,
         forced: bool) -> dict:
    prompt_ids = task.encode(task.prompt_text(a, b))
    tokens = ar.generate(model, [prompt_ids], [seed], temperature=temperature, prefixes=[prefix])[0]
    text = task.decode_response(tokens)
    cot, ans = task.extract(text)
    if forced:
        ans = ar.forced_answer(tokens, len(prefix))
    return {
        "kind": kind, "params": params,
        "prompt": task.prompt_text(a, b), "prompt_ids": prompt_ids, "a": a, "b": b, "gold": str(a + b),
        "gen_length": task.GEN_LENGTH, "temperature": temperature, "seed": seed,
        "prefix": prefix, "tokens": tokens, "text": text, "answer": ans, "cot": cot,
        "correct": task.normalize_answer(ans) == str(a + b),
        "min_margin": min_margin(model, prompt_ids, tokens, len(prefix), seed, temperature),
    }


def write_jsonl(path: str, rows: list[dict]) -> None:
    with open(path, "w") as f:
        for r in rows:
            f.write(json.dumps(r, separators=(",", ":")) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    args = ap.parse_args()
    model, card = open_model(args.model, threads=1)
    assert card.get("kind") == "autoregressive"
    rows = []
    probs = task.heldout_problems(50, seed=GOLDEN_PROBLEM_SEED)
    for a, b in probs:
        rows.append(line(model, "clean", {}, a, b, [], 0.0, 0, False))
    sp = task.heldout_problems(20, seed=SAMPLED_PROBLEM_SEED)
    for i, (a, b) in enumerate(sp[:10]):
        rows.append(line(model, "clean", {}, a, b, [], 1.0, 1000 + i, False))
    for i, (a, b) in enumerate(sp[10:]):
        rows.append(line(model, "clean", {}, a, b, [], 0.7, 2000 + i, False))
    write_jsonl(os.path.join(args.model, "golden.jsonl"), rows)

    delim = task.TOKEN_TO_ID[ar.ANSWER_DELIMITER]
    iv = []
    for r in rows[:10]:
        a, b, resp = r["a"], r["b"], r["tokens"]
        P = len(r["prompt_ids"])
        if r["cot"] is None:
            continue
        n_cot = len(r["cot"])
        for f in (0.0, 0.4, 0.8):
            kept = ar.truncation_length(f, n_cot)
            iv.append(line(model, "truncate", {"f": f, "kept": kept}, a, b, resp[:kept] + [delim], 0.0, 0, True))
        for k in (0, 5, 11, 25):
            d = ar.mistake_digit(resp[k], 0, k, P + k)
            iv.append(line(model, "mistake", {"k": k, "token": d}, a, b, resp[:k] + [d], 0.0, 0, False))
        iv.append(line(model, "paraphrase", {}, a, b, task.encode(ar.paraphrase_cot(r["cot"])) + [delim], 0.0, 0, True))
        ft = card["filler_token"]
        iv.append(line(model, "filler", {"filler_token": ft}, a, b, [task.TOKEN_TO_ID[ft]] * n_cot + [delim], 0.0, 0, True))
    write_jsonl(os.path.join(args.model, "golden-interventions.jsonl"), iv)
    margins = [x["min_margin"] for x in rows + iv if x["min_margin"] is not None]
    print(json.dumps({"model": args.model, "golden": len(rows), "golden_correct": sum(x["correct"] for x in rows),
                      "interventions": len(iv), "min_margin": min(margins) if margins else None}))


if __name__ == "__main__":
    main()
