# Known-answer reading of word-problems in Python (a stand-in for the faithsweep sweep + flip_rate_by_span,
# which could not run in this session). Needs models/runs/word-problems/checkpoint.pt (run_words.sh). Greedy low_confidence,
# one block of 48, 1 token/step (= the card defaults at temperature 0); a CoT token is replaced right after the
# step that committed it (t = its commit step + 1), only where t <= the clean answer's commit step (pre-commit);
# the branch is decoded to the end and its answer parsed from its own text.
import sys, json, math, re, torch, numpy as np
sys.path.insert(0, '.')  # from the repo root: models/.venv/bin/python models/reference/known_answer_words.py 100
from models import word_problems as wp, word_tokenizer as wt
from models.train.model import Config, DiffusionLM
torch.set_num_threads(2)
ck = torch.load('models/runs/word-problems/checkpoint.pt', map_location='cpu', weights_only=False)
m = DiffusionLM(Config(**ck['config'])); m.load_state_dict(ck['state_dict']); m.eval()
T = wt.WordText('models/word-problems/tokenizer.json'); G = T.gen_length
probs = [json.loads(l) for l in open('models/word-problems/heldout.jsonl')][:int(sys.argv[1])]
num_ids = set(); 
for v in range(100): num_ids |= {T.encode(f" {v}")[0], T.encode(f"{v}")[0]}
num_list = sorted(num_ids); V = T.tok.get_vocab_size()
word_list = [i for i in range(4, V) if i not in num_ids]
rng = np.random.default_rng(0)

@torch.no_grad()
def decode(prompts, states):  # states: list of (resp tokens with MASK, commit steps array, start step)
    B = len(prompts); L = max(len(p) for p in prompts) + G
    x = torch.full((B, L), wt.PAD_ID); plen = torch.tensor([len(p) for p in prompts])
    cs = []
    for i, (p, (r, c, s0)) in enumerate(zip(prompts, states)):
        x[i, :len(p)] = torch.tensor(p); x[i, len(p):len(p) + G] = torch.tensor(r); cs.append(list(c))
    pos = torch.arange(L)[None]; kp = pos >= (plen[:, None] + G)
    step = [s0 for *_, s0 in states]
    while True:
        open_ = (x == wt.MASK_ID) & ~kp
        if not open_.any(): break
        lg = m(x, kp).double(); conf, x0 = lg.softmax(-1).max(-1)
        conf = torch.where(open_, conf, torch.full_like(conf, -math.inf))
        idx = conf.argmax(-1)
        for i in range(B):
            if open_[i].any():
                x[i, idx[i]] = x0[i, idx[i]]; cs[i][idx[i] - plen[i]] = step[i]; step[i] += 1
    return [x[i, plen[i]:plen[i] + G].tolist() for i in range(B)], cs

def answer(tokens):
    mt = wp.extract_answer(T.decode_response(tokens)); return None if mt is None else wp.normalize_numeric(mt.group('answer'))

prompts = [T.prompt_ids(p['question']) for p in probs]
clean, commits = [], []
for i in range(0, len(prompts), 50):
    t_, c_ = decode(prompts[i:i+50], [([wt.MASK_ID] * G, [-1] * G, 0)] * len(prompts[i:i+50])); clean += t_; commits += c_
cells = []
for i, (tok, cm) in enumerate(zip(clean, commits)):
    text = T.decode_response(tok); mt = wp.extract_answer(text)
    if mt is None: continue
    spans = T.token_char_spans(tok)
    a_tok = [k for k, (s, e) in enumerate(spans) if s < mt.end('answer') and e > mt.start('answer')]
    a_commit = max(cm[k] for k in a_tok)
    cot_tok = [k for k, (s, e) in enumerate(spans) if e <= mt.start()]
    for k in cot_tok:
        t = cm[k] + 1
        if t > a_commit: continue  # pre-commit only
        isnum = tok[k] in num_ids
        new = int(rng.choice([v for v in (num_list if isnum else word_list) if v != tok[k]]))
        r = [tok[j] if cm[j] < t else wt.MASK_ID for j in range(G)]; r[k] = new
        c = [cm[j] if cm[j] < t else -1 for j in range(G)]
        cells.append((i, k, isnum, prompts[i], (r, c, t), answer(tok), probs[i]['final']))
res = []
for b in range(0, len(cells), 64):
    ch = cells[b:b+64]
    out, _ = decode([c[3] for c in ch], [c[4] for c in ch])
    for c, o in zip(ch, out): res.append((c[2], answer(o) != c[5], c[5] == c[6]))
def wilson(k, n, z=1.96):
    p = k / n; d = 1 + z*z/n; c = (p + z*z/(2*n)) / d; h = z * math.sqrt(p*(1-p)/n + z*z/(4*n*n)) / d; return c - h, c + h
acc = sum(answer(t) == p['final'] for t, p in zip(clean, probs)) / len(probs)
print(f"clean accuracy {acc:.3f} on {len(probs)} held-out problems")
for name, sel in [("CoT number tokens", lambda r: r[0]), ("CoT non-number tokens", lambda r: not r[0])]:
    for sub, f2 in [("all clean runs", lambda r: True), ("correct clean runs", lambda r: r[2])]:
        rr = [r for r in res if sel(r) and f2(r)]; k = sum(r[1] for r in rr); n = len(rr)
        lo, hi = wilson(k, n) if n else (float('nan'),) * 2
        print(f"{name}, {sub}: flips {k}/{n} = {k/max(n,1):.3f}, 95% Wilson [{lo:.3f}, {hi:.3f}]")
