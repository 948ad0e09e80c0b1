#!/usr/bin/env python3
"""End-to-end tests of lode-index and lode-search as a user runs them.

Covers the bad-input table of DESIGN.md (binary, invalid UTF-8, CRLF, BOM,
empty, unreadable, a 10 MB single line, a symlink loop), exit statuses,
colour rules (forced, NO_COLOR, auto under a pseudo-terminal), a damaged
index and an interrupted indexing run. Run alone: python3 test_cli.py [NAME].
Needs LODE_INDEX_BIN, LODE_SEARCH_BIN and LODE_SOURCE_DIR (set by ctest).
"""
import os
import pty
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

INDEX_BIN = os.environ["LODE_INDEX_BIN"]
SEARCH_BIN = os.environ["LODE_SEARCH_BIN"]
SOURCE_DIR = os.environ["LODE_SOURCE_DIR"]
CORPUS = os.path.join(SOURCE_DIR, "corpus")
ANSI = re.compile(r"\x1b\[[0-9;]*m")

failures = []


def run(args, env=None, preexec=None, cwd=None):
    e = dict(os.environ)
    e.pop("NO_COLOR", None)
    e.pop("LODE_INDEX", None)
    if env:
        e.update(env)
    return subprocess.run(args, capture_output=True, env=e, preexec_fn=preexec, cwd=cwd)


def check(cond, what):
    if not cond:
        failures.append(what)
        print("  check failed: " + what, file=sys.stderr)


def index(out, *paths, preexec=None):
    return run([INDEX_BIN, "-o", out, *paths], preexec=preexec)


def search(idx, *query, env=None):
    return run([SEARCH_BIN, "-i", idx, *query], env=env)


def lines_of(data):
    return data.decode("utf-8", "replace").splitlines()


class Tmp:
    def __enter__(self):
        self.path = tempfile.mkdtemp(prefix="lode-cli-")
        return self.path

    def __exit__(self, *exc):
        shutil.rmtree(self.path, ignore_errors=True)


def hit_line(stdout):
    """(path, line) of the first hit: its heading is the path, then (after
    the title) its passage lines 'LINE:text', ':' marking a line with a
    match. The first such line is where the first match is."""
    out = [ANSI.sub("", line) for line in lines_of(stdout)]
    for line in out[2:]:
        if line == "":
            break
        m = re.match(r"^(\d+):", line)
        if m:
            return out[0], int(m.group(1))
    return None, None


# --- the corpus ---------------------------------------------------------------

def test_index_corpus_summary_and_exit_zero():
    with Tmp() as t:
        r = index(os.path.join(t, "c.lode"), CORPUS)
        check(r.returncode == 0, "lode-index exits 0 on the corpus: %d %s" % (r.returncode, r.stderr))
        check(b"indexed 5 files" in r.stderr, "summary names 5 files: %r" % r.stderr)
        check(b"skipped 0 binary" in r.stderr, "summary counts binaries: %r" % r.stderr)
        check(r.stdout == b"", "nothing on stdout")


def test_search_prints_path_line_title_and_passage():
    with Tmp() as t:
        idx = os.path.join(t, "c.lode")
        index(idx, CORPUS)
        r = search(idx, "restless", "legs", "--color=never")
        check(r.returncode == 0, "exit 0 when something matched")
        path, line = hit_line(r.stdout)
        check(path is not None and path.endswith("magnesium-glycinate-insomnia-restless-legs-dosage.txt"),
              "top document: %r" % path)
        out = lines_of(r.stdout)
        check(out[1].strip().startswith("What is the recommended dosage"), "title line: %r" % out[1])
        # the line number points at the line of the file holding the passage
        with open(path, encoding="utf-8") as f:
            file_lines = f.read().split("\n")
        check("estless" in file_lines[line - 1], "line %d holds the words: %r" % (line, file_lines[line - 1]))
        check("\x1b" not in r.stdout.decode(), "no colour with --color=never")


def test_nothing_found_exits_one_silently():
    with Tmp() as t:
        idx = os.path.join(t, "c.lode")
        index(idx, CORPUS)
        r = search(idx, "xylophone")
        check(r.returncode == 1, "exit 1 when nothing matched: %d" % r.returncode)
        check(r.stdout == b"", "no output when nothing matched")


