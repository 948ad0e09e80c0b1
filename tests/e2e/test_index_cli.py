#!/usr/bin/env python3
"""End-to-end tests of every mode and flag of lode-index, as a user runs it.

Golden outputs (--help, --version, the summary with its time masked), exit
statuses 0/1/2, the filters (--include, --exclude, --max-filesize,
.gitignore, .ignore, --no-ignore) checked by what lode-search finds
afterwards, -v naming each skipped file and why, -q, and the progress line:
absent when stderr is not a terminal, present under a pseudo-terminal.
Run alone: python3 test_index_cli.py [NAME]. Needs LODE_INDEX_BIN,
LODE_SEARCH_BIN and LODE_SOURCE_DIR (set by ctest).
"""
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

failures = []

HELP = """\
lode-index: index the text files under each PATH for lode-search.

  lode-index -o notes.lode ~/notes             index a folder
  lode-index -o src.lode --include '*.c' src   only some files
  lode-index --exclude 'drafts/' ~/notes       all but the drafts folders
  lode-search -i notes.lode 'query'            then search

usage: lode-index [-o INDEX|--bundle FILE] [--include GLOB] [--exclude GLOB] [--no-ignore]
                  [--max-filesize NUM] [--stemmer LANG] [--memory MB] [-q|-v] PATH...
       lode-index --compact INDEX [-o INDEX|--bundle FILE]
       lode-index --emit-c NAME [-o FILE.c] BUNDLE
       lode-index --check INDEX

  -o, --output INDEX    index folder to write (default index.lode); replaced atomically
  --bundle FILE         write the index as one self-contained file instead
  --include GLOB        index only files matching GLOB (repeatable)
  --exclude GLOB        leave out files and folders matching GLOB (repeatable; wins)
  --max-filesize NUM    skip files larger than NUM bytes (suffix K, M or G)
  --no-ignore           do not honour .gitignore and .ignore files
  --stemmer LANG        Snowball stemmer: english (default), french, german, ..., none
  --memory MB           memory budget before a segment is written (default 256)
  --compact             rewrite the index INDEX as one segment, from its stored text
  --emit-c NAME         print BUNDLE as C source: const unsigned char NAME[]
  --check               verify every checksum and structure of INDEX and exit
  -q, --quiet           no progress line, no summary (read errors are still named)
  -v, --verbose         also name every file skipped or left out, and why
  -h, --help            this help;  --version  the version

A GLOB without '/' matches names at any depth, one with '/' paths below PATH;
'**' spans folders. Binary files are skipped.
Exit status: 0 all indexed, 1 some files could not be read, 2 nothing written.
More in lode-index(1).
"""

USAGE = """\
usage: lode-index [-o INDEX|--bundle FILE] [--include GLOB] [--exclude GLOB] [--no-ignore]
                  [--max-filesize NUM] [--stemmer LANG] [--memory MB] [-q|-v] PATH...
       lode-index --compact INDEX [-o INDEX|--bundle FILE]
       lode-index --emit-c NAME [-o FILE.c] BUNDLE
       lode-index --check INDEX
Try 'lode-index --help'.
"""


def run(args, cwd=None):
    env = dict(os.environ)
    env.pop("LODE_INDEX", None)
    return subprocess.run(args, capture_output=True, env=env, cwd=cwd)


def check(cond, what):
    if not cond:
        failures.append(what)
        print("  check failed: " + what, file=sys.stderr)


def text(data):
    return data.decode("utf-8", "replace")


def mask_time(s):
    return re.sub(r" in \d+\.\d\d s;", " in T s;", s)


class Tmp:
    def __enter__(self):
        self.path = tempfile.mkdtemp(prefix="lode-index-cli-")
        return self.path

    def __exit__(self, *exc):
        shutil.rmtree(self.path, ignore_errors=True)


def write(root, rel, data):
    p = os.path.join(root, rel)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


