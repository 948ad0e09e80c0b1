#!/usr/bin/python3
"""SQLite FTS5 and Xapian behind bench/run.py's adapter: index a folder,
run a query file in-process and print per-query latencies.

  /usr/bin/python3 bench/engines_py.py index ENGINE CORPUS_DIR INDEX_PATH
  /usr/bin/python3 bench/engines_py.py query ENGINE INDEX_PATH QUERIES.tsv REPS

ENGINE is one of
  fts5             fts5(path UNINDEXED, body), tokenize 'porter unicode61
                   remove_diacritics 2', the text stored (content table)
  fts5-contentless the same with content='' (no stored text, no path)
  fts5-snippet     (query only) the content table, top 10 with
                   snippet(d, 1, ...) as the passage, like lode's passages
  xapian           TermGenerator with the English stemmer and positions,
                   the path as document data; BM25Weight (its defaults)
  empty            (query only) a call that does nothing, timed the same
                   way: the Python overhead of the timing loop

Indexing walks the folder in sorted order, skips files with a NUL byte in
the first 8 KiB (as lode and grep do) and reads each file as UTF-8 with
replacement. FTS5 is loaded in one transaction; Xapian commits once at the
end (it flushes every 10000 documents by default).

Queries: lines CLASS<TAB>QUERY. Bare words are ORed ("w1" OR "w2" for FTS5,
QueryParser with OP_OR as the default operator for Xapian); a "quoted
phrase" is a phrase in both. Every query runs once to warm up, then REPS
times; each run is timed with time.perf_counter_ns() around the query and
reading the top 10 (rowid and path, or docid and data). Prints "QUERY_NO REP
NS HITS" lines.
"""
import os
import re
import sqlite3
import sys
import time

TOKENIZE = "porter unicode61 remove_diacritics 2"


def documents(corpus):
    for top, dirs, names in os.walk(corpus):
        dirs.sort()
        dirs[:] = [d for d in dirs if d not in (".git", ".hg", ".svn")]
        for name in sorted(names):
            path = os.path.join(top, name)
            try:
                with open(path, "rb") as f:
                    raw = f.read()
            except OSError:
                continue
            if b"\0" in raw[:8192]:
                continue
            yield os.path.relpath(path, corpus), raw.decode("utf-8", "replace")


def read_queries(path):
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            out.append(line.split("\t", 1)[-1])
    return out


def fts5_query(q):
    if q.startswith('"'):
        return q
    return " OR ".join('"%s"' % w for w in q.split())


def index(engine, corpus, out):
    if engine in ("fts5", "fts5-contentless"):
        if os.path.exists(out):
            os.remove(out)
        db = sqlite3.connect(out)
        if engine == "fts5":
            db.execute("CREATE VIRTUAL TABLE d USING fts5(path UNINDEXED, body, tokenize='%s')" % TOKENIZE)
            rows = ((p, t) for p, t in documents(corpus))
            sql = "INSERT INTO d(path, body) VALUES (?, ?)"
        else:
            db.execute("CREATE VIRTUAL TABLE d USING fts5(body, content='', tokenize='%s')" % TOKENIZE)
            rows = ((t,) for _, t in documents(corpus))
            sql = "INSERT INTO d(body) VALUES (?)"
        with db:
            db.executemany(sql, rows)
        db.close()
    elif engine == "xapian":
        import xapian
        db = xapian.WritableDatabase(out, xapian.DB_CREATE_OR_OVERWRITE)
        tg = xapian.TermGenerator()
        tg.set_stemmer(xapian.Stem("english"))
        for path, text in documents(corpus):
            doc = xapian.Document()
            tg.set_document(doc)
            tg.index_text(text)
            doc.set_data(path)
            db.add_document(doc)
        db.commit()
        db.close()
    else:
        raise SystemExit("unknown engine " + engine)


def optimize_fts5(path):
    """FTS5's smallest form: merge all segments, then VACUUM."""
    db = sqlite3.connect(path)
    with db:
        db.execute("INSERT INTO d(d) VALUES('optimize')")
    db.execute("VACUUM")
    db.close()


def searcher(engine, path):
    """A function query -> number of hits read (top 10)."""
    if engine == "empty":
        return lambda q: 0
    if engine.startswith("fts5"):
        db = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
        if engine == "fts5":
            sql = "SELECT rowid, path FROM d WHERE d MATCH ? ORDER BY bm25(d) LIMIT 10"
        elif engine == "fts5-snippet":
            sql = ("SELECT rowid, path, snippet(d, 1, '[', ']', '...', 24) FROM d WHERE d MATCH ? "
                   "ORDER BY bm25(d) LIMIT 10")
        else:
            sql = "SELECT rowid FROM d WHERE d MATCH ? ORDER BY bm25(d) LIMIT 10"

        def run(q):
            return len(db.execute(sql, (fts5_query(q),)).fetchall())
        return run
    if engine == "xapian":
        import xapian
        db = xapian.Database(path)
        qp = xapian.QueryParser()
        qp.set_stemmer(xapian.Stem("english"))
        qp.set_stemming_strategy(xapian.QueryParser.STEM_SOME)
        qp.set_default_op(xapian.Query.OP_OR)
        qp.set_database(db)
        enq = xapian.Enquire(db)
        enq.set_weighting_scheme(xapian.BM25Weight())

        def run(q):
            enq.set_query(qp.parse_query(q, xapian.QueryParser.FLAG_DEFAULT | xapian.QueryParser.FLAG_PHRASE))
            n = 0
            for m in enq.get_mset(0, 10):
                m.document.get_data()
                n += 1
            return n
        return run
    raise SystemExit("unknown engine " + engine)


def query(engine, path, qfile, reps):
    queries = read_queries(qfile)
    run = searcher(engine, path)
    for q in queries:
        run(q)
    clock = time.perf_counter_ns
    out = []
    for r in range(reps):
        for i, q in enumerate(queries):
            a = clock()
            n = run(q)
            b = clock()
            out.append("%d %d %d %d" % (i, r, b - a, n))
    sys.stdout.write("\n".join(out) + "\n")


def main():
    if len(sys.argv) >= 5 and sys.argv[1] == "index":
        index(sys.argv[2], sys.argv[3], sys.argv[4])
    elif len(sys.argv) >= 4 and sys.argv[1] == "optimize":
        optimize_fts5(sys.argv[3])
    elif len(sys.argv) >= 6 and sys.argv[1] == "query":
        query(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