def test_errors_exit_two_with_a_message():
    r = search("/nonexistent/x.lode", "magnesium")
    check(r.returncode == 2, "missing index exits 2")
    check(b"/nonexistent/x.lode" in r.stderr, "message names the index: %r" % r.stderr)
    r = run([SEARCH_BIN, "--bogus", "x"])
    check(r.returncode == 2 and b"--bogus" in r.stderr, "unknown option exits 2 naming it")
    r = run([SEARCH_BIN])
    check(r.returncode == 2 and b"no query" in r.stderr, "no query exits 2")
    with Tmp() as t:
        idx = os.path.join(t, "c.lode")
        index(idx, CORPUS)
        r = search(idx, "?? --")
        check(r.returncode == 2 and b"no words" in r.stderr, "a query without words exits 2: %r" % r.stderr)
    r = run([INDEX_BIN, "-o", "/tmp/never-written.lode", "/nonexistent/folder"])
    check(r.returncode == 2 and b"/nonexistent/folder" in r.stderr, "missing input exits 2 naming it")
    check(not os.path.exists("/tmp/never-written.lode/MANIFEST"), "and commits nothing")


def test_colour_forced_never_and_no_color():
    with Tmp() as t:
        idx = os.path.join(t, "c.lode")
        index(idx, CORPUS)
        r = search(idx, "--color=always", "digestive urgency")
        out = r.stdout.decode()
        check("\x1b[1;31mdigestive\x1b[0m" in out, "matches are red and bold when forced")
        check("\x1b[1;31murgency\x1b[0m" in out, "every matched word is marked")
        r = search(idx, "digestive urgency", env={"NO_COLOR": "1"})
        check("\x1b" not in r.stdout.decode(), "NO_COLOR and a pipe: no colour")
        r = search(idx, "digestive urgency")
        check("\x1b" not in r.stdout.decode(), "auto and a pipe: no colour")


def pty_output(args, env):
    try:
        pid, fd = pty.fork()
    except OSError:
        return None  # no pseudo-terminals here (a chroot without /dev/pts)
    if pid == 0:
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
    return b"".join(chunks).decode("utf-8", "replace")


def test_colour_auto_on_a_terminal_unless_no_color():
    with Tmp() as t:
        idx = os.path.join(t, "c.lode")
        index(idx, CORPUS)
        env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
        out = pty_output([SEARCH_BIN, "-i", idx, "digestive"], env)
        if out is None:
            print("  skipped: this machine has no pseudo-terminals", file=sys.stderr)
            return
        check("\x1b[1;31mdigestive" in out, "auto colours a terminal: %r" % out[:200])
        env["NO_COLOR"] = "1"
        out = pty_output([SEARCH_BIN, "-i", idx, "digestive"], env)
        check("\x1b[" not in out, "NO_COLOR wins on a terminal")


# --- bad input (DESIGN.md) ----------------------------------------------------

def drop_to_nobody():
    """As root, permissions do not stop reads: run as nobody to make
    a chmod 000 file really unreadable."""
    if os.geteuid() == 0:
        os.setgroups([])
        os.setgid(65534)
        os.setuid(65534)


