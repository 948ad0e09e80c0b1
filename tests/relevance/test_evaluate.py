#!/usr/bin/env python3
"""The evaluator against numbers worked out by hand."""
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import evaluate  # noqa: E402

failures = 0


def near(a, b, what):
    global failures
    if abs(a - b) > 1e-9:
        failures += 1
        print("FAIL %s: %.12f != %.12f" % (what, a, b), file=sys.stderr)
    else:
        print("ok   %s" % what, file=sys.stderr)


# Judged: a gain 3, b gain 2, c gain 1, d not relevant (0); x unjudged.
judged = {"a": 3, "b": 2, "c": 1, "d": 0}
ranked = ["x", "b", "d", "a"]

# DCG@3 = 0/log2(2) + 2/log2(3) + 0/log2(4) = 1.261859507...
# IDCG@3 = 3/1 + 2/log2(3) + 1/2 = 4.761859507...
near(evaluate.ndcg_at(ranked, judged, 3), (2 / math.log2(3)) / (3 + 2 / math.log2(3) + 0.5), "ndcg@3 by hand")
# AP: relevant {a, b, c}; b at rank 2 -> 1/2, a at rank 4 -> 2/4; c missing. (0.5 + 0.5) / 3
near(evaluate.average_precision(ranked, judged), 1.0 / 3.0, "average precision by hand")
near(evaluate.recall_at(ranked, judged, 2), 1.0 / 3.0, "recall@2 by hand")
near(evaluate.recall_at(ranked, judged, 4), 2.0 / 3.0, "recall@4 by hand")
# A perfect ranking scores 1 everywhere.
near(evaluate.ndcg_at(["a", "b", "c"], judged, 10), 1.0, "ideal ranking ndcg")
near(evaluate.average_precision(["a", "b", "c"], judged), 1.0, "ideal ranking AP")
# The mean skips queries without relevant documents.
m = evaluate.evaluate({"1": ["a"], "2": ["z"]}, {"1": {"a": 1}, "2": {"z": 0}})
near(m["map"], 1.0, "queries without relevant documents are skipped")
near(float(m["queries"]), 1.0, "and not counted")
run = evaluate.read_trec_run("7 Q0 b 2 1.5 r\n7 Q0 a 1 2.0 r\n")
near(1.0 if run == {"7": ["a", "b"]} else 0.0, 1.0, "TREC run lines are ordered by rank")
sys.exit(1 if failures else 0)
