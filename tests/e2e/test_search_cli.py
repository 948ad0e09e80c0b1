#!/usr/bin/env python3
"""End-to-end tests of lode-search's output modes, as scripts and people use them.

Golden outputs of every mode and flag on corpus/ (terminal, --grep and its
-l -c -m -A -B -C --column -0, --json, --format trec), compared byte for
byte with colour forced off and on; exit statuses in every mode; JSON Lines
parsed by Python's json module and checked against the files; grep lines
parsed back into path and line and checked against the files on disk;
paths shown relative to the working directory; colour rules.

The index is built from the source folder as `lode-index -o TMP corpus`,
so that paths are `corpus/...` in every output. After a deliberate change
of output, regenerate the golden files and review the diff:

    LODE_UPDATE_GOLDEN=1 python3 tests/e2e/test_search_cli.py

Run alone: python3 test_search_cli.py [NAME]. Needs LODE_INDEX_BIN,
LODE_SEARCH_BIN and LODE_SOURCE_DIR (set by ctest).
"""
import json
import os
import pty
import re
import shutil
import subprocess
import sys
import tempfile

INDEX_BIN = os.environ["LODE_INDEX_BIN"]
SEARCH_BIN = os.environ["LODE_SEARCH_BIN"]
SOURCE_DIR = os.environ["LODE_SOURCE_DIR"]
CORPUS = os.path.join(SOURCE_DIR, "corpus")
GOLDEN = os.path.join(SOURCE_DIR, "tests", "e2e", "golden")
UPDATE = os.environ.get("LODE_UPDATE_GOLDEN") == "1"
ANSI = re.compile(rb"\x1b\[[0-9;]*m")
LINE_END = re.compile(rb"\r\n|\r|\n")

failures = []
TMP = None         # scratch folder of the whole run
CORPUS_INDEX = None  # corpus/ indexed from SOURCE_DIR: paths "corpus/..."
EDGE_INDEX = None    # awkward bytes: see make_edge()
EDGE_DIR = None


def check(cond, what):
    if not cond:
        failures.append(what)
        print("  check failed: " + what, file=sys.stderr)


def run(args, env=None, cwd=SOURCE_DIR):
    e = dict(os.environ)
    e.pop("NO_COLOR", None)
    e.pop("LODE_INDEX", None)
    if env:
        e.update(env)
    return subprocess.run(args, capture_output=True, env=e, cwd=cwd)


def search(*args, index=None, env=None, cwd=SOURCE_DIR):
    return run([SEARCH_BIN, "-i", index or CORPUS_INDEX, *args], env=env, cwd=cwd)


def file_lines(path):
    """The lines of a file as the indexer counts them: LF, CRLF or CR end one."""
    with open(path, "rb") as f:
        data = f.read()
    lines = LINE_END.split(data)
    if lines and lines[-1] == b"" and data:
        lines.pop()
    return lines


def replace_invalid(data):
    """Bytes to text the way lode's JSON does: each byte that is not part of
    a well-formed UTF-8 character becomes U+FFFD."""
    out, i = [], 0
    while i < len(data):
        for n in (1, 2, 3, 4):
            try:
                out.append(data[i:i + n].decode("utf-8"))
                i += n
                break
            except UnicodeDecodeError:
                continue
        else:
            out.append("\ufffd")
            i += 1
    return "".join(out)


def setup():
    global TMP, CORPUS_INDEX, EDGE_INDEX, EDGE_DIR
    TMP = tempfile.mkdtemp(prefix="lode-search-cli-")
    CORPUS_INDEX = os.path.join(TMP, "corpus.lode")
    r = run([INDEX_BIN, "-q", "-o", CORPUS_INDEX, "corpus"])
    if r.returncode != 0:
        raise SystemExit("cannot index corpus/: %r" % r.stderr)
    EDGE_DIR = os.path.join(TMP, "edge")
    make_edge(EDGE_DIR)
    EDGE_INDEX = os.path.join(TMP, "edge.lode")
    r = run([INDEX_BIN, "-q", "-o", EDGE_INDEX, "edge"], cwd=TMP)
    if r.returncode != 0:
        raise SystemExit("cannot index the edge cases: %r" % r.stderr)


