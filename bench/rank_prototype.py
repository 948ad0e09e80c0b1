#!/usr/bin/env python3
"""Ranking functions tried outside lode's code base, on exactly lode's
terms, for docs/RANKING.md: BM25F, BM25+, query-term saturation (k3),
Dirichlet language models, and variants of RM3 query expansion.

  cc -O2 -std=c11 -D_POSIX_C_SOURCE=200809L -Iinclude -Iindexer -Isearcher \\
     bench/analysed_dump.c BUILD/liblode.a -lutf8proc -lstemmer -lz -lm -o /tmp/analysed_dump
  python3 bench/rank_prototype.py BUILD /tmp/analysed_dump

Cranfield is indexed with BUILD/lode-index; bench/analysed_dump prints the
terms lode's analyzer makes of every document and query. Every query is a
bag of words here: a hyphenated word ("heat-transfer") is two words,
where lode searches it as a phrase, so the baseline row (lode's BM25 on
bags of words) differs a little from lode's own figures; compare the rows
with it. Each row prints nDCG@10, MAP and Recall@100 on all 225 queries,
then on the odd and the even ones (the split used to check that a gain
is not tuned to some of the queries). Not run by CI; about two minutes.
"""
import collections
import math
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "relevance"))
import cranfield  # noqa: E402
import evaluate  # noqa: E402


class Collection:
    def __init__(self, dump):
        self.docs, self.queries = {}, []
        for line in dump.splitlines():
            kind, name, terms = line.split("\t")
            terms = terms.split()
            if kind == "D":
                title = collections.Counter(t[1:] for t in terms if t.startswith("^"))
                body = collections.Counter(t for t in terms if not t.startswith("^"))
                self.docs[os.path.splitext(os.path.basename(name))[0]] = (title, body, sum(title.values()),
                                                                          sum(body.values()))
            else:
                self.queries.append((name, terms))
        self.n = len(self.docs)
        self.postings = collections.defaultdict(list)
        self.cf = collections.Counter()
        for d, (title, body, _, _) in self.docs.items():
            for w in set(title) | set(body):
                self.postings[w].append(d)
                self.cf[w] += title[w] + body[w]
        self.tokens = sum(tl + bl for _, _, tl, bl in self.docs.values())
        self.avgdl = self.tokens / self.n
        self.avgtl = sum(tl for _, _, tl, _ in self.docs.values()) / self.n
        self.avgbl = sum(bl for _, _, _, bl in self.docs.values()) / self.n

    def df(self, w):
        return len(self.postings.get(w, ()))

    def idf(self, w):
        df = self.df(w)
        return math.log(1 + (self.n - df + 0.5) / (df + 0.5))


def bm25_weighted(c, weights, k1=1.5, b=0.75, tw=3.0, delta=0.0, fields=None):
    """sum over terms of weight * idf * BM25 tf part (lode's formula: a
    title occurrence counts tw times; `fields` = (b_title, b_body) scores
    BM25F instead: each field normalised by its own length, then saturated)."""
    scores = collections.defaultdict(float)
    for w, qw in weights.items():
        idf = c.idf(w)
        for d in c.postings.get(w, ()):
            title, body, tl, bl = c.docs[d]
            if fields:
                bt, bb = fields
                tfe = tw * title[w] / (1 - bt + bt * tl / c.avgtl) + body[w] / (1 - bb + bb * bl / c.avgbl)
                part = tfe * (k1 + 1) / (tfe + k1)
            else:
                tfe = title[w] * tw + body[w]
                part = tfe * (k1 + 1) / (tfe + k1 * (1 - b + b * (tl + bl) / c.avgdl))
            scores[d] += qw * idf * (part + delta)
    return scores


def query_weights(c, q, binary=False):
    qtf = collections.Counter(t for t in q if c.df(t))
    return {w: 1.0 if binary else float(n) for w, n in qtf.items()}


def bm25(c, q, binary=False, **kw):
    return bm25_weighted(c, query_weights(c, q, binary), **kw)


def dirichlet(c, q, mu=1000, tw=1.0):
    qtf = query_weights(c, q)
    cand = set()
    for w in qtf:
        cand.update(c.postings[w])
    scores = {}
    for d in cand:
        title, body, tl, bl = c.docs[d]
        s = sum(n * math.log(1 + (title[w] * tw + body[w]) / (mu * c.cf[w] / c.tokens)) for w, n in qtf.items())
        scores[d] = s + sum(qtf.values()) * math.log(mu / (tl * tw + bl + mu))
    return scores


def ranked(scores, depth):
    return sorted(scores.items(), key=lambda x: (-x[1], int(x[0])))[:depth]


