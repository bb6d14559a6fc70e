"""Expected values for Tests/SamplingTests, computed independently of the Swift code.

Writes expected.json:
- xoshiro: xoshiro256** seeded by SplitMix64 (reference algorithms transcribed from
  Blackman & Vigna's C code), first outputs and unit-interval doubles, and after one jump.
- distributions: the probabilities that temperature / top-k / top-p leave (vLLM 0.4.x's
  `_apply_top_k_top_p` rule, in float64), and the chi-square critical value at p = 0.001 for
  the case's degrees of freedom (regularised incomplete gamma, bisection).
- beams: vLLM 0.4.x's beam search (a transcription of `_beam_search_sample`,
  `_process_sequence_group_outputs` and `_check_beam_search_early_stopping`) on a toy model whose
  logits are a table by prefix, for length_penalty 0.5 / 1 / 2 and early_stopping
  True / False / "never". The table's seed is searched so that the modes and penalties give
  different answers and no ranking is decided by a near-tie.

Run with the fixtures venv: ~/.cache/sparrow/fixtures-venv/bin/python make_fixtures.py
"""
import itertools
import json
import math

import numpy as np

MASK = (1 << 64) - 1


# ---------------------------------------------------------------- generator reference
def splitmix64(state):
    state = (state + 0x9E3779B97F4A7C15) & MASK
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return state, z ^ (z >> 31)


def rotl(x, k):
    return ((x << k) | (x >> (64 - k))) & MASK


class Xoshiro:
    def __init__(self, seed):
        st = seed
        self.s = []
        for _ in range(4):
            st, v = splitmix64(st)
            self.s.append(v)

    def next(self):
        s = self.s
        result = (rotl((s[1] * 5) & MASK, 7) * 9) & MASK
        t = (s[1] << 17) & MASK
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = rotl(s[3], 45)
        return result

    def jump(self):
        poly = [0x180EC6D33CFD0ABA, 0xD5A61266F0C9392C, 0xA9582618E03FC9AA, 0x39ABDC4529B1661C]
        t = [0, 0, 0, 0]
        for word in poly:
            for b in range(64):
                if word & (1 << b):
                    t = [t[i] ^ self.s[i] for i in range(4)]
                self.next()
        self.s = t


def xoshiro_cases():
    cases = []
    for seed in [0, 42, 0xDEADBEEFCAFEF00D]:
        g = Xoshiro(seed)
        outputs = [g.next() for _ in range(5)]
        g = Xoshiro(seed)
        units = [(g.next() >> 11) * 2.0 ** -53 for _ in range(3)]
        g = Xoshiro(seed)
        g.jump()
        jumped = [g.next() for _ in range(3)]
        cases.append({"seed": str(seed), "outputs": [str(v) for v in outputs], "units": units,
                      "afterJump": [str(v) for v in jumped]})
    return cases


# ---------------------------------------------------------------- distributions
def processed_probabilities(logits, temperature, top_k, top_p):
    x = np.asarray(logits, dtype=np.float64) / temperature
    order = np.argsort(-x, kind="stable")
    keep = np.ones(len(x), dtype=bool)
    if top_k > 0:
        kth = np.sort(x)[::-1][top_k - 1]
        keep &= x >= kth
    if top_p < 1:
        xs = np.where(keep, x, -np.inf)
        asc = order[::-1]  # ascending; among ties the higher id counts as less likely
        p = np.exp(xs[asc] - xs.max())
        p /= p.sum()
        cum = np.cumsum(p)
        threshold = 1 - top_p
        margin = np.min(np.abs(cum - threshold))
        assert margin > 1e-3, f"top-p boundary too close to call: {margin}"
        dropped = cum <= threshold
        dropped[-1] = False
        keep[asc[dropped]] = False
    final = np.where(keep, np.exp(x - x.max()), 0)
    return (final / final.sum()).tolist()


def regularized_lower_gamma(s, x):
    # Series expansion; fine for the small degrees of freedom used here.
    total, term, k = 0.0, 1.0 / s, 0
    while abs(term) > 1e-17 * abs(total) or k < 10:
        total += term
        k += 1
        term *= x / (s + k)
        if k > 100000:
            break
    return math.exp(-x + s * math.log(x) - math.lgamma(s)) * total


