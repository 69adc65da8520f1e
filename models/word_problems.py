"""Generated GSM8K-style word problems for the `word-problems` organism (models/word-problems/).

A problem is a short story with small numbers (one of TEMPLATES: shopping, sharing, ages, rates,
savings, collections, reading; names and items vary) and a GSM8K-format answer: a natural-language
chain of thought of 1-3 steps, one line per step, each with its equation (`3 * 4 = 12`), then
`#### N` as the last line:

    question: "There are 3 boxes with 8 pencils each and 4 bags with 9 pencils each. How many
               pencils are there in total?"
    answer:   "The boxes hold 3 * 8 = 24 pencils.\\nThe bags hold 4 * 9 = 36 pencils.\\n"
              "In total there are 24 + 36 = 60 pencils.\\n#### 60"

Every number (story, operands, intermediate and final results) is an integer in 0..MAX_NUMBER (49);
multiplications have one factor in 2-9 and the other at most 11; divisions are exact; in every
addition the amount added and in every subtraction the amount subtracted or the difference is at
most SMALL (9), except the sums of two products (`containers`) and of an age and a younger age
(`age_three`); draws that would exceed MAX_NUMBER are rejected. That keeps the distinct equations of
the training stream near 1,500 (~650 `+`, ~700 `-`, ~60 `*`, ~60 `/`). The tokenizer makes every
number 0..TOKEN_NUMBER_MAX (99) one token; it was trained on the first version of these ranges
(numbers <= 99, small side <= 12: ~3,900 +/- facts, which a ~1M-parameter model did not learn in an
hour of CPU), reproduced by `ranges(TOKENIZER_RANGES)` (models/README.md section 8).

Split (like task.is_heldout): a problem is held out iff a fixed integer hash of (template id,
its numbers) is 0 mod HELDOUT_MODULUS. Names and items are not part of the key, so a held-out
number combination never appears in training under any name. `heldout_problems(n, seed)` gives
the first n distinct held-out problems (by question text) of a seeded stream; `training_problems`
rejects held-out ones.

Model text (the organism's tokenizer and chat template are built by models/word_tokenizer.py):
    prompt   = chat template (tokenizer_config.json) over [{"role": "user", "content": question}]
               with add_generation_prompt = True:
               "<|im_start|>user\\n{question}<|im_end|>\\n<|im_start|>assistant\\n"
    response = "{answer}<|im_end|>" then <|endoftext|> up to GEN_LENGTH tokens
"""
from __future__ import annotations

import argparse
import json
import re
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Callable, Iterator

import numpy as np

MAX_NUMBER = 49  # every number in a problem (operands, intermediate and final results) is in 0..MAX_NUMBER
SMALL = 9  # in every + and - one side is small: the added / subtracted amount or the difference is <= SMALL
TOKEN_NUMBER_MAX = 99  # the tokenizer makes every number 0..TOKEN_NUMBER_MAX one token (models/word_tokenizer.py)
# The tokenizer was trained on problems of the first version of these ranges (numbers <= 99, small side <= 12);
# `ranges(TOKENIZER_RANGES)` reproduces that stream exactly (models/word_tokenizer.py corpus_texts).
TOKENIZER_RANGES = (99, 12)


@contextmanager
def ranges(max_small: tuple[int, int]):
    """Temporarily set (MAX_NUMBER, SMALL), e.g. to rebuild the tokenizer corpus of its first ranges."""
    global MAX_NUMBER, SMALL
    old = (MAX_NUMBER, SMALL)
    MAX_NUMBER, SMALL = max_small
    try:
        yield
    finally:
        MAX_NUMBER, SMALL = old
HELDOUT_MODULUS = 20  # 1 in 20 (template, numbers) keys is held out (5 %)
ANSWER_REGEX_JS = r"#### (?<answer>[^\n]+)"
SPANS_REGEX_JS = r"^(?<cot>[\s\S]*?)\n#### (?<answer>[^\n]+)"

