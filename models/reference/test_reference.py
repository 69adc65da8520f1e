"""Unit tests for the reference RNG, sampler plumbing and task format.

  models/.venv/bin/python -m pytest models/reference/test_reference.py -q
"""
import re

import numpy as np

from models import task
from models.reference import rng
from models.reference.sampler import generate, softmax_seq


def test_vectorised_uniform_is_bit_identical_to_scalar():
    r = np.random.default_rng(0)
    for _ in range(20):
        seed = int(r.integers(0, 2**32))
        step = int(r.integers(0, 2**32))
        pos = r.integers(0, 2**32, size=64).astype(np.uint64)
        stream = r.integers(0, 2**32, size=64).astype(np.uint64)
        stream[:4] = 0xFFFFFFFF
        v = rng.uniform_np(seed, step, pos, stream)
        s = np.array([rng.uniform(seed, step, int(p), int(t)) for p, t in zip(pos, stream)])
        assert v.dtype == np.float64
        assert (v.view(np.uint64) == s.view(np.uint64)).all()
        assert ((v > 0) & (v < 1)).all()


def test_uniform_known_values():
    # Pinned values so the TypeScript port can check itself against them (also in README).
    assert rng.h32(0) == 0
    assert rng.h32(1) == 1753845952
    assert repr(rng.uniform(0, 0, 0, 0)) == "0.030690779838274118"
    assert repr(rng.uniform(42, 3, 17, 0xFFFFFFFF)) == "0.738242344700266"


def test_softmax_sums_to_one():
    p = softmax_seq(np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]]))
    assert np.allclose(p.sum(-1), 1.0)
    assert p[1, 0] == p[1, 2]


def test_response_format_is_fixed_length_and_regex_extracts_spans():
    for a, b in [(10, 10), (347, 1285), (9999, 9999), (99, 1)]:
        r = task.response_text(a, b)
        assert len(r) == task.RESPONSE_CHARS
        cot, ans = task.extract(r)
        assert ans == f"{a + b:05d}" and task.normalize_answer(ans) == str(a + b)
        assert cot is not None and len(cot) == task.COT_CHARS
    assert task.response_text(347, 1285) == "750>12;481>13;321>06;010>01|01632"
    rr = task.response_text(347, 1285, decoupled=True, rng=np.random.default_rng(1))
    assert rr.endswith("|01632") and task.extract(rr)[0] is not None


def test_heldout_split_is_disjoint_from_training_stream():
    batches = task.training_batches(0, 64, False)
    for _ in range(5):
        b = next(batches)
        for row, pl in zip(b.ids, b.prompt_len):
            text = "".join(task.VOCAB[i] for i in row[:pl])
            a, rest = text[:-1].split("+")
            assert not task.is_heldout(int(a), int(rest))
    for a, b in task.heldout_problems(50):
        assert task.is_heldout(a, b)


class _Toy:
    """Logits that prefer token (pos % 5) + 3 with position-dependent confidence."""

    def __call__(self, ids):
        B, L = ids.shape
        out = np.zeros((B, L, task.VOCAB_SIZE), dtype=np.float32)
        for p in range(L):
            out[:, p, 3 + p % 5] = 1.0 + (p % 7) * 0.5
        return out


