#!/usr/bin/python3
"""Make the fixed, seeded query set of a corpus (saved in bench/queries/).

  /usr/bin/python3 bench/make_queries.py CORPUS_DIR OUT.tsv [SEED]

The queries are kept in the repository: rerunning this is only needed for a
new corpus. Each line is `CLASS<TAB>QUERY`; lines starting with # are
comments. A query is 1 to 3 bare words (any of them may match: OR) or one
"quoted phrase".

Vocabulary: every file of the corpus split into \\w+ tokens, lower-cased;
only purely alphabetic ASCII tokens of 3 to 20 letters that are not stop
words (Lucene's English stop list and a few more, so that every engine
searches the same words) are candidates. Bands by document frequency (df)
among N documents:

  rare      2 <= df <= max(2, N/2000)
  medium    N/500 <= df <= N/100
  frequent  N/20 <= df

Classes, 20 queries each with the default counts (240 in all):
  rare-1, rare-2, rare-3, medium-1..3, frequent-1..3   words of one band
  mixed-3        one rare, one medium and one frequent word
  phrase-2, phrase-3   consecutive words of a random line of a random
                       document (separated by single spaces, all candidates)
"""
import os
import random
import re
import sys

STOP = set("""a an and are as at be but by for if in into is it no not of on or such that the their
then there these they this to was will with i you he she we his her its our your my me him them us
from have has had were been being do does did can could would should may might shall which who whom
what when where why how all any each other some than too very just also so""".split())
WORD = re.compile(r"\w+")
CAND = re.compile(r"^[a-z]{3,20}$")
PER_CLASS = 20


def files(corpus):
    for top, dirs, names in os.walk(corpus):
        dirs.sort()
        for name in sorted(names):
            yield os.path.join(top, name)


def candidate(w):
    return CAND.match(w) is not None and w not in STOP


def make(corpus, seed=20261124, per_class=PER_CLASS):
    rnd = random.Random(seed)
    df = {}
    paths = list(files(corpus))
    for p in paths:
        with open(p, encoding="utf-8", errors="replace") as f:
            for w in set(WORD.findall(f.read().lower())):
                if candidate(w):
                    df[w] = df.get(w, 0) + 1
    n = len(paths)
    rare_hi = max(2, n // 2000)
    med_lo, med_hi = max(rare_hi + 1, n // 500), max(rare_hi + 1, n // 100)
    freq_lo = max(med_hi + 1, n // 20)
    bands = {
        "rare": sorted(w for w, d in df.items() if 2 <= d <= rare_hi),
        "medium": sorted(w for w, d in df.items() if med_lo <= d <= med_hi),
        "frequent": sorted(w for w, d in df.items() if d >= freq_lo),
    }
    out = []
    for band in ("rare", "medium", "frequent"):
        for k in (1, 2, 3):
            for _ in range(per_class):
                out.append(("%s-%d" % (band, k), " ".join(rnd.sample(bands[band], k))))
    for _ in range(per_class):
        out.append(("mixed-3", " ".join(rnd.choice(bands[b]) for b in ("rare", "medium", "frequent"))))
    for k in (2, 3):
        got = 0
        while got < per_class:
            with open(rnd.choice(paths), encoding="utf-8", errors="replace") as f:
                lines = [ln for ln in f.read().split("\n") if ln.strip()]
            if not lines:
                continue
            line = rnd.choice(lines)
            toks = [(m.group(0), m.start(), m.end()) for m in WORD.finditer(line)]
            starts = []
            for i in range(len(toks) - k + 1):
                run = toks[i:i + k]
                if all(candidate(t[0].lower()) and t[0].isascii() for t in run) and \
                        all(run[j + 1][1] == run[j][2] + 1 and line[run[j][2]] == " " for j in range(k - 1)):
                    starts.append(i)
            if not starts:
                continue
            i = rnd.choice(starts)
            out.append(("phrase-%d" % k, '"%s"' % " ".join(t[0].lower() for t in toks[i:i + k])))
            got += 1
    header = [
        "# lode benchmark queries for %s, made by bench/make_queries.py, seed %d" % (os.path.basename(corpus.rstrip("/")), seed),
        "# %d documents; bands by document frequency: rare 2..%d (%d words), medium %d..%d (%d words), "
        "frequent >= %d (%d words)" % (n, rare_hi, len(bands["rare"]), med_lo, med_hi, len(bands["medium"]),
                                       freq_lo, len(bands["frequent"])),
    ]
    return header, out


def main():
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 20261124
    header, queries = make(sys.argv[1], seed)
    with open(sys.argv[2], "w") as f:
        f.write("\n".join(header) + "\n")
        for cls, q in queries:
            f.write("%s\t%s\n" % (cls, q))
    print("%s: %d queries" % (sys.argv[2], len(queries)), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