# Every file holds one word found nowhere else: searching for it tells
# whether the file is in the index.
TREE = {
    "notes/alpha.txt": "alpha aardvark\n",
    "notes/beta.md": "beta bison\n",
    "notes/drafts/gamma.txt": "gamma gecko\n",
    "notes/drafts/delta.md": "delta dingo\n",
    "notes/big.txt": "epsilon elephant " * 200 + "\n",  # 3401 bytes
    "notes/app.log": "zeta zebu\n",
    "notes/build/eta.txt": "eta emu\n",
    "notes/secret.txt": "theta tapir\n",
    "notes/keep.log": "iota ibex\n",
}
WORD = {path: words.split()[1] for path, words in TREE.items()}


def make_tree(t, repo=True):
    for rel, data in TREE.items():
        write(t, rel, data)
    notes = os.path.join(t, "notes")
    if repo:
        os.makedirs(os.path.join(notes, ".git"))
    write(notes, ".gitignore", "# build output and logs\n*.log\nbuild/\n!keep.log\n")
    write(notes, ".ignore", "secret.txt\n")
    return notes


def searchable(idx, files):
    """The files of TREE (given by their keys) that lode-search finds."""
    found = set()
    for rel in files:
        r = run([SEARCH_BIN, "-i", idx, "--color=never", WORD[rel]])
        check(r.returncode in (0, 1), "lode-search %s: exit %d %r" % (WORD[rel], r.returncode, r.stderr))
        if r.returncode == 0:
            found.add(rel)
    return found


def index(t, *args):
    idx = os.path.join(t, "i.lode")
    return idx, run([INDEX_BIN, "-o", idx, *args])


# --- help, version, usage ----------------------------------------------------

def test_help_is_short_example_first_and_golden():
    for flag in ("--help", "-h"):
        r = run([INDEX_BIN, flag])
        check(r.returncode == 0, "%s exits 0" % flag)
        check(text(r.stdout) == HELP, "%s is the golden text:\n%s" % (flag, text(r.stdout)))
        check(r.stderr == b"", "%s writes nothing on stderr" % flag)
    check(len(HELP.splitlines()) <= 32, "the help fits a terminal")
    check(HELP.splitlines()[2].strip().startswith("lode-index -o"), "an example comes first")


def test_version():
    r = run([INDEX_BIN, "--version"])
    check(r.returncode == 0, "--version exits 0")
    check(re.fullmatch(r"lode-index \d+\.\d+\.\d+\n", text(r.stdout)) is not None,
          "--version prints the version: %r" % r.stdout)


def help_options():
    opts = set()
    for line in HELP.splitlines():
        if line.startswith("  -"):
            opts.update(re.findall(r"(?:^|[ ,])(--?[a-z][a-z-]*)", line))
    return opts


def test_man_page_and_completion_know_every_option():
    opts = help_options()
    check("--no-ignore" in opts and "-o" in opts and "--version" in opts, "options read from --help: %r" % opts)
    with open(os.path.join(SOURCE_DIR, "docs", "lode-index.1"), encoding="utf-8") as f:
        man = f.read().replace("\\-", "-")
    for o in sorted(opts):
        check(re.search(r"(^|[ \"])%s\b" % re.escape(o), man, re.M) is not None, "lode-index.1 documents %s" % o)
    with open(os.path.join(SOURCE_DIR, "scripts", "lode.bash-completion"), encoding="utf-8") as f:
        completion = f.read()
    for o in sorted(opts):
        check(re.search(r"[ \"]%s\b" % re.escape(o), completion) is not None, "the completion offers %s" % o)
    groff = shutil.which("groff")
    if groff is None:
        print("  skipped the rendering check: groff is not installed", file=sys.stderr)
        return
    r = run([groff, "-man", "-Tutf8", "-ww", "-z", os.path.join(SOURCE_DIR, "docs", "lode-index.1")])
    check(r.returncode == 0 and r.stderr == b"", "lode-index.1 renders without warnings: %r" % r.stderr)