def make_bad_tree(t):
    d = os.path.join(t, "in")
    os.makedirs(os.path.join(d, "sub"))
    w = lambda name, data: open(os.path.join(d, name), "wb").write(data)
    w("binary.bin", b"PK\x03\x04\x00\x00 platypus binary")
    w("invalid.txt", b"okapi \xff\xfe\xc0\xaf zebrafish \xed\xa0\x80 caf\xc3\xa9 end\n")
    w("crlf.txt", b"first line\r\nsecond quokka line\r\n\r\nthird\r\n")
    w("bom.txt", b"\xef\xbb\xbfWombat Title\n\nbody text\n")
    w("empty.txt", b"")
    w("normal.txt", b"A normal file\n\nthe platypus lives here\n")
    w("unreadable.txt", b"secret armadillo\n")
    os.chmod(os.path.join(d, "unreadable.txt"), 0)
    # 10 MB on one line, the word to find at its very end
    w("long.txt", b"lorem ipsum " * (10 * 1024 * 1024 // 12) + b"narwhal\n")
    os.symlink("..", os.path.join(d, "sub", "loop"))
    os.chmod(t, 0o777)
    os.chmod(d, 0o777)
    os.chmod(os.path.join(d, "sub"), 0o777)
    return d


def test_bad_input_is_indexed_or_skipped_and_named():
    with Tmp() as t:
        d = make_bad_tree(t)
        idx = os.path.join(t, "bad.lode")
        # nobody may not reach the build folder (under /root on a fresh
        # machine): run a copy of the program from the scratch folder
        prog = os.path.join(t, "lode-index")
        shutil.copy(INDEX_BIN, prog)
        os.chmod(prog, 0o755)
        r = run([prog, "-o", idx, d], preexec=drop_to_nobody)
        err = r.stderr.decode()
        check(r.returncode == 1, "exit 1 when some files were skipped for errors: %d %s" % (r.returncode, err))
        check("unreadable.txt" in err, "the unreadable file is named: %s" % err)
        check("loop" in err, "the symlink loop is named: %s" % err)
        check("skipped 1 binary" in err, "the binary file is counted: %s" % err)
        # text files (and the empty one) are in, the binary and unreadable ones are not
        check(re.search(r"indexed 6 files", err) is not None, "6 files indexed: %s" % err)

        def top(*q):
            r = search(idx, "--color=never", *q)
            return r.returncode, hit_line(r.stdout), r.stdout.decode("utf-8", "replace")

        rc, (path, line), _ = top("platypus")
        check(rc == 0 and path.endswith("normal.txt"), "binary skipped, normal found: %r" % path)
        rc, (path, line), out = top("zebrafish")
        check(rc == 0 and path.endswith("invalid.txt") and line == 1, "invalid UTF-8 indexed: %r" % out)
        rc, _, _ = top("cafe")
        check(rc == 0, "accented word after invalid bytes found without its accent")
        rc, (path, line), _ = top("quokka")
        check(rc == 0 and path.endswith("crlf.txt") and line == 2, "CRLF line numbers: %r %r" % (path, line))
        rc, (path, line), out = top("wombat")
        check(rc == 0 and "\ufeff" not in out and "Wombat Title" in out, "BOM is not part of the title: %r" % out)
        rc, (path, line), out = top("narwhal")
        check(rc == 0 and path.endswith("long.txt") and line == 1, "the end of a 10 MB line is found")
        check(len(out) < 4000, "a passage of a 10 MB line stays short (%d bytes)" % len(out))
        rc, _, _ = top("armadillo")
        check(rc == 1, "the unreadable file is not in the index")


def test_damaged_index_exits_two_naming_file_and_section():
    with Tmp() as t:
        idx = os.path.join(t, "c.lode")
        index(idx, CORPUS)
        seg = [f for f in os.listdir(idx) if f.endswith(".lseg")][0]
        p = os.path.join(idx, seg)
        data = bytearray(open(p, "rb").read())
        good = search(idx, "--color=never", "glycinate").stdout
        # a byte in the middle of the file: stored text or postings
        data[len(data) // 2] ^= 0x40
        open(p, "wb").write(data)
        r = search(idx, "--color=never", "glycinate")
        check(r.returncode == 2 or r.stdout == good, "damage: exit 2 or the same answer")
        if r.returncode == 2:
            check(seg.encode() in r.stderr and b"section" in r.stderr, "message names file and section: %r" % r.stderr)
        r = run([INDEX_BIN, "--check", idx])
        check(r.returncode == 2 and seg.encode() in r.stderr, "--check finds the damage: %r" % r.stderr)
        # truncation
        open(p, "wb").write(data[: len(data) - 7])
        r = search(idx, "glycinate")
        check(r.returncode == 2 and b"truncated" in r.stderr, "truncation reported: %r" % r.stderr)


def test_killed_indexing_leaves_the_previous_index_answering():
    with Tmp() as t:
        idx = os.path.join(t, "c.lode")
        index(idx, CORPUS)
        before = search(idx, "--color=never", "restless legs").stdout
        big = os.path.join(t, "big")
        os.makedirs(big)
        for i in range(400):
            with open(os.path.join(big, "f%03d.txt" % i), "w") as f:
                f.write(("word%d alpha beta gamma delta\n" % i) * 2000)
        for delay in (0.05, 0.2, 0.5):
            p = subprocess.Popen([INDEX_BIN, "-q", "--memory", "1", "-o", idx, big])
            time.sleep(delay)
            p.send_signal(signal.SIGKILL)
            p.wait()
            after = search(idx, "--color=never", "restless legs").stdout
            check(after == before or p.returncode == 0, "after kill -9 at %.2fs the old index answers" % delay)
        r = index(idx, CORPUS)
        check(r.returncode == 0, "the next run succeeds")
        stray = [f for f in os.listdir(idx) if f not in ("MANIFEST", "LOCK") and not f.endswith(".lseg")]
        check(stray == [], "no temporary files remain: %r" % stray)
        check(len([f for f in os.listdir(idx) if f.endswith(".lseg")]) == 1, "old segments are removed")


def main():
    tests = [(n, f) for n, f in sorted(globals().items()) if n.startswith("test_") and callable(f)]
    only = sys.argv[1] if len(sys.argv) > 1 else None
    ran = 0
    for name, fn in tests:
        if only and name != only:
            continue
        before = len(failures)
        fn()
        ran += 1
        print(("ok   " if len(failures) == before else "FAIL ") + name, file=sys.stderr)
    if ran == 0:
        print("no test named %s" % only, file=sys.stderr)
        return 2
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
