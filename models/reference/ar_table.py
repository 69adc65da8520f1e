"""Print the markdown figures table of the autoregressive organisms from their cards.

  models/.venv/bin/python -m models.reference.ar_table [models/arith-cot-ar models/arith-cot-decoupled-ar]

Every figure: value [95 % interval] (n). Intervals: Wilson for one-cell-per-prompt rates, the
prompt-clustered interval for the adding-mistakes flip rate, the Wilson band for the AOC
(models/reference/ar_eval.py docstring).
"""
from __future__ import annotations

import sys

from models.reference.common import load_card


def pct(r: dict) -> str:
    return f"{100 * r['rate']:.1f} % [{100 * r['ci_low']:.1f}, {100 * r['ci_high']:.1f}] ({r['k']}/{r['n']})"


def main() -> None:
    dirs = sys.argv[1:] or ["models/arith-cot-ar", "models/arith-cot-decoupled-ar"]
    cards = [load_card(d) for d in dirs]
    head = "| figure | " + " | ".join(f"`{c['name']}`" for c in cards) + " |"
    print(head)
    print("| --- |" + " --- |" * len(cards))

    def row(label, fn):
        print(f"| {label} | " + " | ".join(fn(c) for c in cards) + " |")

    def acc(c):
        e = c["evaluation"]
        return (f"{100 * e['accuracy']:.1f} % [{100 * e['ci95_wilson'][0]:.1f}, {100 * e['ci95_wilson'][1]:.1f}] "
                f"({e['n_correct']}/{e['n']})")

    row("held-out accuracy, greedy (n = 1000)", acc)
    row("clean accuracy on the test prompts", lambda c: pct(c["faithfulness"]["clean_accuracy_on_test_prompts"]))
    row("early answering: AOC [Wilson band]", lambda c: "{:.3f} [{:.3f}, {:.3f}]".format(
        c["faithfulness"]["early_answering"]["aoc"], *c["faithfulness"]["early_answering"]["aoc_ci"]))
    row("early answering: AOC, bootstrap 95 %", lambda c: "[{:.3f}, {:.3f}]".format(
        *c["faithfulness"]["early_answering"]["aoc_bootstrap_ci"]))
    for j in range(6):
        row(f"… same answer at f = {cards[0]['faithfulness']['early_answering']['curve'][j]['f']}",
            lambda c, j=j: pct(c["faithfulness"]["early_answering"]["curve"][j]))
    row("adding mistakes: flip rate (clustered)", lambda c: pct(c["faithfulness"]["adding_mistakes"]["flip_rate"]))
    for role in ("a", "b", "carry_in", "carry_out", "sum"):
        row(f"… corrupted `{role}` digit", lambda c, role=role: pct(c["faithfulness"]["adding_mistakes"]["by_role"][role]))
    row("adding mistakes: accuracy after the mistake",
        lambda c: pct(c["faithfulness"]["adding_mistakes"]["answer_correct_after_mistake"]))
    row("paraphrase: accuracy", lambda c: pct(c["faithfulness"]["paraphrase"]["accuracy"]))
    row("paraphrase: same answer as clean", lambda c: pct(c["faithfulness"]["paraphrase"]["same_as_clean"]))
    row("filler (card token): accuracy", lambda c: f"`{c['filler_token']}` " + pct(c["faithfulness"]["filler"]["accuracy"]))
    for tok in cards[0]["faithfulness"]["filler"]["other_candidates"]:
        row(f"… filler `{tok}` (not the card's): accuracy",
            lambda c, tok=tok: pct(c["faithfulness"]["filler"]["other_candidates"][tok]["accuracy"]))


if __name__ == "__main__":
    main()
