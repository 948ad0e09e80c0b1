// clucene_driver - CLucene behind bench/run.py's adapter.
//
//   clucene_driver index FILELIST INDEX_DIR [store]
//   clucene_driver query INDEX_DIR QUERIES.tsv REPS
//
// index: every file named in FILELIST (one path a line, read as UTF-8) becomes
// a document with a stored, untokenized "path" and a tokenized "body" (not
// stored, unless "store" is given). Analyzer: the SnowballAnalyzer of
// CLucene's contribs with the English stemmer and no stop words
// (StandardTokenizer, StandardFilter, LowerCaseFilter, SnowballFilter), so
// that words are matched as in the other engines. Field length unlimited
// (Lucene's default truncates a field at 10000 words). Default RAM buffer;
// no optimize() at the end (as the other engines: no forced merge).
//
// query: opens the index once, parses each query with QueryParser on "body"
// (OR as the default operator; "quoted phrases" are phrases), runs every
// query once to warm up, then REPS times, each timed with clock_gettime
// around searching the top 10 (IndexSearcher::_search with nDocs 10) and
// reading their stored paths. Ranking is CLucene's DefaultSimilarity
// (Lucene's classic tf-idf; CLucene 2.3 has no BM25). Prints
// "QUERY_NO REP NS HITS" lines.
//
// Built by bench/run.py: g++ -O2 bench/clucene_driver.cpp -lclucene-core
//   -lclucene-shared -lclucene-contribs-lib
#include <CLucene.h>
#include <CLucene/snowball/SnowballAnalyzer.h>

#include <clocale>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

using namespace lucene::analysis;
using namespace lucene::document;
using namespace lucene::index;
using namespace lucene::queryParser;
using namespace lucene::search;

static long long now_ns()
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

// UTF-8 to wide characters; an invalid byte becomes U+FFFD.
static std::wstring widen(const std::string &s)
{
    std::wstring out;
    out.reserve(s.size());
    size_t i = 0, n = s.size();
    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        unsigned cp;
        int len;
        if (c < 0x80) {
            cp = c;
            len = 1;
        } else if ((c >> 5) == 6) {
            cp = c & 0x1f;
            len = 2;
        } else if ((c >> 4) == 14) {
            cp = c & 0x0f;
            len = 3;
        } else if ((c >> 3) == 30) {
            cp = c & 0x07;
            len = 4;
        } else {
            out.push_back(0xfffd);
            i++;
            continue;
        }
        if (i + len > n) {
            out.push_back(0xfffd);
            i++;
            continue;
        }
        bool ok = true;
        for (int k = 1; k < len; k++) {
            unsigned char d = (unsigned char)s[i + k];
            if ((d >> 6) != 2) {
                ok = false;
                break;
            }
            cp = (cp << 6) | (d & 0x3f);
        }
        if (!ok) {
            out.push_back(0xfffd);
            i++;
            continue;
        }
        out.push_back((wchar_t)cp);
        i += len;
    }
    return out;
}

static std::string slurp(const std::string &path)
{
    std::ifstream f(path, std::ios::binary);
    std::ostringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

static int do_index(const char *list, const char *dir, bool store)
{
    snowball::SnowballAnalyzer analyzer(_T("english"));
    IndexWriter writer(dir, &analyzer, true);
    writer.setMaxFieldLength(0x7fffffff);
    std::ifstream lf(list);
    std::string path;
    long n = 0;
    while (std::getline(lf, path)) {
        if (path.empty())
            continue;
        std::wstring wpath = widen(path), body = widen(slurp(path));
        Document doc;
        doc.add(*_CLNEW Field(_T("path"), wpath.c_str(), Field::STORE_YES | Field::INDEX_UNTOKENIZED));
        doc.add(*_CLNEW Field(_T("body"), body.c_str(),
                              (store ? Field::STORE_YES : Field::STORE_NO) | Field::INDEX_TOKENIZED));
        writer.addDocument(&doc);
        n++;
    }
    writer.close();
    fprintf(stderr, "clucene_driver: indexed %ld documents\n", n);
    return 0;
}

static int run_one(IndexSearcher &searcher, Query *q)
{
    TopDocs *top = searcher._search(q, NULL, 10);
    int n = top->scoreDocsLength;
    for (int i = 0; i < n; i++) {
        Document doc;
        searcher.doc(top->scoreDocs[i].doc, doc);
        (void)doc.get(_T("path"));
    }
    _CLDELETE(top);
    return n;
}

static int do_query(const char *dir, const char *qfile, int reps)
{
    std::vector<std::wstring> queries;
    std::ifstream qf(qfile);
    std::string line;
    while (std::getline(qf, line)) {
        if (line.empty() || line[0] == '#')
            continue;
        size_t tab = line.find('\t');
        queries.push_back(widen(tab == std::string::npos ? line : line.substr(tab + 1)));
    }
    snowball::SnowballAnalyzer analyzer(_T("english"));
    long long t0 = now_ns();
    IndexReader *reader = IndexReader::open(dir);
    IndexSearcher searcher(reader);
    fprintf(stderr, "clucene_driver: opened %s in %lld ns\n", dir, now_ns() - t0);
    QueryParser parser(_T("body"), &analyzer);
    parser.setDefaultOperator(QueryParser::OR_OPERATOR);
    std::vector<Query *> parsed;
    for (auto &q : queries)
        parsed.push_back(parser.parse(q.c_str()));
    for (Query *q : parsed)
        run_one(searcher, q);
    for (int r = 0; r < reps; r++) {
        for (size_t i = 0; i < queries.size(); i++) {
            // Parsing is inside the timing, as for the other engines.
            long long a = now_ns();
            Query *q = parser.parse(queries[i].c_str());
            int n = run_one(searcher, q);
            _CLDELETE(q);
            long long b = now_ns();
            printf("%zu %d %lld %d\n", i, r, b - a, n);
        }
    }
    for (Query *q : parsed)
        _CLDELETE(q);
    searcher.close();
    reader->close();
    _CLDELETE(reader);
    return 0;
}

int main(int argc, char **argv)
{
    std::setlocale(LC_ALL, "C.UTF-8");
    try {
        if (argc >= 4 && strcmp(argv[1], "index") == 0)
            return do_index(argv[2], argv[3], argc > 4 && strcmp(argv[4], "store") == 0);
        if (argc >= 5 && strcmp(argv[1], "query") == 0)
            return do_query(argv[2], argv[3], atoi(argv[4]));
    } catch (CLuceneError &e) {
        fprintf(stderr, "clucene_driver: %s\n", e.what());
        return 1;
    }
    fprintf(stderr, "usage: clucene_driver index FILELIST INDEX_DIR [store] | query INDEX_DIR QUERIES.tsv REPS\n");
    return 2;
}