def make_edge(d):
    """Files whose bytes test the renderers: CRLF and lone CR line ends,
    invalid UTF-8, control characters and JSON's special characters, a
    paragraph of several lines, a long line cut into several passages with
    matches in two of them, no final newline."""
    os.makedirs(d)
    w = lambda name, data: open(os.path.join(d, name), "wb").write(data)
    w("crlf.txt", b"Quokka notes\r\n\r\nfirst quokka line\r\nsecond line\rthird quokka here\r\nlast\r\n")
    w("bytes.txt", b"Odd bytes\n\nokapi \xff\xfe \xed\xa0\x80 quokka \x1b[31m red \x01 \"quoted\" back\\slash\ttab caf\xc3\xa9\n")
    sentences = " ".join("Sentence %d says nothing much here." % i for i in range(80))
    sentences = sentences.replace("Sentence 3 ", "Sentence 3 quokka ").replace("Sentence 70 ", "Sentence 70 quokka ")
    w("long.txt", ("Long lines\n\npara line one\npara quokka two\npara line three\n\n" + sentences + "\nafter\n").encode())
    w("nofinal.txt", b"No final newline\n\nthe quokka is at the end")


# --- golden outputs ----------------------------------------------------------

# name, arguments, exit status. Cases marked colour run twice: with
# --color=never (NAME.out) and --color=always (NAME.color.out).
CASES = [
    ("terminal", ["restless", "legs"], 0, True),
    ("terminal-top-scores", ["-n", "2", "--scores", "glycinate", "sleep", "dose"], 0, True),
    ("terminal-passages", ["-n", "1", "--passages", "3", "muscle", "cramps"], 0, True),
    ("terminal-all-phrase", ["--all", '"leg cramps"', "pregnancy"], 0, True),
    ("grep", ["--grep", "restless", "legs"], 0, True),
    ("grep-column", ["--grep", "--column", "magnesium NEAR/5 cramps"], 0, True),
    ("grep-files", ["-l", "citrate"], 0, True),
    ("grep-files-null", ["-l", "-0", "citrate"], 0, False),
    ("grep-null", ["--grep", "-0", "restless"], 0, False),
    ("grep-count", ["-c", "sleep"], 0, True),
    ("grep-max-count", ["-m", "1", "sleep"], 0, True),
    ("grep-context", ["-C", "1", "cramps"], 0, True),
    ("grep-after", ["-A", "2", "-m", "2", "insomnia"], 0, True),
    ("grep-before", ["-B", "2", "dosage"], 0, True),
    ("grep-top", ["--grep", "-n", "2", "anxiety"], 0, False),
    ("json", ["--json", "-n", "3", "--passages", "2", "restless legs"], 0, False),
    ("json-grep", ["--json", "--grep", "-m", "2", "cramps"], 0, False),
    ("trec", ["--format", "trec", "--run-id", "golden", "glycinate sleep"], 0, False),
]


def compare_golden(name, out):
    path = os.path.join(GOLDEN, name + ".out")
    if UPDATE:
        os.makedirs(GOLDEN, exist_ok=True)
        with open(path, "wb") as f:
            f.write(out)
        return
    if not os.path.exists(path):
        check(False, "%s: no golden file %s (LODE_UPDATE_GOLDEN=1 makes it)" % (name, path))
        return
    with open(path, "rb") as f:
        want = f.read()
    if out != want:
        a, b = want.splitlines(), out.splitlines()
        first = next((i for i in range(min(len(a), len(b))) if a[i] != b[i]), min(len(a), len(b)))
        check(False, "%s differs from its golden file at line %d:\n    want %r\n    got  %r" % (
            name, first + 1, a[first] if first < len(a) else b"<end>", b[first] if first < len(b) else b"<end>"))


def test_golden_outputs_byte_for_byte():
    for name, args, rc, colour in CASES:
        for c in ("never", "always") if colour else ("never",):
            r = search("--color=" + c, *args)
            check(r.returncode == rc, "%s --color=%s: exit %d, want %d: %r" % (name, c, r.returncode, rc, r.stderr))
            check(r.stderr == b"", "%s: nothing on stderr: %r" % (name, r.stderr))
            compare_golden(name + (".color" if c == "always" else ""), r.stdout)
            if c == "never":
                check(b"\x1b" not in r.stdout, "%s: no escape sequences with --color=never" % name)
            else:
                check(b"\x1b[1;31m" in r.stdout or name.startswith("grep-files") or name == "grep-count",
                      "%s: matches are marked with --color=always" % name)
                check(ANSI.sub(b"", r.stdout) == search("--color=never", *args).stdout,
                      "%s: the coloured output is the plain one plus colour" % name)