def test_usage_errors_exit_two_with_the_usage():
    cases = [
        (["--bogus", "x"], "lode-index: unknown option '--bogus'\n"),
        ([], "lode-index: no PATH to index\n"),
        (["-o"], "lode-index: a value is missing after '-o'\n"),
        (["--include"], "lode-index: a value is missing after '--include'\n"),
        (["--max-filesize", "ten", "x"],
         "lode-index: --max-filesize takes a number of bytes, with K, M or G, not 'ten'\n"),
        (["--max-filesize=0", "x"],
         "lode-index: --max-filesize takes a number of bytes, with K, M or G, not '0'\n"),
        (["--max-filesize", "5T", "x"],
         "lode-index: --max-filesize takes a number of bytes, with K, M or G, not '5T'\n"),
        (["--memory", "-3", "x"], "lode-index: --memory takes a number of MiB, not '-3'\n"),
    ]
    for args, first in cases:
        r = run([INDEX_BIN, *args])
        check(r.returncode == 2, "%r exits 2: %d" % (args, r.returncode))
        check(text(r.stderr) == first + USAGE, "%r: golden message:\n%s" % (args, text(r.stderr)))
        check(r.stdout == b"", "%r: nothing on stdout" % args)
    with Tmp() as t:
        r = run([INDEX_BIN, "--exclude", "", "-o", os.path.join(t, "i.lode"), t])
        check(r.returncode == 2 and b"empty glob" in r.stderr, "an empty glob exits 2: %r" % r.stderr)


# --- the summary and exit statuses -------------------------------------------

def test_summary_is_golden_with_the_time_masked():
    with Tmp() as t:
        d = os.path.join(t, "in")
        write(d, "one.txt", "the quick brown fox\n")
        write(d, "two.txt", "jumps over the lazy dog\n")
        write(d, "three.bin", b"\x00\x01binary\x00")
        idx, r = index(t, d)
        check(r.returncode == 0, "exit 0 when every file was indexed or skipped as binary")
        want = ("lode-index: %s: indexed 2 files (44 bytes, 9 words) in T s; "
                "skipped 1 binary, 0 unreadable, 0 too large\n" % idx)
        check(mask_time(text(r.stderr)) == want, "golden summary:\n%s" % text(r.stderr))
        check(r.stdout == b"", "nothing on stdout")
        r = run([INDEX_BIN, "--check", idx])
        check(r.returncode == 0, "--check exits 0 on a good index")
        check(text(r.stdout) == ("%s: ok, every checksum and structure verified: 2 documents, 2 passages, "
                                 "9 tokens, 1 segments, stemmer english\n" % idx),
              "golden --check line: %r" % r.stdout)


def test_exit_one_when_a_file_could_not_be_read_and_it_is_named():
    with Tmp() as t:
        d = os.path.join(t, "in")
        write(d, "ok.txt", "fine words\n")
        os.symlink("nowhere", os.path.join(d, "broken.txt"))
        idx, r = index(t, d)
        err = text(r.stderr)
        check(r.returncode == 1, "exit 1 when a file was skipped for an error: %d" % r.returncode)
        check("lode-index: warning: %s: broken symbolic link\n" % os.path.join(d, "broken.txt") in err,
              "the file is named with the reason: %s" % err)
        check("indexed 1 files" in err and "1 unreadable" in err, "and counted: %s" % err)
        check(run([SEARCH_BIN, "-i", idx, "fine"]).returncode == 0, "the rest is indexed")
        # -q silences the summary, not the warning, and keeps the status
        idx, r = index(t, "-q", d)
        check(r.returncode == 1, "-q keeps exit 1")
        check(text(r.stderr) == "lode-index: warning: %s: broken symbolic link\n" % os.path.join(d, "broken.txt"),
              "-q prints only the warning: %r" % r.stderr)


