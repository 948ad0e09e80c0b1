#!/usr/bin/env python3
"""Query expansion on Cranfield: lode without it, with its defaults, and a
grid of its three parameters, on all queries and on each half.

  python3 bench/tune_expand.py BUILD_DIR

Indexes Cranfield once and runs all 225 queries with `lode-search
--no-expand`, with the defaults, and with `--expand DOCS,TERMS,WEIGHT` for
every point of the grid. Each row gives nDCG@10 / MAP / Recall@100 on all
queries, on the odd-numbered and on the even-numbered ones: a setting
chosen on one half should hold on the other (docs/RANKING.md). Not run by
CI; about a minute.
"""
import itertools
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "relevance"))
import cranfield  # noqa: E402
import evaluate  # noqa: E402

DOCS = [3, 5, 10, 20]
TERMS = [5, 10, 20, 30]
WEIGHTS = [0.3, 0.5, 0.7]


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else "build"
    root = cranfield.find_root(os.path.join(HERE, ".."))
    if root is None:
        sys.exit("no Cranfield collection (../shared/corpora/cranfield or $LODE_CRANFIELD)")
    qrels = cranfield.qrels(root)
    halves = [qrels] + [{q: v for q, v in qrels.items() if int(q) % 2 == p} for p in (1, 0)]
    with tempfile.TemporaryDirectory() as work:
        docs = os.path.join(work, "cran")
        cranfield.write_documents(root, docs)
        idx = os.path.join(work, "cran.lode")
        subprocess.run([os.path.join(build, "lode-index"), "-q", "-o", idx, docs], check=True)
        qfile = os.path.join(work, "q.tsv")
        with open(qfile, "w") as f:
            for qid, text in cranfield.queries(root):
                f.write("%s\t%s\n" % (qid, text))

        def row(name, *args):
            out = subprocess.run([os.path.join(build, "lode-search"), "-i", idx, "--format", "trec", "-n", "100",
                                  "--queries", qfile, *args], capture_output=True, check=True)
            run = evaluate.read_trec_run(out.stdout.decode())
            cells = []
            for q in halves:
                m = evaluate.evaluate(run, q)
                cells.append("%.4f / %.4f / %.4f" % (m["ndcg@10"], m["map"], m["recall@100"]))
            print("| %s | %s |" % (name, " | ".join(cells)), flush=True)

        print("| run | all: nDCG@10 / MAP / R@100 | odd queries | even queries |")
        print("|---|---|---|---|")
        row("--no-expand (BM25 alone)", "--no-expand")
        row("defaults", )
        for d, t, w in itertools.product(DOCS, TERMS, WEIGHTS):
            row("--expand %d,%d,%g" % (d, t, w), "--expand", "%d,%d,%g" % (d, t, w))


if __name__ == "__main__":
    main()