def test_golden_trec_from_a_queries_file():
    qfile = os.path.join(TMP, "queries.tsv")
    with open(qfile, "w") as f:
        f.write("q1\tglycinate sleep\nq2\trestless legs\n\nq3\txylophone\n")
    r = search("--format", "trec", "--run-id", "golden", "-n", "3", "--queries", qfile)
    check(r.returncode == 0, "trec run exits 0: %r" % r.stderr)
    compare_golden("trec-queries", r.stdout)
    for line in r.stdout.decode().splitlines():
        f = line.split(" ")
        check(len(f) == 6 and f[1] == "Q0" and f[5] == "golden" and f[3].isdigit(), "TREC line: %r" % line)


# --- exit status -------------------------------------------------------------

MODES = [[], ["--grep"], ["-l"], ["-c"], ["--json"], ["--json", "--grep"], ["--format", "trec"]]


def test_exit_one_and_no_output_when_nothing_matches():
    for mode in MODES:
        r = search(*mode, "xylophone")
        check(r.returncode == 1, "%r: exit 1 when nothing matched, got %d" % (mode, r.returncode))
        check(r.stdout == b"", "%r: no output when nothing matched: %r" % (mode, r.stdout))


def test_exit_zero_when_something_matches_in_every_mode():
    for mode in MODES:
        r = search(*mode, "glycinate")
        check(r.returncode == 0 and r.stdout, "%r: exit 0 and output: %d %r" % (mode, r.returncode, r.stderr))


def test_exit_two_on_errors_in_every_mode():
    for mode in MODES:
        r = search(*mode, "glycinate", index=os.path.join(TMP, "missing.lode"))
        check(r.returncode == 2 and b"missing.lode" in r.stderr, "%r: a missing index exits 2: %r" % (mode, r.stderr))
        r = search(*mode, "--strict", "glycinate (sleep")
        check(r.returncode == 2 and b"column" in r.stderr, "%r: a syntax error exits 2: %r" % (mode, r.stderr))
        r = search(*mode, "?!")
        check(r.returncode == 2 and r.stdout == b"", "%r: a query without words exits 2" % (mode,))
    for bad in (["--bogus", "x"], ["-n", "0", "x"], ["-C", "x", "y"], ["--color=blue", "x"], ["-l", "--json", "x"],
                ["-c", "--format", "trec", "x"], ["--format", "xml", "x"], ["-m"], []):
        r = search(*bad)
        check(r.returncode == 2 and r.stderr and r.stdout == b"", "usage error %r exits 2: %r" % (bad, r.stderr))


def test_exit_two_after_output_when_a_later_query_fails():
    qfile = os.path.join(TMP, "half-bad.tsv")
    with open(qfile, "w") as f:
        f.write("q1\tglycinate\nnot a query line\nq3\tsleep\n")
    r = search("--format", "trec", "--queries", qfile)
    check(r.returncode == 2, "exit 2 although answers were printed: %d" % r.returncode)
    check(r.stdout.count(b"\n") > 2 and b"q3 Q0" in r.stdout, "the good queries are answered")
    check(b"half-bad.tsv:2" in r.stderr, "the bad line is named: %r" % r.stderr)


# --- JSON Lines ---------------------------------------------------------------

def json_lines(r, what):
    objs = []
    for n, line in enumerate(r.stdout.split(b"\n")[:-1], 1):
        check(all(c >= 0x20 for c in line), "%s line %d: no raw control characters" % (what, n))
        try:
            objs.append(json.loads(line.decode("utf-8")))
        except (UnicodeDecodeError, ValueError) as e:
            check(False, "%s line %d is not JSON: %s: %r" % (what, n, e, line[:200]))
    check(r.stdout.endswith(b"\n") or r.stdout == b"", "%s: every line ends with a newline" % what)
    return objs


SCHEMA = {"path": str, "title": str, "score": float, "rank": int, "line": int, "start": int, "end": int,
          "text": str, "highlights": list}