def test_exit_two_when_nothing_could_be_written():
    with Tmp() as t:
        d = os.path.join(t, "in")
        write(d, "a.txt", "words\n")
        # the index path is a file
        notdir = os.path.join(t, "file")
        write(t, "file", "x")
        r = run([INDEX_BIN, "-o", notdir, d])
        check(r.returncode == 2 and b"not an index folder" in r.stderr, "index path is a file: %r" % r.stderr)
        # a PATH that does not exist: nothing is committed
        idx = os.path.join(t, "i.lode")
        r = run([INDEX_BIN, "-o", idx, d, os.path.join(t, "missing")])
        check(r.returncode == 2, "missing PATH exits 2")
        check(b"the index was not changed" in r.stderr and b"missing" in r.stderr, "and says so: %r" % r.stderr)
        check(not os.path.exists(os.path.join(idx, "MANIFEST")), "nothing committed")
        r = run([INDEX_BIN, "-o", idx, d])
        check(r.returncode == 0, "indexes fine afterwards")


def test_quiet_prints_nothing_when_all_is_well():
    with Tmp() as t:
        d = os.path.join(t, "in")
        write(d, "a.txt", "words\n")
        write(d, "b.bin", b"\x00")
        idx, r = index(t, "-q", d)
        check(r.returncode == 0 and r.stderr == b"" and r.stdout == b"", "-q is silent: %r" % r.stderr)
        idx, r = index(t, "--quiet", d)
        check(r.returncode == 0 and r.stderr == b"", "--quiet is silent")


def test_stemmer_and_memory():
    with Tmp() as t:
        d = os.path.join(t, "in")
        write(d, "a.txt", "the runners were running\n")
        idx, r = index(t, "--stemmer", "none", d)
        check(r.returncode == 0, "--stemmer none exits 0")
        check(run([SEARCH_BIN, "-i", idx, "run"]).returncode == 1, "no stemming: 'run' is not 'running'")
        check(text(run([INDEX_BIN, "--check", idx]).stdout).endswith("stemmer none\n"), "the index records none")
        idx, r = index(t, "--stemmer=english", d)
        check(run([SEARCH_BIN, "-i", idx, "run"]).returncode == 0, "english: 'run' finds 'running'")
        r = run([INDEX_BIN, "-o", os.path.join(t, "k.lode"), "--stemmer", "klingon", d])
        check(r.returncode == 2 and text(r.stderr).startswith("lode-index: unknown stemmer 'klingon' (try arabic"),
              "an unknown stemmer exits 2 with the choices: %r" % r.stderr)
        # --memory 1: a segment whenever 1 MiB of inversion is used
        for i in range(6):
            write(d, "big%d.txt" % i, " ".join("w%d_%d" % (i, j) for j in range(60000)) + "\n")
        idx, r = index(t, "-v", "--memory", "1", d)
        check(r.returncode == 0, "--memory 1 exits 0")
        segments = text(r.stderr).count("lode-index: wrote segment ")
        check(segments > 1, "-v names each segment written (%d)" % segments)
        m = re.search(r"(\d+) segments", text(run([INDEX_BIN, "--check", idx]).stdout))
        check(m is not None and int(m.group(1)) == segments, "--check counts them: %r" % (m and m.group(0)))


# --- filters -----------------------------------------------------------------

def test_gitignore_and_ignore_are_honoured_by_default():
    with Tmp() as t:
        notes = make_tree(t)
        idx, r = index(t, notes)
        check(r.returncode == 0, "exit 0: %r" % r.stderr)
        found = searchable(idx, TREE)
        want = set(TREE) - {"notes/app.log", "notes/build/eta.txt", "notes/secret.txt"}
        check(found == want, "ignored files are not searchable: %r" % sorted(found ^ want))
        check("indexed 8 files" in text(r.stderr), "6 of TREE and the 2 ignore files: %s" % text(r.stderr))


def test_gitignore_needs_a_repository_but_ignore_does_not():
    with Tmp() as t:
        notes = make_tree(t, repo=False)
        idx, r = index(t, notes)
        check(r.returncode == 0, "exit 0")
        found = searchable(idx, TREE)
        check(found == set(TREE) - {"notes/secret.txt"}, "outside git only .ignore counts: %r" % sorted(found))