def rm3(c, q, docs=10, terms=10, lam=0.5, select="p", max_df=1.0, min_docs=1, with_query=True):
    """RM3: P(w|R) over the best `docs` documents (each weighted by its share
    of their BM25 scores), `terms` terms chosen by P(w|R) ("p") or
    P(w|R) * idf ("idf"), at most max_df of the documents, in at least
    min_docs feedback documents (query words exempt), the query's own words
    allowed or not; ranked again with the query weighted lam."""
    top = ranked(bm25(c, q), docs)
    total = sum(s for _, s in top)
    p, seen = collections.defaultdict(float), collections.Counter()
    for d, s in top:
        title, body, tl, bl = c.docs[d]
        for w in set(title) | set(body):
            p[w] += (s / total) * (title[w] + body[w]) / (tl + bl)
            seen[w] += 1
    qset = set(q)
    cands = []
    for w, pw in p.items():
        if w in qset and not with_query:
            continue
        if w not in qset and seen[w] < min(min_docs, len(top)):
            continue
        if c.df(w) > max_df * c.n:
            continue
        cands.append((pw * c.idf(w) if select == "idf" else pw, w, pw))
    chosen = sorted(cands, key=lambda x: (-x[0], x[1]))[:terms]
    norm = sum(pw for _, _, pw in chosen)
    weights = collections.defaultdict(float, query_weights(c, q))
    words = sum(weights.values())
    for _, w, pw in chosen:
        weights[w] += words * (1 - lam) / lam * pw / norm
    return bm25_weighted(c, weights)


def show(c, qrels, name, fn, **kw):
    run = {qid: [d for d, _ in ranked(fn(c, q, **kw), 100)] for qid, q in c.queries}
    parts = [evaluate.evaluate(run, qrels)]
    for parity in (1, 0):
        parts.append(evaluate.evaluate(run, {q: v for q, v in qrels.items() if int(q) % 2 == parity}))
    print("| %s | %s |" % (name, " | ".join("%.4f / %.4f / %.4f" % (m["ndcg@10"], m["map"], m["recall@100"])
                                          for m in parts)), flush=True)


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: rank_prototype.py BUILD_DIR ANALYSED_DUMP_BIN")
    build, dump_bin = sys.argv[1], sys.argv[2]
    root = cranfield.find_root(os.path.join(HERE, ".."))
    if root is None:
        sys.exit("no Cranfield collection (../shared/corpora/cranfield or $LODE_CRANFIELD)")
    qrels = cranfield.qrels(root)
    with tempfile.TemporaryDirectory() as work:
        docs = os.path.join(work, "cran")
        cranfield.write_documents(root, docs)
        idx = os.path.join(work, "cran.lode")
        subprocess.run([os.path.join(build, "lode-index"), "-q", "-o", idx, docs], check=True)
        qfile = os.path.join(work, "q.tsv")
        with open(qfile, "w") as f:
            for qid, text in cranfield.queries(root):
                f.write("%s\t%s\n" % (qid, text))
        dump = subprocess.run([dump_bin, idx, qfile], check=True, capture_output=True).stdout.decode()
    c = Collection(dump)
    print("| run (bags of words) | all: nDCG@10 / MAP / R@100 | odd queries | even queries |")
    print("|---|---|---|---|")
    show(c, qrels, "BM25 as lode (k1 1.5, b 0.75, title weight 3): the baseline", bm25)
    for bt, bb in ((0.75, 0.75), (0.5, 0.75), (0.3, 0.75), (1.0, 0.5)):
        show(c, qrels, "BM25F, b_title %g, b_body %g (k1 1.5, title weight 3)" % (bt, bb), bm25, fields=(bt, bb))
    for delta in (0.25, 0.5, 1.0):
        show(c, qrels, "BM25+ delta %g" % delta, bm25, delta=delta)
    show(c, qrels, "query words counted once (k3 = 0)", bm25, binary=True)
    for mu in (250, 500, 1000, 2000):
        show(c, qrels, "Dirichlet LM, mu %d" % mu, dirichlet, mu=mu)
    show(c, qrels, "Dirichlet LM, mu 1000, title words x3", dirichlet, mu=1000, tw=3.0)
    show(c, qrels, "RM3 as Anserini (R 10, E 10, lambda 0.5, P(w|R), df <= 10%)", rm3, max_df=0.1)
    show(c, qrels, "RM3 as Anserini, E 20", rm3, terms=20, max_df=0.1)
    show(c, qrels, "RM3, E 20, df <= 10%, the query's words left out", rm3, terms=20, max_df=0.1, with_query=False)
    show(c, qrels, "RM3, E 20, no df limit", rm3, terms=20)
    show(c, qrels, "RM3, E 20, chosen by P(w|R) * idf", rm3, terms=20, select="idf")
    show(c, qrels, "RM3, E 20, by P(w|R) * idf, in 2+ feedback documents", rm3, terms=20, select="idf", min_docs=2)
    show(c, qrels, "RM3, E 10, by P(w|R) * idf, in 2+ feedback documents", rm3, select="idf", min_docs=2)
    show(c, qrels, "RM3, R 5, E 10, by P(w|R) * idf, in 2+ (lode's default)", rm3, docs=5, select="idf",
         min_docs=2)
    show(c, qrels, "RM3, R 3, E 10, by P(w|R) * idf, in 2+ (Terrier's R and E)", rm3, docs=3, select="idf",
         min_docs=2)


if __name__ == "__main__":
    main()