def check_json_hit(o, root, what):
    check(sorted(o) == sorted(SCHEMA), "%s: the documented keys: %r" % (what, sorted(o)))
    for k, t in SCHEMA.items():
        v = o.get(k)
        ok = isinstance(v, t) or (t is float and isinstance(v, int))
        check(ok and not isinstance(v, bool), "%s: %s is a %s: %r" % (what, k, t.__name__, v))
    with open(os.path.join(root, o["path"]), "rb") as f:
        data = f.read()
    s, e = o["start"], o["end"]
    check(0 <= s < e <= len(data), "%s: passage bytes inside the file" % what)
    check(o["text"] == replace_invalid(data[s:e]), "%s: text is the file's bytes %d..%d" % (what, s, e))
    check(o["line"] == len(LINE_END.findall(data[:s])) + 1, "%s: line is the line of the first byte" % what)
    last = s
    for h in o["highlights"]:
        check(sorted(h) == ["end", "line", "start"], "%s: highlight keys %r" % (what, h))
        check(last <= h["start"] < h["end"] <= e, "%s: highlights ascend inside the passage: %r" % (what, h))
        last = h["end"]
        check(h["line"] == len(LINE_END.findall(data[:h["start"]])) + 1, "%s: highlight line %r" % (what, h))
    return data


def test_json_lines_parse_and_match_the_files():
    for args in (["-n", "5", "--passages", "3", "restless legs"], ["--grep", "magnes* NEAR/5 sleep"],
                 ['"muscle cramps" OR title:dosage'], ["--grep", "-m", "3", "glycinate"]):
        r = search("--json", *args)
        check(r.returncode == 0, "json %r exits 0: %r" % (args, r.stderr))
        objs = json_lines(r, "json %r" % args)
        check(len(objs) > 0, "json %r: some objects" % args)
        for i, o in enumerate(objs):
            data = check_json_hit(o, SOURCE_DIR, "json %r #%d" % (args, i))
            check(o["path"].startswith("corpus/"), "paths as indexed, relative: %r" % o["path"])
            if args[0] != "--grep" or "NEAR" not in args[1]:
                continue
            for h in o["highlights"]:
                word = data[h["start"]:h["end"]].decode().lower()
                check(word.startswith("magnes") or word.startswith("sleep"), "a highlight is a query word: %r" % word)
        if args[0] == "--grep":
            keys = [(o["path"], o["start"]) for o in objs]
            check(keys == sorted(keys), "--json --grep lists passages by path, then in file order")
            check(all(o["highlights"] for o in objs), "--json --grep lists only passages with a match")


def test_json_escapes_control_characters_and_invalid_utf8():
    r = search("--json", "--grep", "quokka", index=EDGE_INDEX, cwd=TMP)
    objs = json_lines(r, "edge json")
    check(sorted({o["path"] for o in objs}) == ["edge/bytes.txt", "edge/crlf.txt", "edge/long.txt", "edge/nofinal.txt"],
          "every edge file matched: %r" % sorted({o["path"] for o in objs}))
    for i, o in enumerate(objs):
        check_json_hit(o, TMP, "edge json #%d" % i)
    odd = [o for o in objs if o["path"] == "edge/bytes.txt"][0]
    check("\ufffd\ufffd" in odd["text"] and "\x1b[31m" in odd["text"] and '"quoted" back\\slash\ttab café' in odd["text"],
          "escapes decode to the original characters: %r" % odd["text"])
    raw = [l for l in r.stdout.split(b"\n") if b"bytes.txt" in l][0]
    check(b"\\u001b" in raw and b"\\u0001" in raw and b"\\\"quoted\\\"" in raw and b"\\\\slash" in raw,
          "control characters, quotes and backslashes are escaped: %r" % raw[:300])
    long = [o for o in objs if o["path"] == "edge/long.txt"]
    check(len(long) == 3, "every matching passage of a cut line is listed: %d" % len(long))


# --- grep lines ---------------------------------------------------------------