def chi2_critical(df, p_value=0.001):
    lo, hi = 0.0, 1000.0
    for _ in range(200):
        mid = (lo + hi) / 2
        if 1 - regularized_lower_gamma(df / 2, mid / 2) > p_value:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def distribution_cases():
    cases = []
    specs = [
        ("temperature 0.7, top_k 6, top_p 0.85",
         [2.0, 1.5, 1.2, 1.2, 0.3, -0.5, -1.0, 0.9, 0.0, -2.0], 0.7, 6, 0.85),
        ("temperature 1.3 over 40 tokens, no filter",
         [math.sin(i * 0.7) * 2.5 - i * 0.03 for i in range(40)], 1.3, -1, 1.0),
        ("temperature 0.5, top_p 0.9",
         [0.5, 1.0, 1.5, 2.0, 0.2, 1.1, 1.9, -0.4], 0.5, -1, 0.9),
    ]
    for name, logits, t, k, p in specs:
        probs = processed_probabilities(logits, t, k, p)
        df = sum(1 for q in probs if q > 0) - 1
        cases.append({"name": name, "logits": logits, "temperature": t, "topK": k, "topP": p,
                      "probabilities": probs, "degreesOfFreedom": df, "critical": chi2_critical(df)})
    return cases


# ---------------------------------------------------------------- beam search (vLLM 0.4.x)
VOCAB, PROMPT, MAX_TOKENS, WIDTH, N, EOS, CONTEXT = 5, 3, 4, 2, 2, 0, 100


def log_softmax32(logits):
    x = np.asarray(logits, dtype=np.float32).astype(np.float64)
    m = x.max()
    return (x - m) - math.log(np.exp(x - m).sum())


class Seq:
    def __init__(self, tokens, cum, status=None, continues=False):
        self.tokens, self.cum, self.status = tokens, cum, status
        # Whether this child continues its parent's sequence (vLLM's parent.append_token_id for
        # the last sample) rather than being a fork.
        self.continues = continues

    def length(self, count_eos):
        n = PROMPT + len(self.tokens)
        if not count_eos and self.tokens and self.tokens[-1] == EOS and self.status == "stop":
            n -= 1
        return n

    def score(self, lp, seq_len=None, count_eos=False):
        n = self.length(count_eos) if seq_len is None else seq_len
        return self.cum / n ** lp


class NearTie(Exception):
    pass


def check_gaps(values, what):
    v = sorted(values, reverse=True)
    for a, b in zip(v, v[1:]):
        if 0 < a - b < 1e-4 or a == b:
            raise NearTie(what)