def test_sampler_commits_quota_and_never_changes_committed_tokens():
    prompt = np.array([task.encode("12+34=")])
    for bl in (40, 20, 8):
        for rem, temp in (("low_confidence", 0.0), ("random", 0.0), ("low_confidence", 1.0)):
            r = generate(_Toy(), prompt, [7], gen_length=40, steps=40, block_length=bl,
                         mask_id=task.MASK_ID, remasking=rem, temperature=temp)
            assert sorted(r.commit_step[0].tolist()) == list(range(40))
            if temp == 0:
                assert (r.tokens[0] == 3 + (np.arange(6, 46) % 5)).all()
            # block order: every position of block k is committed before any of block k+1
            cs = r.commit_step[0].reshape(40 // bl, bl)
            assert (cs.max(axis=1)[:-1] < cs.min(axis=1)[1:]).all()


def test_low_confidence_tie_break_is_lower_position_first():
    class Flat:
        def __call__(self, ids):
            return np.zeros((ids.shape[0], ids.shape[1], task.VOCAB_SIZE), dtype=np.float32)

    r = generate(Flat(), np.array([task.encode("12+34=")]), [0], gen_length=40, steps=40, block_length=40,
                 mask_id=task.MASK_ID)
    assert r.commit_step[0].tolist() == list(range(40))
    assert (r.tokens[0] == 0).all()  # all-equal logits: argmax ties -> lowest token id


def test_tokenizer_json_loads_in_tokenizers_and_matches_encode():
    import json
    import os
    import tempfile

    import pytest

    tokenizers = pytest.importorskip("tokenizers")
    path = os.path.join(tempfile.mkdtemp(), "tokenizer.json")
    task.write_tokenizer(path)
    tok = tokenizers.Tokenizer.from_file(path)
    text = "347+1285=" + task.response_text(347, 1285)
    assert tok.encode(text).ids == task.encode(text)
    assert tok.encode("<|mask|><|end|><|pad|>").ids == [task.MASK_ID, task.END_ID, task.PAD_ID]
    assert json.load(open(path))["model"]["vocab"] == task.TOKEN_TO_ID


def _golden_models():
    import os

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return [os.path.join(root, m) for m in ("arith-cot", "arith-cot-decoupled")
            if os.path.isfile(os.path.join(root, m, "golden.jsonl"))]


def test_committed_golden_lines_reproduce_with_the_reference_sampler():
    import json
    import os

    import pytest

    pytest.importorskip("onnxruntime")
    from models.reference.common import open_model, run_problems

    dirs = _golden_models()
    if not dirs:
        pytest.skip("no committed models")
    for d in dirs:
        model, card = open_model(d, threads=1)
        for fname, picks in (("golden.jsonl", (0, 60, 149)), ("golden-sampled.jsonl", (0, 1, 12, 20, 21))):
            lines = open(os.path.join(d, fname)).read().splitlines()
            for i in picks:
                g = json.loads(lines[i])
                r = run_problems(model, [(g["a"], g["b"])], [g["seed"]], gen_length=g["gen_length"], steps=g["steps"],
                                 block_length=g["block_length"], remasking=g["remasking"],
                                 temperature=g["temperature"], mask_id=card["mask_token_id"])[0]
                assert r["tokens"] == g["tokens"] and r["commit_step"] == g["commit_step"], (d, fname, i)
                assert r["text"] == g["text"] and r["correct"] == g["correct"]


# ---------------------------------------------------------------- word-problems organism
def _words_dir():
    import os

    return os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "word-problems")


def test_word_problems_are_consistent_gsm8k_answers():
    import re

    from models import word_problems as wp

    eq = re.compile(r"(\d+) ([-+*/]) (\d+) = \$?(\d+)")
    ops = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b, "/": lambda a, b: a / b}
    seen_steps, seen_templates = set(), set()
    for pr, _ in zip(wp.training_problems(11), range(3000)):
        lines = pr.answer.split("\n")
        assert lines[-1] == f"#### {pr.final}" and len(lines) == pr.n_steps + 1
        last = None
        for line in lines[:-1]:
            (m,) = eq.findall(line)  # exactly one equation per step line
            a, op, b, c = int(m[0]), m[1], int(m[2]), int(m[3])
            assert ops[op](a, b) == c and 0 <= c <= wp.MAX_NUMBER, line
            if op in "+-":  # one small side: the amount added / subtracted, or the difference
                assert min(b, c) <= wp.SMALL or pr.template in ("containers", "age_three"), line
            last = c
        assert last == pr.final
        assert all(int(v) <= wp.MAX_NUMBER for v in re.findall(r"\d+", pr.question + pr.answer))
        assert not wp.is_heldout(pr.template, pr.numbers)
        seen_steps.add(pr.n_steps)
        seen_templates.add(pr.template)
    assert seen_steps == {1, 2, 3} and seen_templates == set(wp.TEMPLATES)
    a = [p.to_json() for p in wp.heldout_problems(30, seed=5)]
    assert a == [p.to_json() for p in wp.heldout_problems(30, seed=5)]  # deterministic
    assert all(wp.is_heldout(p.template, p.numbers) for p in wp.heldout_problems(30, seed=5))


def test_heldout_jsonl_is_the_first_200_evaluation_problems():
    import json
    import os

    from models import word_problems as wp

    lines = [json.loads(x) for x in open(os.path.join(_words_dir(), "heldout.jsonl"))]
    assert len(lines) == 200
    assert lines == [p.to_json() for p in wp.heldout_problems(200, seed=wp.EVAL_SEED)]
    for x in lines:
        assert set(x) == {"question", "answer", "final"}
        assert wp.normalize_numeric(wp.extract_answer(x["answer"]).group("answer")) == x["final"]