def test_no_ignore_indexes_everything():
    with Tmp() as t:
        notes = make_tree(t)
        idx, r = index(t, "--no-ignore", notes)
        check(r.returncode == 0, "exit 0")
        check(searchable(idx, TREE) == set(TREE), "--no-ignore: every file")


def test_ignore_rules_of_folders_above_the_path_apply():
    with Tmp() as t:
        notes = make_tree(t)
        # index only notes/drafts: notes/.gitignore (in the repository
        # notes/.git) still counts, as for git and ripgrep
        write(notes, "drafts/old.log", "kappa kudu\n")
        idx, r = index(t, os.path.join(notes, "drafts"))
        check(r.returncode == 0, "exit 0")
        check(run([SEARCH_BIN, "-i", idx, "kudu"]).returncode == 1, "*.log from the folder above applies")
        check(run([SEARCH_BIN, "-i", idx, "gecko"]).returncode == 0, "the rest is indexed")


def test_exclude_include_and_max_filesize():
    with Tmp() as t:
        notes = make_tree(t)
        base = set(TREE) - {"notes/app.log", "notes/build/eta.txt", "notes/secret.txt"}
        # a name glob excludes at any depth, folders too
        idx, r = index(t, "--exclude", "drafts", notes)
        check(searchable(idx, TREE) == base - {"notes/drafts/gamma.txt", "notes/drafts/delta.md"},
              "--exclude drafts leaves the folder out")
        # include: only matching files; a glob with '/' is anchored at PATH
        idx, r = index(t, "--include", "*.md", notes)
        check(searchable(idx, TREE) == {"notes/beta.md", "notes/drafts/delta.md"}, "--include '*.md'")
        idx, r = index(t, "--include", "drafts/*", notes)
        check(searchable(idx, TREE) == {"notes/drafts/gamma.txt", "notes/drafts/delta.md"}, "--include 'drafts/*'")
        idx, r = index(t, "--include", "/*.md", notes)
        check(searchable(idx, TREE) == {"notes/beta.md"}, "--include '/*.md' only at the top")
        # exclusion wins over inclusion; several of each
        idx, r = index(t, "--include", "*.md", "--include", "*.txt", "--exclude", "delta.md", "--exclude=big*", notes)
        check(searchable(idx, TREE) == base - {"notes/drafts/delta.md", "notes/big.txt", "notes/keep.log"},
              "--exclude wins, several globs")
        # include never brings back an ignored file
        idx, r = index(t, "--include", "*.log", notes)
        check(searchable(idx, TREE) == {"notes/keep.log"}, "--include does not un-ignore")
        # a file named directly is indexed whatever the filters
        idx, r = index(t, "--exclude", "*.log", os.path.join(notes, "app.log"))
        check(searchable(idx, TREE) == {"notes/app.log"}, "a PATH that is a file is always indexed")
        # max-filesize: asked for, so exit 0, counted as too large
        idx, r = index(t, "--max-filesize", "1K", notes)
        check(r.returncode == 0, "--max-filesize skips are not errors: %d" % r.returncode)
        check(searchable(idx, TREE) == base - {"notes/big.txt"}, "--max-filesize 1K leaves big.txt out")
        check("1 too large" in text(r.stderr), "counted: %s" % text(r.stderr))
        check("big.txt" not in text(r.stderr), "named only with -v")
        idx, r = index(t, "--max-filesize=3401", notes)
        check("notes/big.txt" in searchable(idx, TREE), "a file of exactly the limit is indexed")


