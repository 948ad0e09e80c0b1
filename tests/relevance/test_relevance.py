#!/usr/bin/env python3
"""Ranking quality on the Cranfield collection, end to end through the
programs: write the documents, index them with lode-index, run all 225
queries through `lode-search --format trec`, score the run with
evaluate.py. A regression below the floors fails the suite.

The floors are the better of SQLite FTS5 (bm25, porter) and Xapian (BM25,
English stemmer) on the same collection, measured in bench/ (see
bench/RESULTS.md): lode must not rank worse than what people would use
instead.
"""
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import cranfield  # noqa: E402
import evaluate  # noqa: E402

# bench/relevance.py, 2026-11-24: FTS5 (SQLite 3.40.1) nDCG@10 0.3623, MAP
# 0.2947; Xapian 1.4.22 nDCG@10 0.3502, MAP 0.2781. The floor is the better.
FLOOR_NDCG10 = 0.3623
FLOOR_MAP = 0.2947


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
    with tempfile.TemporaryDirectory(prefix="lode-cran-") as work:
        run = lode_run(os.environ["LODE_INDEX_BIN"], os.environ["LODE_SEARCH_BIN"], root, work)
    m = evaluate.evaluate(run, cranfield.qrels(root))
    print("lode on Cranfield: nDCG@10 %.4f  MAP %.4f  Recall@100 %.4f  (%d queries)" %
          (m["ndcg@10"], m["map"], m["recall@100"], m["queries"]), file=sys.stderr)
    ok = m["ndcg@10"] >= FLOOR_NDCG10 and m["map"] >= FLOOR_MAP
    if not ok:
        print("FAIL below the floor: nDCG@10 >= %.3f, MAP >= %.3f" % (FLOOR_NDCG10, FLOOR_MAP), file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