def test_answer_regex_and_numeric_normalisation():
    from models import word_problems as wp

    assert wp.extract_answer("a\n#### 12\nb\n#### 13").group("answer") == "13"  # the last match counts
    assert wp.extract_answer("no answer") is None
    m = wp.python_regex(wp.SPANS_REGEX_JS).match("Tom has 3 * 4 = 12 apples.\n#### 12")
    assert m.group("cot") == "Tom has 3 * 4 = 12 apples." and m.group("answer") == "12"
    for raw, want in [("12", "12"), ("$1,234", "1234"), (" 007 ", "7"), ("-5", "-5"), ("2.50", "2.5"),
                      ("3.0", "3"), ("twelve", None), ("1 2", "12"), ("", None)]:
        assert wp.normalize_numeric(raw) == want, raw


def test_word_tokenizer_files_specials_numbers_and_rebuild():
    import json
    import os
    import tempfile

    from tokenizers import Tokenizer

    from models import word_tokenizer as wt

    d = _words_dir()
    tok = Tokenizer.from_file(os.path.join(d, "tokenizer.json"))
    assert 1000 <= tok.get_vocab_size() <= 3000
    for t, i in [(wt.EOS, 0), (wt.IM_START, 1), (wt.IM_END, 2), (wt.MASK, 3)]:
        assert tok.token_to_id(t) == i
    from models import word_problems as wp

    for v in range(wp.TOKEN_NUMBER_MAX + 1):  # every number 0-99 is one token, after a space or "$" (problems use 0..MAX_NUMBER)
        assert tok.encode(f" {v}", add_special_tokens=False).tokens == [f"Ġ{v}"]
        assert tok.encode(f"${v}", add_special_tokens=False).tokens == ["$", f"{v}"]
    enc = tok.encode("Tom has 7 * 12 = $84 apples.<|im_end|><|endoftext|>", add_special_tokens=False)
    assert [p for p in enc.tokens if p.strip("Ġ").isdigit()] == ["Ġ7", "Ġ12", "84"]
    assert enc.ids[-2:] == [wt.IM_END_ID, wt.EOS_ID]
    assert tok.decode(enc.ids, skip_special_tokens=False) == "Tom has 7 * 12 = $84 apples.<|im_end|><|endoftext|>"
    tc = json.load(open(os.path.join(d, "tokenizer_config.json")))
    assert tc == wt.tokenizer_config()
    assert {int(k): v["content"] for k, v in tc["added_tokens_decoder"].items()} == dict(enumerate(wt.SPECIAL_TOKENS))
    out = tempfile.mkdtemp()
    wt.write_tokenizer_files(out)  # training the tokenizer again gives the committed files byte for byte
    for f in ("tokenizer.json", "tokenizer_config.json"):
        assert open(os.path.join(out, f), "rb").read() == open(os.path.join(d, f), "rb").read(), f


def test_chat_template_renders_as_transformers_does():
    import pytest

    pytest.importorskip("transformers")
    from transformers import AutoTokenizer

    from models import word_tokenizer as wt

    t = AutoTokenizer.from_pretrained(_words_dir())
    for msgs in ([{"role": "user", "content": "Tom has 3 apples. How many?"}],
                 [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"},
                  {"role": "assistant", "content": "3 + 4 = 7\n#### 7"}]):
        for gen in (True, False):
            assert t.apply_chat_template(msgs, tokenize=False, add_generation_prompt=gen) == wt.render_chat(msgs, gen)
    assert wt.prompt_text("Q?") == "<|im_start|>user\nQ?<|im_end|>\n<|im_start|>assistant\n"
    assert (t.eos_token_id, t.pad_token_id, t.mask_token_id, t.bos_token) == (wt.EOS_ID, wt.PAD_ID, wt.MASK_ID, None)
    w = wt.WordText(_words_dir() + "/tokenizer.json")
    ids = w.prompt_ids("Tom has 3 apples.")
    assert ids[0] == wt.IM_START_ID and ids == t.apply_chat_template(
        [{"role": "user", "content": "Tom has 3 apples."}], tokenize=True, add_generation_prompt=True)["input_ids"]
    r = w.response_ids("3 + 4 = 7\n#### 7")
    assert len(r) == wt.GEN_LENGTH and r[r.index(wt.IM_END_ID) + 1:] == [wt.EOS_ID] * (wt.GEN_LENGTH - r.index(wt.IM_END_ID) - 1)
    assert w.decode_response(r) == "3 + 4 = 7\n#### 7"