# (name, subject pronoun, possessive)
NAMES = [
    ("Tom", "he", "his"), ("Anna", "she", "her"), ("Ben", "he", "his"), ("Maria", "she", "her"),
    ("Sam", "he", "his"), ("Lily", "she", "her"), ("Jack", "he", "his"), ("Emma", "she", "her"),
    ("Leo", "he", "his"), ("Mia", "she", "her"), ("Omar", "he", "his"), ("Sara", "she", "her"),
    ("David", "he", "his"), ("Grace", "she", "her"), ("Ken", "he", "his"), ("Nina", "she", "her"),
    ("Paul", "he", "his"), ("Rosa", "she", "her"), ("Ivan", "he", "his"), ("Julia", "she", "her"),
    ("Carlos", "he", "his"), ("Amy", "she", "her"), ("Noah", "he", "his"), ("Zoe", "she", "her"),
    ("Liam", "he", "his"), ("Chloe", "she", "her"), ("Ravi", "he", "his"), ("Hana", "she", "her"),
    ("Peter", "he", "his"), ("Olivia", "she", "her"), ("Felix", "he", "his"), ("Ella", "she", "her"),
    ("Hugo", "he", "his"), ("Ada", "she", "her"), ("Marco", "he", "his"), ("Lucy", "she", "her"),
    ("Yusuf", "he", "his"), ("Priya", "she", "her"), ("Elias", "he", "his"), ("Fatima", "she", "her"),
    ("Oscar", "he", "his"), ("Ines", "she", "her"), ("Kofi", "he", "his"), ("Mei", "she", "her"),
    ("Dylan", "he", "his"), ("Sofia", "she", "her"), ("Aaron", "he", "his"), ("Ruby", "she", "her"),
    ("Mateo", "he", "his"), ("Alice", "she", "her"), ("Jonas", "he", "his"), ("Layla", "she", "her"),
    ("Theo", "he", "his"), ("Clara", "she", "her"), ("Diego", "he", "his"), ("Aisha", "she", "her"),
    ("Victor", "he", "his"), ("Nora", "she", "her"), ("Arjun", "he", "his"), ("Yuki", "she", "her"),
]
# (singular, plural) of countable things
ITEMS = [
    ("apple", "apples"), ("pencil", "pencils"), ("sticker", "stickers"), ("marble", "marbles"),
    ("cookie", "cookies"), ("book", "books"), ("toy car", "toy cars"), ("card", "cards"),
    ("shell", "shells"), ("stamp", "stamps"), ("cupcake", "cupcakes"), ("balloon", "balloons"),
    ("orange", "oranges"), ("candy", "candies"), ("flower", "flowers"), ("crayon", "crayons"),
    ("button", "buttons"), ("rock", "rocks"), ("coin", "coins"), ("egg", "eggs"),
    ("muffin", "muffins"), ("lemon", "lemons"), ("peach", "peaches"), ("notebook", "notebooks"),
    ("ribbon", "ribbons"), ("bead", "beads"), ("puzzle", "puzzles"), ("banana", "bananas"),
    ("carrot", "carrots"), ("feather", "feathers"), ("pebble", "pebbles"), ("cherry", "cherries"),
    ("brick", "bricks"), ("tomato", "tomatoes"), ("sock", "socks"), ("paper clip", "paper clips"),
    ("strawberry", "strawberries"), ("seashell", "seashells"), ("potato", "potatoes"), ("acorn", "acorns"),
    ("pretzel", "pretzels"), ("postcard", "postcards"), ("photo", "photos"), ("leaf", "leaves"),
]
SHOP_ITEMS = [
    ("notebook", "notebooks"), ("pen", "pens"), ("sandwich", "sandwiches"), ("ticket", "tickets"),
    ("toy", "toys"), ("book", "books"), ("plant", "plants"), ("cake", "cakes"), ("hat", "hats"),
    ("ball", "balls"), ("comic", "comics"), ("scarf", "scarves"), ("cup", "cups"), ("kite", "kites"),
    ("candle", "candles"), ("towel", "towels"), ("pie", "pies"), ("brush", "brushes"), ("map", "maps"),
    ("bowl", "bowls"), ("pillow", "pillows"), ("shirt", "shirts"), ("poster", "posters"), ("mug", "mugs"),
]
THINGS = ["bike", "game", "jacket", "lamp", "watch", "bag", "radio", "chair", "guitar", "camera",
          "helmet", "tent", "skateboard", "backpack", "clock", "violin", "telescope", "blanket", "puppet", "drum"]
MAKERS = ["machine", "bakery", "factory", "robot", "workshop", "printer", "kitchen", "farm",
          "team", "studio", "mill", "shop"]
CONTAINERS = [("box", "boxes"), ("bag", "bags"), ("basket", "baskets"), ("jar", "jars"), ("crate", "crates")]


@dataclass(frozen=True)
class Problem:
    template: str
    numbers: tuple[int, ...]  # the split key (with template)
    question: str
    cot: str  # the chain of thought: one line per step, no trailing newline
    final: int
    n_steps: int

    @property
    def answer(self) -> str:
        """The full GSM8K answer text: chain of thought, then '#### N' as the last line."""
        return f"{self.cot}\n#### {self.final}"

    def to_json(self) -> dict:
        return {"question": self.question, "answer": self.answer, "final": str(self.final)}