def parse_grep(out, column=False):
    """Yield (path, line, column or None, kind, text) from grep output; kind
    is ':' (a matching line) or '-' (context); '--' separators skipped."""
    for raw in out.split(b"\n")[:-1]:
        if raw == b"--":
            continue
        m = re.match(rb"^(.*?)([:-])(\d+)\2(.*)$", raw, re.S)
        check(m is not None, "a grep line: %r" % raw[:200])
        if not m:
            continue
        col, text = None, m.group(4)
        if column and m.group(2) == b":":  # only matching lines have a column
            c = re.match(rb"^(\d+):(.*)$", text, re.S)
            check(c is not None, "a column: %r" % raw[:200])
            if c:
                col, text = int(c.group(1)), c.group(2)
        yield m.group(1).decode(), int(m.group(3)), col, m.group(2).decode(), text


def check_grep_against_files(args, root, index, words):
    r = search("--color=never", *args, index=index, cwd=root)
    check(r.returncode == 0, "grep %r exits 0: %r" % (args, r.stderr))
    cache = {}
    seen = 0
    for path, line, col, kind, text in parse_grep(r.stdout, "--column" in args):
        if path not in cache:
            cache[path] = file_lines(os.path.join(root, path))
        lines = cache[path]
        check(1 <= line <= len(lines), "%s:%d is a line of the file" % (path, line))
        if not 1 <= line <= len(lines):
            continue
        check(lines[line - 1] == text, "%s:%d is the file's line: %r != %r" % (path, line, text[:80], lines[line - 1][:80]))
        if kind == ":":
            seen += 1
            low = text.lower()
            check(any(w in low for w in words), "%s:%d holds a query word: %r" % (path, line, text[:120]))
            if col is not None:
                check(any(low[col - 1:].startswith(w) for w in words), "%s:%d:%d is where a word starts" % (path, line, col))
    check(seen > 0, "grep %r printed matching lines" % args)
    return r


def test_grep_lines_point_at_the_lines_of_the_files():
    for args in (["--grep", "restless legs"], ["--grep", "--column", "cramps"], ["-C", "2", "--column", "dosage"],
                 ["--grep", "magnesium NEAR/3 sleep"], ["-B", "1", "-A", "3", "pregnancy"]):
        words = [w.encode() for w in ("restless", "leg", "cramp", "dosage", "magnesium", "sleep", "pregnan")]
        check_grep_against_files(args, SOURCE_DIR, CORPUS_INDEX, words)
    for args in (["--grep", "--column", "quokka"], ["-C", "1", "quokka"], ["-A", "5", "okapi"]):
        check_grep_against_files(args, TMP, EDGE_INDEX, [b"quokka", b"okapi"])


def test_grep_prints_a_line_once_whatever_the_passages():
    r = search("--color=never", "--grep", "quokka", index=EDGE_INDEX, cwd=TMP)
    got = [(p, l) for p, l, _, _, _ in parse_grep(r.stdout)]
    check(got == [("edge/bytes.txt", 3), ("edge/crlf.txt", 1), ("edge/crlf.txt", 3), ("edge/crlf.txt", 5),
                  ("edge/long.txt", 4), ("edge/long.txt", 7), ("edge/nofinal.txt", 3)],
          "each matching line once, files in path order: %r" % got)
    out = r.stdout.split(b"\n")
    check(out[0].startswith(b"edge/bytes.txt:3:okapi \xff\xfe \xed\xa0\x80 quokka \x1b[31m red \x01"),
          "a pipe gets the file's bytes as they are: %r" % out[0])


def test_grep_modes_agree():
    q = "magnesium sleep"
    lines = [(p, l) for p, l, _, _, _ in parse_grep(search("--color=never", "--grep", q).stdout)]
    per_file = {}
    for p, _ in lines:
        per_file[p] = per_file.get(p, 0) + 1
    count = search("--color=never", "-c", q).stdout.decode().splitlines()
    check(count == ["%s:%d" % (p, n) for p, n in sorted(per_file.items())], "-c counts the lines --grep prints")
    files = search("--color=never", "-l", q).stdout.decode().splitlines()
    check(files == sorted(per_file), "-l lists the files --grep prints")
    nul = search("-l", "-0", q).stdout
    check(nul.split(b"\0")[:-1] == [p.encode() for p in sorted(per_file)] and nul.endswith(b"\0"),
          "-l -0 separates paths with NUL for xargs -0")
    m1 = [(p, l) for p, l, _, _, _ in parse_grep(search("--color=never", "-m", "1", q).stdout)]
    check(m1 == [(p, min(l for q2, l in lines if q2 == p)) for p in sorted(per_file)], "-m 1: the first line of each file")
    js = [json.loads(x) for x in search("--json", "--grep", q).stdout.splitlines()]
    jl = sorted({(o["path"], h["line"]) for o in js for h in o["highlights"]})
    check(jl == sorted(lines), "--json --grep holds the lines --grep prints")
    ctx = search("--color=never", "-C", "1", q).stdout
    m = [(p, l) for p, l, _, k, _ in parse_grep(ctx) if k == ":"]
    check(m == lines, "context does not change which lines match")