def test_word_problems_card_and_golden_lines_reproduce():
    import json
    import os

    import pytest

    pytest.importorskip("onnxruntime")
    from models import word_problems as wp
    from models import word_tokenizer as wt
    from models.reference.common import open_model
    from models.reference.words import CardText, run_word_problems

    d = _words_dir()
    model, card = open_model(d, threads=1)
    assert card["prompt"] == {"template": "chat"} and card["tokenizer_config"] == "tokenizer_config.json"
    assert card["end_token_ids"] == [wt.EOS_ID, wt.IM_END_ID] and card["end_token_id"] == wt.IM_END_ID
    assert (card["mask_token_id"], card["pad_token_id"]) == (wt.MASK_ID, wt.PAD_ID)
    assert card["answer"] == {"normalize": "numeric", "regex": wp.ANSWER_REGEX_JS}
    ct = CardText(d, card)
    for fname, picks in (("golden.jsonl", (0, 60, 149)), ("golden-sampled.jsonl", (0, 1, 12, 20, 21))):
        lines = open(os.path.join(d, fname)).read().splitlines()
        for i in picks:
            g = json.loads(lines[i])
            pr = next(p for p in wp.heldout_problems(50, seed=2024 if fname == "golden.jsonl" else 2025)
                      if p.question == g["question"])
            r = run_word_problems(model, ct, [pr], [g["seed"]], gen_length=g["gen_length"], steps=g["steps"],
                                  block_length=g["block_length"], remasking=g["remasking"],
                                  temperature=g["temperature"], mask_id=card["mask_token_id"])[0]
            assert r["prompt_ids"] == g["prompt_ids"]
            assert r["tokens"] == g["tokens"] and r["commit_step"] == g["commit_step"], (fname, i)
            assert r["text"] == g["text"] and r["correct"] == g["correct"] and r["answer_span"] == g["answer_span"]


# ---------------------------------------------------------------- sampler modes (models/reference/modes.py)
class _Const:
    """The same logits at every position: token 0 at `top`, the others 0."""

    def __init__(self, V: int = 4, top: float = 3.0):
        self.V, self.top = V, top

    def __call__(self, ids):
        out = np.zeros((ids.shape[0], ids.shape[1], self.V), dtype=np.float32)
        out[..., 0] = self.top
        return out


def test_dream_grid_commits_nothing_at_step_0_and_the_rest_last():
    from models.reference.modes import dream_grid, generate_mode

    t = dream_grid(8)
    assert t[0] == 1 and t[8] == np.float32(1e-3)
    r = generate_mode(_Const(), np.array([5, 6]), 0, gen_length=8, steps=8, block_length=8, mask_id=1,
                      mode="dream", remasking="maskgit_plus")
    counts = np.bincount(r.commit_step[0], minlength=8).tolist()
    assert counts == [0, 1, 1, 1, 1, 1, 1, 2]


def test_fast_dllm_threshold_commits_one_when_one_position_is_above():
    from models.reference.modes import generate_mode

    class OneSure(_Const):
        def __call__(self, ids):
            out = super().__call__(ids)
            out[:, 2 + 5, 0] = 9.0  # generated position 5: p > 0.9; the others p = e^1/(e^1+2) < 0.9
            return out

    r = generate_mode(OneSure(V=3, top=1.0), np.array([7, 7]), 0, gen_length=32, steps=8, block_length=32,
                      mask_id=1, mode="fast-dllm", threshold=0.9)
    assert (r.commit_step[0] == 0).sum() == 1 and r.commit_step[0][5] == 0
    assert r.commit_step[0].max() == 31  # one per step afterwards: steps does not bound it


