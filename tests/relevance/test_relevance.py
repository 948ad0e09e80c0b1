#!/usr/bin/env python3
"""Ranking quality on the Cranfield collection, end to end through the
programs: write the documents, index them with lode-index, run all 225
queries through `lode-search --format trec`, score the run with
evaluate.py. A regression below the floors fails the suite.

Two runs: lode as it ranks by default (BM25 with query expansion,
docs/RANKING.md), held just under its measured figures so that a change
that loses ranking quality fails; and BM25 alone (`--no-expand`), held to
the better of SQLite FTS5 (bm25, porter) and Xapian (BM25, English
stemmer) on the same collection, measured in bench/ (see
bench/RESULTS.md): even without expansion lode must not rank worse than
what people would use instead.
"""
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import cranfield  # noqa: E402
import evaluate  # noqa: E402

# bench/tune_expand.py: lode's defaults nDCG@10 0.4096, MAP 0.3511 (BM25
# alone 0.3728, 0.3012). The floor leaves room for the last digits of
# floating point on another machine, not for a lost gain.
FLOOR_NDCG10 = 0.408
FLOOR_MAP = 0.349
# bench/relevance.py, 2026-11-24: FTS5 (SQLite 3.40.1) nDCG@10 0.3623, MAP
# 0.2947; Xapian 1.4.22 nDCG@10 0.3502, MAP 0.2781. The floor of BM25
# alone is the better.
FLOOR_BM25_NDCG10 = 0.3623
FLOOR_BM25_MAP = 0.2947


def lode_run(index_bin, search_bin, root, work, extra=()):
    docs = os.path.join(work, "cran")
    if not os.path.isdir(docs):
        cranfield.write_documents(root, docs)
    idx = os.path.join(work, "cran.lode")
    subprocess.run([index_bin, "-q", "-o", idx, docs], check=True)
    qfile = os.path.join(work, "queries.tsv")
    with open(qfile, "w") as f:
        for qid, text in cranfield.queries(root):
            f.write("%s\t%s\n" % (qid, text))
    out = subprocess.run([search_bin, "-i", idx, "--format", "trec", "--run-id", "lode", "-n", "100",
                          "--queries", qfile, *extra], capture_output=True, check=False)
    if out.returncode not in (0, 1):
        raise SystemExit("lode-search failed: %s" % out.stderr.decode())
    return evaluate.read_trec_run(out.stdout.decode())


def main():
    root = cranfield.find_root(os.environ["LODE_SOURCE_DIR"])
    if root is None:
        print("no Cranfield collection beside the project (../shared/corpora/cranfield)", file=sys.stderr)
        return 1
    ok = True
    with tempfile.TemporaryDirectory(prefix="lode-cran-") as work:
        for name, extra, floor_ndcg, floor_map in (("lode", (), FLOOR_NDCG10, FLOOR_MAP),
                                                   ("lode --no-expand", ("--no-expand",), FLOOR_BM25_NDCG10,
                                                    FLOOR_BM25_MAP)):
            run = lode_run(os.environ["LODE_INDEX_BIN"], os.environ["LODE_SEARCH_BIN"], root, work, extra)
            m = evaluate.evaluate(run, cranfield.qrels(root))
            print("%s on Cranfield: nDCG@10 %.4f  MAP %.4f  Recall@100 %.4f  (%d queries)" %
                  (name, m["ndcg@10"], m["map"], m["recall@100"], m["queries"]), file=sys.stderr)
            if m["ndcg@10"] < floor_ndcg or m["map"] < floor_map:
                print("FAIL %s below the floor: nDCG@10 >= %.4f, MAP >= %.4f" % (name, floor_ndcg, floor_map),
                      file=sys.stderr)
                ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