def test_null_separates_paths_in_grep_lines_and_counts():
    r = search("--color=never", "--grep", "-0", "restless")
    for line in r.stdout.split(b"\n")[:-1]:
        check(re.match(rb"^corpus/[^\0:]+\0\d+:", line) is not None, "path NUL line:text: %r" % line[:80])
    r = search("--color=never", "-c", "-0", "restless")
    for line in r.stdout.split(b"\n")[:-1]:
        check(re.match(rb"^corpus/[^\0:]+\0\d+$", line) is not None, "path NUL count: %r" % line)


# --- paths and colour ---------------------------------------------------------

def test_paths_shown_relative_to_the_working_directory():
    idx = os.path.join(TMP, "absolute.lode")
    r = run([INDEX_BIN, "-q", "-o", idx, CORPUS])
    check(r.returncode == 0, "index by absolute path")
    name = "magnesium-glycinate-primary-uses.txt"
    def files(cwd):
        return search("-l", "title:primarily", index=idx, cwd=cwd).stdout.decode().splitlines()
    check(files(SOURCE_DIR) == ["corpus/" + name], "under the working directory: relative: %r" % files(SOURCE_DIR))
    check(files(CORPUS) == [name], "in the folder itself: the name: %r" % files(CORPUS))
    check(files(TMP) == [os.path.join(CORPUS, name)], "elsewhere: absolute: %r" % files(TMP))
    # indexed and searched through a symbolic link: the shell's $PWD names
    # the folder as the index does, the kernel's working directory does not
    link = os.path.join(TMP, "link")
    os.symlink(SOURCE_DIR, link)
    idx = os.path.join(TMP, "linked.lode")
    run([INDEX_BIN, "-q", "-o", idx, os.path.join(link, "corpus")])
    got = run([SEARCH_BIN, "-i", idx, "-l", "title:primarily"], cwd=link, env={"PWD": link}).stdout.decode().splitlines()
    check(got == ["corpus/" + name], "through a symbolic link, $PWD: relative: %r" % got)
    got = run([SEARCH_BIN, "-i", idx, "-l", "title:primarily"], cwd=link, env={"PWD": "/"}).stdout.decode().splitlines()
    check(got == [os.path.join(link, "corpus", name)], "a $PWD that is not the folder is ignored: %r" % got)
    # a relative path is relative to where lode-index ran: shown unchanged
    got = search("-l", "title:primarily", cwd=TMP).stdout.decode().splitlines()
    check(got == ["corpus/" + name], "relative paths unchanged: %r" % got)