def vllm_beam_search(table, lp, early_stopping):
    running = [Seq([], 0.0)]
    finished = []
    # seq_group.seqs_dict in insertion order: RequestOutput's index is seqs.index(seq).
    group = [running[0]]
    while True:
        # _beam_search_sample: top 2*width over (parent cumulative + logprob), parents x vocab.
        cands = []
        for pi, seq in enumerate(running):
            logprobs = log_softmax32(table[tuple(seq.tokens)])
            for tok in range(VOCAB):
                cands.append((seq.cum + logprobs[tok], pi, tok, logprobs[tok]))
        cands.sort(key=lambda c: -c[0])
        check_gaps([c[0] for c in cands[: 2 * WIDTH + 1]], "candidate selection")
        chosen = cands[: 2 * WIDTH]
        # _process_sequence_group_outputs: children grouped by parent, in parent order. A
        # parent's last sample continues the parent (its place in the group); the others fork.
        # A parent without samples leaves the group.
        children = []
        for pi, seq in enumerate(running):
            samples = [c for c in chosen if c[1] == pi]
            if not samples:
                group.remove(seq)
            for k, (total, cpi, tok, logprob) in enumerate(samples):
                child = Seq(seq.tokens + [tok], seq.cum + logprob, continues=k == len(samples) - 1)
                if child.continues:
                    group[group.index(seq)] = child
                if tok == EOS:
                    child.status = "stop"
                elif len(child.tokens) >= MAX_TOKENS:
                    child.status = "length"
                children.append(child)
        new_finished = [c for c in children if c.status]
        all_finished = finished + new_finished
        check_gaps([s.score(lp) for s in all_finished], "finished ranking")
        all_finished.sort(key=lambda s: s.score(lp), reverse=True)
        # Finished beams pushed out leave the group, and so does a new one that continues its
        # parent; a new fork that is pushed out was never added.
        for s in all_finished[WIDTH:]:
            if s not in new_finished or s.continues:
                group.remove(s)
        selected = [s for s in all_finished[:WIDTH] if s in new_finished]
        finished = all_finished[:WIDTH]
        run = [c for c in children if not c.status]
        check_gaps([s.score(lp) for s in run], "running ranking")
        run.sort(key=lambda s: s.score(lp), reverse=True)
        if not run:
            stop = True
        elif len(all_finished) < WIDTH:
            stop = False
        else:
            best, worst = run[0], all_finished[WIDTH - 1]
            if early_stopping is True:
                stop = True
            else:
                worst_score = worst.score(lp)
                if early_stopping is False or lp <= 0:
                    attainable = best.score(lp)
                else:
                    # vLLM's bound, max(prompt + max_tokens, max_model_len).
                    attainable = best.score(lp, seq_len=max(PROMPT + MAX_TOKENS, CONTEXT))
                if abs(worst_score - attainable) < 1e-4:
                    raise NearTie("early stopping")
                stop = worst_score >= attainable
        # Selected forks join the group (new finished first, then running); unselected running
        # children that continue their parent leave it.
        selected += [] if stop else run[:WIDTH]
        for s in selected:
            if not s.continues:
                group.append(s)
        for s in run if stop else run[WIDTH:]:
            if s.continues:
                group.remove(s)
        if stop:
            break
        running = run[:WIDTH]
    # RequestOutput.from_seq_group ranks the finished beams again with get_beam_search_score
    # called without eos_token_id: a final EOS counts in the length. token_ids keep the EOS.
    check_gaps([s.score(lp, count_eos=True) for s in finished], "final ranking")
    ranked = sorted(finished, key=lambda s: s.score(lp, count_eos=True), reverse=True)
    assert len(group) == len(finished) and all(s in finished for s in group)
    return [{"tokens": s.tokens, "endedByEOS": s.status == "stop", "index": group.index(s),
             "cumulativeLogprob": s.cum, "score": s.score(lp, count_eos=True)} for s in ranked[:N]]


def make_table(seed):
    rng = np.random.default_rng(seed)
    table = {}
    for depth in range(MAX_TOKENS):
        for prefix in itertools.product(range(1, VOCAB), repeat=depth):
            logits = rng.normal(0, 1.5, VOCAB).astype(np.float32)
            logits[EOS] += rng.normal(-0.5, 1.5)
            table[prefix] = logits
    return table


def beam_cases():
    for seed in range(1, 5000):
        table = make_table(seed)
        try:
            results = {(lp, es): vllm_beam_search(table, lp, es)
                       for lp in [0.5, 1.0, 2.0] for es in [True, False, "never"]}
        except NearTie:
            continue
        key = lambda r: json.dumps([x["tokens"] for x in r])
        modes_differ = all(
            any(key(results[(lp, a)]) != key(results[(lp, b)]) for lp in [0.5, 1.0, 2.0])
            for a, b in [(True, False), (False, "never"), (True, "never")])
        penalties_differ = all(
            any(key(results[(a, es)]) != key(results[(b, es)]) for es in [True, False, "never"])
            for a, b in [(0.5, 1.0), (1.0, 2.0), (0.5, 2.0)])
        if modes_differ and penalties_differ:
            break
    else:
        raise SystemExit("no discriminating table found")
    rows = [{"prefix": list(k), "logits": [float(v) for v in table[k]]} for k in sorted(table)]
    cases = [{"lengthPenalty": lp, "earlyStopping": {True: "true", False: "false", "never": "never"}[es],
              "expected": results[(lp, es)]} for (lp, es) in results]
    return {"seed": seed, "vocabulary": VOCAB, "promptLength": PROMPT, "maxTokens": MAX_TOKENS,
            "width": WIDTH, "n": N, "eos": EOS, "contextLength": CONTEXT, "table": rows, "cases": cases}


if __name__ == "__main__":
    out = {"numpy": np.__version__, "xoshiro": xoshiro_cases(), "distributions": distribution_cases(),
           "beams": beam_cases()}
    with open("expected.json", "w") as f:
        json.dump(out, f, indent=1)
    print("table seed", out["beams"]["seed"])
    for c in out["beams"]["cases"]:
        print(c["lengthPenalty"], c["earlyStopping"], [(e["tokens"], round(e["score"], 4)) for e in c["expected"]])
