"""Unit tests for the reference RNG, sampler plumbing and task format.

  models/.venv/bin/python -m pytest models/reference/test_reference.py -q
"""
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