def pty_output(args, env):
    try:
        pid, fd = pty.fork()
    except OSError:
        return None
    if pid == 0:
        os.chdir(SOURCE_DIR)
        os.execve(args[0], args, env)
    chunks = []
    while True:
        try:
            data = os.read(fd, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    os.waitpid(pid, 0)
    os.close(fd)
    return b"".join(chunks)


def test_colour_rules():
    r = search("--grep", "restless", env={"NO_COLOR": "1"})
    check(b"\x1b" not in r.stdout, "auto with NO_COLOR: no colour")
    r = search("--grep", "--color=always", "restless", env={"NO_COLOR": "1"})
    check(b"\x1b[35mcorpus/" in r.stdout and b"\x1b[1;31m" in r.stdout, "--color=always wins over NO_COLOR")
    r = search("--json", "--color=always", "restless")
    check(b"\x1b" not in r.stdout, "JSON is never coloured")
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    out = pty_output([SEARCH_BIN, "-i", CORPUS_INDEX, "--grep", "restless"], env)
    if out is None:
        print("  skipped the terminal part: no pseudo-terminals here", file=sys.stderr)
        return
    check(b"\x1b[35mcorpus/" in out and b"\x1b[1;31m" in out, "auto colours a terminal: %r" % out[:200])
    out = pty_output([SEARCH_BIN, "-i", CORPUS_INDEX, "--grep", "--color=never", "restless"], env)
    check(b"\x1b[" not in out, "--color=never on a terminal")
    out = pty_output([SEARCH_BIN, "-i", EDGE_INDEX, "--color=never", "--grep", "okapi"], env)
    check(b"\x1b[31m" not in out and b"?[31m" in out, "a terminal never gets a file's escape sequences: %r" % out)


# --- query expansion ---------------------------------------------------------

def trec_docs(r):
    return [line.split(" ")[2] for line in r.stdout.decode().splitlines()]


def test_expansion_options():
    q = "glycinate sleep"
    default = search("--format", "trec", "-n", "100", q)
    plain = search("--format", "trec", "-n", "100", "--no-expand", q)
    weight_one = search("--format", "trec", "-n", "100", "--expand", "5,10,1", q)
    check(default.returncode == 0 and plain.returncode == 0 and weight_one.returncode == 0,
          "--no-expand and --expand run: %r %r" % (plain.stderr, weight_one.stderr))
    check(plain.stdout == weight_one.stdout, "--expand D,T,1 is --no-expand")
    check(sorted(trec_docs(default)) == sorted(trec_docs(plain)), "expansion finds the same documents, reordered")
    check(search("--format", "trec", "--expand", "3,20,0.3", q).returncode == 0, "--expand 3,20,0.3 runs")
    for bad in ("5,10", "0,10,0.5", "5,0,0.5", "5,10,0", "5,10,1.5", "5,-1,0.5", "5,10,0.5x", "a,b,c"):
        r = search("--expand", bad, q)
        check(r.returncode == 2 and b"--expand takes" in r.stderr, "--expand %s is a usage error: %r" % (bad, r.stderr))
    # grep lists every matching file in path order: expansion changes nothing there
    check(search("--color=never", "--grep", q).stdout == search("--color=never", "--grep", "--no-expand", q).stdout,
          "grep output does not depend on expansion")


# --- help, version, manual ----------------------------------------------------

def test_help_version_and_manual_agree():
    r = run([SEARCH_BIN, "--help"])
    check(r.returncode == 0 and r.stdout.startswith(b"usage: lode-search"), "--help exits 0 with the usage")
    help_text = r.stdout.decode()
    check(help_text.splitlines()[2].lstrip().startswith("lode-search "), "--help starts with examples")
    check(len(help_text.splitlines()) <= 40, "--help stays short: %d lines" % len(help_text.splitlines()))
    r = run([SEARCH_BIN, "--version"])
    check(r.returncode == 0 and re.match(rb"^lode-search \d+\.\d+\.\d+\n$", r.stdout), "--version: %r" % r.stdout)
    with open(os.path.join(SOURCE_DIR, "docs", "lode-search.1"), encoding="utf-8") as f:
        man = f.read().replace("\\-", "-")
    with open(os.path.join(SOURCE_DIR, "docs", "lode-search.md"), encoding="utf-8") as f:
        manual = f.read()
    for opt in sorted(set(re.findall(r"(?<![\w-])--[a-z][a-z-]+", help_text))):
        check(opt in man, "the man page describes %s" % opt)
        check(opt in manual, "docs/lode-search.md describes %s" % opt)
    for key in SCHEMA:
        check('"%s"' % key in manual, "the manual's JSON schema names %s" % key)


def main():
    tests = [(n, f) for n, f in sorted(globals().items()) if n.startswith("test_") and callable(f)]
    only = sys.argv[1] if len(sys.argv) > 1 else None
    setup()
    ran = 0
    try:
        for name, fn in tests:
            if only and name != only:
                continue
            before = len(failures)
            fn()
            ran += 1
            print(("ok   " if len(failures) == before else "FAIL ") + name, file=sys.stderr)
    finally:
        shutil.rmtree(TMP, ignore_errors=True)
    if ran == 0:
        print("no test named %s" % only, file=sys.stderr)
        return 2
    if UPDATE:
        print("golden files written to %s: review them with git diff" % GOLDEN, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
