#!/usr/bin/env python3
"""Grid search of BM25 k1, b and the title weight on Cranfield.

  python3 bench/tune.py BUILD_DIR [--expand]

Indexes Cranfield once, runs all queries for every setting with
`lode-search --bm25 K1,B,TW`, prints one line per setting sorted by nDCG@10.
BM25 alone (`--no-expand`) unless --expand is given: then with query
expansion on, as lode ranks by default. Used to choose lode's defaults
(docs/RANKING.md); not run by CI. bench/tune_expand.py does the same for
the parameters of the expansion.
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


def main():
    args = [a for a in sys.argv[1:] if a != "--expand"]
    build = args[0] if args else "build"
    extra = [] if "--expand" in sys.argv[1:] else ["--no-expand"]
    root = cranfield.find_root(os.path.join(HERE, ".."))
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
        results = []
        for k1, b, tw in itertools.product([0.6, 0.9, 1.2, 1.5, 2.0], [0.3, 0.5, 0.75, 0.9], [1.0, 1.5, 2.0, 3.0]):
            out = subprocess.run([os.path.join(build, "lode-search"), "-i", idx, "--format", "trec", "-n", "100",
                                  "--queries", qfile, "--bm25", "%g,%g,%g" % (k1, b, tw), *extra],
                                 capture_output=True)
            m = evaluate.evaluate(evaluate.read_trec_run(out.stdout.decode()), qrels)
            results.append((m["ndcg@10"], m["map"], m["recall@100"], k1, b, tw))
    for r in sorted(results, reverse=True):
        print("nDCG@10 %.4f  MAP %.4f  R@100 %.4f   k1 %.1f  b %.2f  title %.1f" % r)


if __name__ == "__main__":
    main()