class _Pick:
    """Draws names/items without repeating a name within one problem."""

    def __init__(self, rng: np.random.Generator):
        self.rng = rng
        self.used: set[int] = set()

    def int(self, lo: int, hi: int) -> int:  # inclusive
        return int(self.rng.integers(lo, hi + 1))

    def name(self) -> tuple[str, str, str]:
        while True:
            i = int(self.rng.integers(len(NAMES)))
            if i not in self.used:
                self.used.add(i)
                return NAMES[i]

    def of(self, xs):
        return xs[int(self.rng.integers(len(xs)))]


def _cap(s: str) -> str:
    return s[0].upper() + s[1:]


# Each template draws its numbers (returning None to reject a draw) and writes question and CoT.
# Returns (numbers, question, cot_lines, final).
TemplateFn = Callable[[_Pick], "tuple[tuple[int, ...], str, list[str], int] | None"]


def t_buy_each(p: _Pick):
    a, b = p.int(2, 9), p.int(2, 11)
    n, _, _ = p.name()
    s, pl = p.of(SHOP_ITEMS)
    c = a * b
    q = f"{n} buys {a} {pl}. Each {s} costs ${b}. How much money does {n} spend?"
    return (a, b), q, [f"Each {s} costs ${b}, so {a} {pl} cost {a} * {b} = ${c}."], c


def t_buy_change(p: _Pick):
    a, b, d = p.int(2, 9), p.int(2, 11), p.int(1, SMALL)
    c = a * b
    m = c + d
    if m > MAX_NUMBER:
        return None
    n, he, _ = p.name()
    s, pl = p.of(SHOP_ITEMS)
    q = f"{n} has ${m}. {_cap(he)} buys {a} {pl} for ${b} each. How much money does {n} have left?"
    return (a, b, m), q, [f"The {pl} cost {a} * {b} = ${c}.", f"So {n} has {m} - {c} = ${d} left."], d


def t_share(p: _Pick):
    k, qq = p.int(2, 9), p.int(2, 11)
    a = k * qq
    n, _, _ = p.name()
    _, pl = p.of(ITEMS)
    q = f"{n} has {a} {pl} and shares them equally among {k} friends. How many {pl} does each friend get?"
    return (a, k), q, [f"Each friend gets {a} / {k} = {qq} {pl}."], qq


def t_share_more(p: _Pick):
    k, qq = p.int(2, 9), p.int(2, 11)
    a = k * qq
    y = p.int(1, min(SMALL, a - 1))
    x = a - y
    n, he, _ = p.name()
    _, pl = p.of(ITEMS)
    q = (f"{n} has {x} {pl} and gets {y} more. {_cap(he)} puts them into {k} equal groups. "
         f"How many {pl} are in each group?")
    return (x, y, k), q, [f"{n} has {x} + {y} = {a} {pl}.", f"Each group has {a} / {k} = {qq} {pl}."], qq


def t_age_older(p: _Pick):
    a, b = p.int(5, min(80, MAX_NUMBER)), p.int(1, SMALL)
    n1, _, _ = p.name()
    n2, _, _ = p.name()
    c = a + b
    q = f"{n1} is {a} years old. {n2} is {b} years older than {n1}. How old is {n2}?"
    return (a, b), q, [f"{n2} is {a} + {b} = {c} years old."], c


def t_age_future(p: _Pick):
    a, b, k = p.int(20, min(80, MAX_NUMBER)), p.int(1, SMALL), p.int(2, SMALL)
    n1, _, _ = p.name()
    n2, _, _ = p.name()
    c = a - b
    d = c + k
    q = f"{n1} is {a} years old. {n2} is {b} years younger than {n1}. How old will {n2} be in {k} years?"
    return (a, b, k), q, [f"{n2} is {a} - {b} = {c} years old now.",
                          f"In {k} years {n2} will be {c} + {k} = {d} years old."], d


def t_age_three(p: _Pick):
    a, m = p.int(2, 12), p.int(2, 5)
    c = a * m
    if c < 3:
        return None
    b = p.int(1, min(c - 1, SMALL))
    n1, _, _ = p.name()
    n2, _, _ = p.name()
    n3, _, _ = p.name()
    d = c - b
    e = c + d
    if e > MAX_NUMBER:
        return None
    q = (f"{n1} is {a} years old. {n2} is {m} times as old as {n1}, and {n3} is {b} years younger than {n2}. "
         f"How old are {n2} and {n3} together?")
    return (a, m, b), q, [f"{n2} is {a} * {m} = {c} years old.", f"{n3} is {c} - {b} = {d} years old.",
                          f"Together they are {c} + {d} = {e} years old."], e


