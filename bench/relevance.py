#!/usr/bin/python3
"""Cranfield ranking quality of lode, SQLite FTS5 and Xapian, side by side,
with the project's own evaluator (tests/relevance/evaluate.py).

  /usr/bin/python3 bench/relevance.py BUILD_DIR

Needs Debian's python3-xapian (for the system python3) and sqlite3 with
FTS5 (Debian's libsqlite3 has it). Prints a Markdown table.

- FTS5: one table (title, body), tokenize 'porter unicode61
  remove_diacritics 2', every query word quoted and joined with OR, ranked
  by bm25() (k1 1.2, b 0.75, both columns weight 1).
- Xapian: TermGenerator with the English stemmer and positions over title
  and body, QueryParser with the English stemmer (STEM_SOME) and OR as the
  default operator, BM25Weight with its defaults (k1 1, b 0.5).
- lode: lode-index, then lode-search --format trec, defaults (BM25 with
  query expansion), and again with --no-expand (BM25 alone).
"""
import os
import re
import sqlite3
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "relevance"))
import cranfield  # noqa: E402
import evaluate  # noqa: E402
import test_relevance  # noqa: E402


def fts5_run(docs, queries, depth=100):
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE d USING fts5(title, body, tokenize='porter unicode61 remove_diacritics 2')")
    with db:
        db.executemany("INSERT INTO d(rowid, title, body) VALUES (?, ?, ?)", docs)
    run = {}
    for qid, text in queries:
        words = re.findall(r"\w+", text.lower())
        if not words:
            continue
        match = " OR ".join('"%s"' % w for w in words)
        rows = db.execute("SELECT rowid FROM d WHERE d MATCH ? ORDER BY bm25(d) LIMIT ?", (match, depth))
        run[qid] = [str(r[0]) for r in rows]
    return run


def xapian_run(docs, queries, depth=100):
    import xapian
    with tempfile.TemporaryDirectory() as tmp:
        db = xapian.WritableDatabase(tmp, xapian.DB_CREATE_OR_OVERWRITE)
        tg = xapian.TermGenerator()
        tg.set_stemmer(xapian.Stem("english"))
        for num, title, body in docs:
            doc = xapian.Document()
            tg.set_document(doc)
            tg.index_text(title)
            tg.increase_termpos()
            tg.index_text(body)
            doc.add_value(0, str(num))
            db.replace_document(num, doc)
        db.commit()
        qp = xapian.QueryParser()
        qp.set_stemmer(xapian.Stem("english"))
        qp.set_stemming_strategy(xapian.QueryParser.STEM_SOME)
        qp.set_default_op(xapian.Query.OP_OR)
        qp.set_database(db)
        enq = xapian.Enquire(db)
        enq.set_weighting_scheme(xapian.BM25Weight())
        run = {}
        for qid, text in queries:
            enq.set_query(qp.parse_query(text))
            run[qid] = [m.document.get_value(0).decode() for m in enq.get_mset(0, depth)]
        return run


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else "build"
    root = cranfield.find_root(os.path.join(HERE, ".."))
    docs = cranfield.documents(root)
    queries = cranfield.queries(root)
    qrels = cranfield.qrels(root)
    rows = []
    with tempfile.TemporaryDirectory() as work:
        for name, extra in (("lode", ()), ("lode --no-expand", ("--no-expand",))):
            run = test_relevance.lode_run(os.path.join(build, "lode-index"), os.path.join(build, "lode-search"), root,
                                          work, extra)
            rows.append((name, evaluate.evaluate(run, qrels)))
    rows.append(("SQLite FTS5 " + sqlite3.sqlite_version, evaluate.evaluate(fts5_run(docs, queries), qrels)))
    try:
        import xapian
        rows.append(("Xapian " + xapian.version_string(), evaluate.evaluate(xapian_run(docs, queries), qrels)))
    except ImportError:
        print("python3-xapian is not installed: apt-get install python3-xapian", file=sys.stderr)
    print("| engine | nDCG@10 | MAP | Recall@100 |")
    print("|---|---|---|---|")
    for name, m in rows:
        print("| %s | %.4f | %.4f | %.4f |" % (name, m["ndcg@10"], m["map"], m["recall@100"]))


if __name__ == "__main__":
    main()
