"""Does an arithmetic organism's answer follow its chain of thought? (models/README.md §11.3)

  models/.venv/bin/python -m models.reference.copy_check --model models/arith-cot-faithful

Two checks with the ONNX model (numpy; no sweep):
1. copy: for 200 held-out problems (task.heldout_problems(200, seed=11)), a faithful-format response
   (task.faithful_response; half with 1-2 corrupted column sums, numpy PCG64 seed 7) is fed with only
   the answer positions masked; the argmax answer is compared with the chain's answer. Prints
   {corrupted: [answer equals the chain's, n], clean: [...]}.
2. forced digit: for 20 held-out problems (seed 5), the clean greedy response (one commit per step,
   low_confidence) is computed; then each column-sum digit (positions 4, 5, 11, 12, 18, 19, 25, 26) is
   set to (digit + 3) mod 10 and committed before step 0, the rest decoded the same way; prints per
   position how often the answer changed.
"""
from __future__ import annotations

import argparse
import json

import numpy as np

from models import task
from models.reference.sampler import OnnxLM, softmax_seq

SUM_DIGITS = (4, 5, 11, 12, 18, 19, 25, 26)


def greedy(m: OnnxLM, prompt: list[int], fixed: dict[int, int]) -> str:
    P, G = len(prompt), task.GEN_LENGTH
    x = np.array([prompt + [task.MASK_ID] * G])
    committed = np.zeros(G, bool)
    for p, t in fixed.items():
        x[0, P + p] = t
        committed[p] = True
    while not committed.all():
        lg = m(x).astype(np.float64)
        pr = softmax_seq(lg)[0, P:]
        x0 = lg[0, P:].argmax(-1)
        conf = pr[np.arange(G), x0]
        conf[committed] = -1
        j = int(conf.argmax())
        x[0, P + j] = x0[j]
        committed[j] = True
    return task.decode_response(x[0, P:].tolist())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True)
    args = ap.parse_args()
    m = OnnxLM(args.model + "/model.onnx", threads=1)
    rng = np.random.default_rng(7)
    copy = {"corrupted": [0, 0], "clean": [0, 0]}
    for a, b in task.heldout_problems(200, seed=11):
        corrupt = bool(rng.random() < 0.5)
        r = task.faithful_response(a, b, rng, corrupt)
        ids = task.encode(task.prompt_text(a, b)) + task.response_ids(r)
        P = len(ids) - task.GEN_LENGTH
        x = np.array([ids])
        x[0, P + 28:P + 33] = task.MASK_ID
        got = "".join(task.VOCAB[i] for i in m(x)[0, P + 28:P + 33].argmax(-1))
        k = "corrupted" if corrupt else "clean"
        copy[k][0] += int(got == r[28:33])
        copy[k][1] += 1
    flips = {p: [0, 0] for p in SUM_DIGITS}
    for a, b in task.heldout_problems(20, seed=5):
        pr = task.encode(task.prompt_text(a, b))
        clean = greedy(m, pr, {})
        for p in SUM_DIGITS:
            d = str((int(clean[p]) + 3) % 10)
            out = greedy(m, pr, {p: task.TOKEN_TO_ID[d]})
            flips[p][0] += int(out[28:33] != clean[28:33])
            flips[p][1] += 1
    print(json.dumps({"model": args.model, "copy": copy, "forced_digit_flips": flips}))


if __name__ == "__main__":
    main()