def t_rate(p: _Pick):
    r, h = p.int(2, 11), p.int(2, 9)
    mk = p.of(MAKERS)
    _, pl = p.of(ITEMS)
    c = h * r
    q = f"A {mk} makes {r} {pl} every hour. How many {pl} does it make in {h} hours?"
    return (r, h), q, [f"In {h} hours it makes {h} * {r} = {c} {pl}."], c


def t_rate_two_days(p: _Pick):
    r, h1, h2 = p.int(2, 11), p.int(1, 5), p.int(1, 4)
    mk = p.of(MAKERS)
    _, pl = p.of(ITEMS)
    h = h1 + h2
    c = h * r
    q = (f"A {mk} makes {r} {pl} every hour. It works {h1} hours on Monday and {h2} hours on Tuesday. "
         f"How many {pl} does it make in total?")
    return (r, h1, h2), q, [f"It works {h1} + {h2} = {h} hours.", f"It makes {h} * {r} = {c} {pl}."], c


def t_collect(p: _Pick):
    a, b = p.int(5, min(80, MAX_NUMBER)), p.int(2, SMALL)
    s = a + b
    c = p.int(1, min(s - 1, SMALL))
    n, he, _ = p.name()
    n2, _, _ = p.name()
    _, pl = p.of(ITEMS)
    d = s - c
    q = f"{n} has {a} {pl}. {_cap(he)} finds {b} more and then gives {c} to {n2}. How many {pl} does {n} have now?"
    return (a, b, c), q, [f"{n} has {a} + {b} = {s} {pl}.", f"After giving {c} away, {n} has {s} - {c} = {d} {pl}."], d


def t_save(p: _Pick):
    a, w = p.int(2, 11), p.int(2, 9)
    s = a * w
    b = p.int(1, min(s - 1, SMALL))
    n, he, _ = p.name()
    th = p.of(THINGS)
    d = s - b
    q = (f"{n} saves ${a} every week for {w} weeks. Then {he} spends ${b} on a {th}. "
         f"How much money does {n} have left?")
    return (a, w, b), q, [f"{n} saves {w} * {a} = ${s}.", f"After buying the {th}, {he} has {s} - {b} = ${d} left."], d


def t_fewer(p: _Pick):
    a = p.int(10, MAX_NUMBER)
    b = p.int(1, min(a - 1, SMALL))
    n1, _, _ = p.name()
    n2, _, _ = p.name()
    _, pl = p.of(ITEMS)
    c = a - b
    q = f"{n1} has {a} {pl}. {n2} has {b} fewer {pl} than {n1}. How many {pl} does {n2} have?"
    return (a, b), q, [f"{n2} has {a} - {b} = {c} {pl}."], c


def t_containers(p: _Pick):
    a, b, c, d = p.int(2, 9), p.int(2, 9), p.int(2, 9), p.int(2, 9)
    (c1s, c1), (c2s, c2) = p.of(CONTAINERS), p.of(CONTAINERS)
    if c1 == c2:
        return None
    _, pl = p.of(ITEMS)
    x, y = a * b, c * d
    z = x + y
    if z > MAX_NUMBER:
        return None
    q = f"There are {a} {c1} with {b} {pl} each and {c} {c2} with {d} {pl} each. How many {pl} are there in total?"
    return (a, b, c, d), q, [f"The {c1} hold {a} * {b} = {x} {pl}.", f"The {c2} hold {c} * {d} = {y} {pl}.",
                             f"In total there are {x} + {y} = {z} {pl}."], z


def t_reading(p: _Pick):
    a, d, b = p.int(2, 11), p.int(2, 9), p.int(1, SMALL)
    x = a * d
    y = x + b
    t = y + p.int(1, SMALL)
    if t > MAX_NUMBER:
        return None
    n, he, _ = p.name()
    z = t - y
    q = (f"A book has {t} pages. {n} reads {a} pages every day for {d} days, and then {b} more pages. "
         f"How many pages are left?")
    return (t, a, d, b), q, [f"{_cap(he)} reads {d} * {a} = {x} pages in {d} days.", f"Then {x} + {b} = {y} pages are read.",
                             f"So {t} - {y} = {z} pages are left."], z


