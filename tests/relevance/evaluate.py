"""Ranking-quality measures for lode's relevance tests, written here so that
the numbers mean exactly what this file says.

qrels: {qid: {docid: gain}}, gain > 0 for a relevant document.
run:   {qid: [docid, ...]} best first.

- nDCG@k: sum of gain / log2(rank + 1) over the first k results, divided by
  the same sum for the ideal ordering of the judged gains (linear gains, as
  trec_eval's ndcg_cut). A query without relevant documents is skipped.
- AP: mean of precision at the rank of each relevant document retrieved,
  over all relevant documents (retrieved or not); MAP averages AP.
- Recall@k: relevant documents in the first k over all relevant ones.
All three average over the queries that have at least one relevant document.
"""
import math


def ndcg_at(ranked, judged, k):
    dcg = sum(judged.get(d, 0) / math.log2(i + 2) for i, d in enumerate(ranked[:k]))
    ideal = sorted((g for g in judged.values() if g > 0), reverse=True)[:k]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg > 0 else 0.0


def average_precision(ranked, judged):
    relevant = {d for d, g in judged.items() if g > 0}
    if not relevant:
        return 0.0
    hits, total, seen = 0, 0.0, set()
    for i, d in enumerate(ranked):
        if d in relevant and d not in seen:
            seen.add(d)
            hits += 1
            total += hits / (i + 1)
    return total / len(relevant)


def recall_at(ranked, judged, k):
    relevant = {d for d, g in judged.items() if g > 0}
    if not relevant:
        return 0.0
    return len(relevant.intersection(ranked[:k])) / len(relevant)


def evaluate(run, qrels, k_ndcg=10, k_recall=100):
    qids = [q for q in qrels if any(g > 0 for g in qrels[q].values())]
    n = len(qids)
    ndcg = sum(ndcg_at(run.get(q, []), qrels[q], k_ndcg) for q in qids) / n
    ap = sum(average_precision(run.get(q, []), qrels[q]) for q in qids) / n
    rec = sum(recall_at(run.get(q, []), qrels[q], k_recall) for q in qids) / n
    return {"ndcg@%d" % k_ndcg: ndcg, "map": ap, "recall@%d" % k_recall: rec, "queries": n}


def read_trec_run(text):
    """'qid Q0 docid rank score run' lines into {qid: [docid...]} by rank."""
    rows = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) != 6:
            continue
        rows.setdefault(parts[0], []).append((int(parts[3]), parts[2]))
    return {q: [d for _, d in sorted(v)] for q, v in rows.items()}
