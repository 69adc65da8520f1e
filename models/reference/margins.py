"""Commit margins of an organism's clean held-out runs (models/README.md §11.4).

  models/.venv/bin/python -m models.reference.margins --model models/arith-cot [--n 200] [--write-card]

Runs the reference sampler (models/reference/sampler.py: low_confidence, temperature 0, seed 0, the
card's defaults) on the first N held-out problems (task.heldout_problems(N, seed=1234); chat
organisms: word_problems.heldout_problems) and, at every quota cut (a step that leaves at least one
candidate of its block masked), the float64 margin conf(last committed) - conf(best left masked).
Prints, and with --write-card stores in the card under `evaluation.commit_margins` (after checking the
card's sha256):
  cuts, share of cuts with margin >= 1e-4 (with its Wilson 95 % interval, cuts counted as
  independent), share with margin exactly 0 (decided by the position tie-break), share of runs whose
  every cut is >= 1e-4, quantiles of the margins.
The same margins per step are what the TypeScript sampler records in Trajectory."commitMargin"
(migration 20261209000000_commit_margins; docs/sql.md "Near-ties").
"""
from __future__ import annotations

import argparse
import json
import math
import os

import numpy as np

from models import task
from models.reference.common import open_model, run_problems

THRESHOLD = 1e-4


def wilson(k: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """Wilson score interval for k successes in n trials (Wilson 1927)."""
    if n == 0:
        return (math.nan, math.nan)
    p = k / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return (max(0.0, c - h), min(1.0, c + h))


def margin_stats(rows: list[dict], threshold: float = THRESHOLD) -> dict:
    cuts = [m for r in rows for m in r["_cut_margins"]]
    n = len(cuts)
    k = sum(m >= threshold for m in cuts)
    runs_ok = sum(all(m >= threshold for m in r["_cut_margins"]) for r in rows)
    lo, hi = wilson(k, n)
    v = np.array(cuts, dtype=np.float64)
    return {
        "threshold": threshold,
        "runs": len(rows),
        "cuts": n,
        "cuts_at_or_above": k,
        "share_at_or_above": k / n if n else None,
        "share_wilson95": [lo, hi],
        "share_exact_ties": float((v == 0).mean()) if n else None,
        "share_below_1e-9": float((v < 1e-9).mean()) if n else None,
        "runs_every_cut_at_or_above": runs_ok,
        "share_runs_every_cut_at_or_above": runs_ok / len(rows) if rows else None,
        "margin_quantiles": {f"p{int(q * 100):02d}": float(np.quantile(v, q)) for q in (0.01, 0.05, 0.1, 0.25, 0.5)} if n else {},
        "definition": "per quota cut (a step leaving >= 1 block candidate masked): float64 conf(last committed) - "
                      "conf(best left masked); low_confidence, temperature 0, seed 0, card defaults; clean held-out runs",
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True)
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--batch-size", type=int, default=200)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--write-card", action="store_true")
    args = ap.parse_args()
    model, card = open_model(args.model, threads=args.threads)
    d = card["defaults"]
    if card.get("prompt", {}).get("template") == "chat":
        from models import word_problems as wp
        from models.reference.words import CardText, run_word_problems
        ct = CardText(args.model, card)
        rows = run_word_problems(model, ct, wp.heldout_problems(args.n, seed=wp.EVAL_SEED), [0] * args.n,
                                 gen_length=d["gen_length"], steps=d["steps"], block_length=d["block_length"],
                                 remasking="low_confidence", temperature=0.0, mask_id=card["mask_token_id"],
                                 batch_size=args.batch_size)
    else:
        rows = run_problems(model, task.heldout_problems(args.n, seed=1234), [0] * args.n, gen_length=d["gen_length"],
                            steps=d["steps"], block_length=d["block_length"], remasking="low_confidence",
                            temperature=0.0, mask_id=card["mask_token_id"], batch_size=args.batch_size,
                            regex=card["spans"]["regex"])
    st = margin_stats(rows)
    st["n_correct"] = sum(r["correct"] for r in rows)
    st["command"] = f"models/.venv/bin/python -m models.reference.margins --model {args.model} --n {args.n}"
    print(json.dumps({"model": card["name"], **st}))
    if args.write_card:
        card.setdefault("evaluation", {})["commit_margins"] = st
        with open(os.path.join(args.model, "model.json"), "w") as f:
            json.dump(card, f, indent=2)
            f.write("\n")


if __name__ == "__main__":
    main()