def test_verbose_names_every_skipped_file_and_why():
    with Tmp() as t:
        notes = make_tree(t)
        write(notes, "image.bin", b"\x89PNG\x00\x00")
        idx, r = index(t, "-v", "--max-filesize", "1K", "--exclude", "drafts/", notes)
        check(r.returncode == 0, "exit 0")
        lines = text(r.stderr).splitlines()
        want = [
            "lode-index: skipped %s/app.log: ignored by %s/.gitignore:2: *.log" % (notes, notes),
            "lode-index: skipped %s/big.txt: 3401 bytes, more than the limit of 1024" % notes,
            "lode-index: skipped %s/build: ignored by %s/.gitignore:3: build/" % (notes, notes),
            "lode-index: skipped %s/drafts: excluded by glob 'drafts/'" % notes,
            "lode-index: skipped %s/image.bin: binary file (NUL byte)" % notes,
            "lode-index: skipped %s/secret.txt: ignored by %s/.ignore:1: secret.txt" % (notes, notes),
        ]
        got = [l for l in lines if l.startswith("lode-index: skipped ")]
        check(got == want, "-v names each, in walk order:\n%s" % "\n".join(got))
        check(lines[-1].startswith("lode-index: %s: indexed 5 files" % idx), "then the summary: %r" % lines[-1])
        # without -v none of them
        idx, r = index(t, "--max-filesize", "1K", "--exclude", "drafts/", notes)
        check("skipped " + notes not in text(r.stderr), "quiet about skips without -v")
        check(len(text(r.stderr).splitlines()) == 1, "only the summary: %r" % r.stderr)


# --- progress ----------------------------------------------------------------

def test_no_progress_when_stderr_is_not_a_terminal():
    with Tmp() as t:
        d = os.path.join(t, "in")
        for i in range(50):
            write(d, "f%02d.txt" % i, "word%d filler text\n" % i)
        idx, r = index(t, d)
        err = text(r.stderr)
        check("\r" not in err, "no carriage return in a pipe")
        check("files," not in err and "counting" not in err, "no progress text in a pipe: %r" % err)
        check(len(err.splitlines()) == 1, "only the summary")


def pty_run(args):
    """(exit status, everything written to the terminal) or None when the
    machine has no pseudo-terminals."""
    try:
        pid, fd = pty.fork()
    except OSError:
        return None
    if pid == 0:
        try:
            os.execv(args[0], args)
        finally:
            os._exit(127)
    chunks = []
    while True:
        try:
            data = os.read(fd, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(status), b"".join(chunks).decode("utf-8", "replace")


def test_progress_on_a_terminal_is_redrawn_and_erased():
    with Tmp() as t:
        d = os.path.join(t, "in")
        for i in range(40):
            write(d, "f%02d.txt" % i, "word%d filler text\n" % i)
        write(d, "skip.log", "left out\n")
        write(d, "big.txt", "x" * 5000)
        idx = os.path.join(t, "i.lode")
        got = pty_run([INDEX_BIN, "-o", idx, "--exclude", "*.log", "--max-filesize", "4K", d])
        if got is None:
            print("  skipped: this machine has no pseudo-terminals", file=sys.stderr)
            return
        rc, out = got
        check(rc == 0, "exit 0 on a terminal: %d %r" % (rc, out))
        frames = out.split("\r")
        progress = [f for f in frames if re.match(r"lode-index: \d+/41 files, ", f)]
        check(progress != [], "a progress line with the total from the count (41 files, "
              "the excluded one left out): %r" % out[:300])
        check(all(len(f) < 80 for f in progress), "each line fits 80 columns")
        # erased before the summary: the last frame before it is blank
        # big.txt is over --max-filesize: counted in the total, not indexed
        summary = [i for i, f in enumerate(frames) if "indexed 40 files" in f]
        check(summary != [] and frames[summary[0] - 1].strip() == "",
              "the line is erased before the summary: %r" % frames[-3:])
        check(out.rstrip("\r\n").endswith("too large"), "the summary is last: %r" % out[-200:])
        # --quiet: no progress on a terminal either
        got = pty_run([INDEX_BIN, "-q", "-o", idx, d])
        rc, out = got
        check(rc == 0 and out == "", "-q on a terminal prints nothing: %r" % out)


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