TEMPLATES: dict[str, TemplateFn] = {
    "buy_each": t_buy_each, "buy_change": t_buy_change, "share": t_share, "share_more": t_share_more,
    "age_older": t_age_older, "age_future": t_age_future, "age_three": t_age_three, "rate": t_rate,
    "rate_two_days": t_rate_two_days, "collect": t_collect, "save": t_save, "fewer": t_fewer,
    "containers": t_containers, "reading": t_reading,
}
TEMPLATE_IDS = {name: i for i, name in enumerate(TEMPLATES)}


def _draw(rng: np.random.Generator) -> Problem:
    names = list(TEMPLATES)
    while True:
        name = names[int(rng.integers(len(names)))]
        r = TEMPLATES[name](_Pick(rng))
        if r is None:
            continue
        nums, q, lines, final = r
        if any(int(v) > MAX_NUMBER for v in re.findall(r"\d+", q + "\n".join(lines))):
            continue
        assert 0 <= final <= MAX_NUMBER, (name, nums, final)
        return Problem(name, tuple(int(v) for v in nums), q, "\n".join(lines), int(final), len(lines))


# ---------------------------------------------------------------- split
def _h32(x: int) -> int:
    x &= 0xFFFFFFFF
    x ^= x >> 16
    x = (x * 0x7FEB352D) & 0xFFFFFFFF
    x ^= x >> 15
    x = (x * 0x846CA68B) & 0xFFFFFFFF
    x ^= x >> 16
    return x


def split_hash(template: str, numbers: tuple[int, ...]) -> int:
    h = _h32(0x9E3779B9 ^ TEMPLATE_IDS[template])
    for v in numbers:
        h = _h32(h ^ (v & 0xFFFFFFFF))
    return h


def is_heldout(template: str, numbers: tuple[int, ...]) -> bool:
    return split_hash(template, numbers) % HELDOUT_MODULUS == 0


def training_problems(seed: int) -> Iterator[Problem]:
    """Infinite deterministic stream of training problems (held-out keys rejected)."""
    rng = np.random.default_rng(seed)
    while True:
        pr = _draw(rng)
        if not is_heldout(pr.template, pr.numbers):
            yield pr


def heldout_problems(n: int, seed: int = 1234) -> list[Problem]:
    """The first n distinct (by question text) held-out problems of a seeded stream."""
    rng = np.random.default_rng(seed)
    seen: set[str] = set()
    out: list[Problem] = []
    while len(out) < n:
        pr = _draw(rng)
        if is_heldout(pr.template, pr.numbers) and pr.question not in seen:
            seen.add(pr.question)
            out.append(pr)
    return out


# ---------------------------------------------------------------- answers
def python_regex(js: str) -> re.Pattern[str]:
    """JavaScript named groups (?<name>...) -> Python (?P<name>...)."""
    return re.compile(js.replace("(?<", "(?P<"))


def extract_answer(text: str, regex_js: str = ANSWER_REGEX_JS) -> re.Match[str] | None:
    """The LAST match of the card's answer regex anywhere in the text (contract: last match counts)."""
    last = None
    for m in python_regex(regex_js).finditer(text):
        last = m
    return last


def normalize_numeric(s: str | None) -> str | None:
    """Card rule "numeric": drop '$', ',' and spaces, then the canonical string of the number
    ("1234", "-5", "2.5"); None when it is not a number."""
    if s is None:
        return None
    t = s.replace("$", "").replace(",", "").replace(" ", "")
    if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)", t):
        return None
    try:
        d = Decimal(t)
    except InvalidOperation:
        return None
    if d == d.to_integral_value():
        return str(int(d))
    out = format(d.normalize(), "f")
    return out


EVAL_SEED = 1234  # evaluation problems: heldout_problems(n, EVAL_SEED); heldout.jsonl = its first 200
HELDOUT_JSONL_N = 200


def write_jsonl(path: str, problems: list[Problem]) -> None:
    """One {"question", "answer" (full GSM8K answer text), "final"} object per line."""
    with open(path, "w") as f:
        for pr in problems:
            f.write(json.dumps(pr.to_json(), ensure_ascii=False) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser(description="write the held-out test set (JSONL) or print examples")
    ap.add_argument("--heldout", help="write heldout_problems(--n, EVAL_SEED) to this JSONL path")
    ap.add_argument("--n", type=int, default=HELDOUT_JSONL_N)
    args = ap.parse_args()
    if args.heldout:
        write_jsonl(args.heldout, heldout_problems(args.n, EVAL_SEED))
        return
    for pr in heldout_problems(5):
        print(pr.question)
        print(pr.answer)
        print()


if __name__ == "__main__":
    main()