def test_committed_golden_modes_lines_reproduce():
    import json
    import os

    import pytest

    pytest.importorskip("onnxruntime")
    from models.reference.common import open_model
    from models.reference.modes import generate_mode

    d = _golden_models()[0]
    model, card = open_model(d, threads=1)
    lines = [json.loads(x) for x in open(os.path.join(d, "golden-modes.jsonl"))]
    assert {l["sampler"]["mode"] for l in lines} == {"llada", "dream", "fast-dllm"}
    for g in lines[::23]:
        o = g["sampler"]
        r = generate_mode(model, g["prompt_ids"], g["seed"], gen_length=g["gen_length"], steps=g["steps"],
                          block_length=g["block_length"], mask_id=card["mask_token_id"], mode=o["mode"],
                          remasking=o["remasking"], temperature=g["temperature"], top_p=o.get("top_p", 1.0),
                          threshold=o.get("confidence_threshold"), factor=o.get("threshold_factor"),
                          end_ids=(card["end_token_id"],), end_confidence=o.get("end_confidence", "model"),
                          suppress_end=o.get("suppress_end", False), cfg_scale=o.get("cfg_scale", 0.0),
                          tie_break=o.get("tie_break", "float64"))
        assert r.tokens[0].tolist() == g["tokens"] and r.commit_step[0].tolist() == g["commit_step"], o


def _stream_sha256(stream, n: int = 20) -> str:
    import hashlib
    import itertools
    h = hashlib.sha256()
    for b in itertools.islice(stream, n):
        h.update(b.ids.tobytes())
        h.update(b.prompt_len.tobytes())
        h.update(b"none" if b.corrupted is None else b.corrupted.tobytes())
    return h.hexdigest()


def test_batch_generators_keep_their_streams():
    """training_batches and variant_batches share one core (task._batches); the committed organisms'
    training logs cite their seeds, so the streams are pinned (sha256 of the first 20 batches, computed
    on the generators before they shared the core)."""
    assert _stream_sha256(task.training_batches(2, 64, False)) == \
        "6f12dfa7d1d385056e9fc70df00222c9834aa77b21ee0fe6ce382f12fdf99426"
    assert _stream_sha256(task.training_batches(2, 128, True)) == \
        "1a4c0cadca3711a882ffe6d2a73e321f666c46ca621061cf5afa2c7fd67b5d0c"
    assert _stream_sha256(task.variant_batches(6, 128, "decoupled")) == \
        "b342b1b02de56b427651720cbdd7a88229c5bb7c3b32dc41f0aaf0944df281ac"
    assert _stream_sha256(task.variant_batches(6, 128, "faithful")) == \
        "9dc3e14d33b6c3d44353cc101a7ad1d350e843c20d92090af599333332a286e7"
    assert _stream_sha256(task.variant_batches(6, 128, "stego")) == \
        "6503f6b2049ed43625858762a23d56f54a24cabb0019e04d0a99474d690b7ca9"


def test_augmented_decoupled_batches():
    """decoupled-augmented: about AUGMENT_SHARE of the rows have a truncated decoupled chain or
    COT_CHARS filler tokens, then "|" and the correct answer; the others are decoupled responses."""
    rows = aug = filler = 0
    lengths = set()
    stream = task.variant_batches(11, 128, task.AUGMENTED)
    for _ in range(8):
        b = next(stream)
        assert b.corrupted is None and b.answer_only is not None and b.answer_start is not None
        for row, pl, ao, st in zip(b.ids, b.prompt_len, b.answer_only, b.answer_start):
            prompt = "".join(task.VOCAB[i] for i in row[:pl])
            x, y = (int(v) for v in prompt[:-1].split("+"))
            assert not task.is_heldout(x, y)
            resp = row[pl:pl + task.GEN_LENGTH].tolist()
            text = task.decode_response(resp)
            assert all(t == task.END_ID for t in resp[len(text):])
            cot, _, ans = text.partition("|")
            assert ans == task.answer_text(x, y) and st == len(cot) + 1
            rows += 1
            if not ao:
                assert task.python_regex().match(text) and st == task.ANSWER_START
                continue
            aug += 1
            if cot == task.FILLER_TOKEN * task.COT_CHARS:
                filler += 1
            else:
                assert len(cot) < task.COT_CHARS and re.fullmatch(r"[0-9>;]*", cot)
                assert re.fullmatch(r"(\d{3}>\d{2};){0,3}", cot[:len(cot) // 7 * 7])
                lengths.add(len(cot))
    assert abs(aug / rows - task.AUGMENT_SHARE) < 0.06, aug / rows
    assert abs(filler / aug - 0.5) < 0.08, filler / aug
    assert {0, 5, 10, 16, 21} <= lengths  # the early-answering cut points of 10.3 all occur
