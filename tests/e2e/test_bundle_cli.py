#!/usr/bin/env python3
"""End-to-end tests of lode-index's bundle modes, as a user runs them.

--bundle FILE writes one self-contained file that lode-search opens like a
folder (the same bytes as the one segment of a folder index of the same
files); --compact INDEX rewrites an index of many segments as one, in
place, into -o, or as a bundle, from the stored text alone (the sources
may be gone); --emit-c NAME prints a bundle as C whose bytes are the
bundle's; every misuse is a usage error with exit status 2.
Run alone: python3 test_bundle_cli.py [NAME]. Needs LODE_INDEX_BIN,
LODE_SEARCH_BIN and LODE_SOURCE_DIR (set by ctest).
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

INDEX_BIN = os.environ["LODE_INDEX_BIN"]
SEARCH_BIN = os.environ["LODE_SEARCH_BIN"]
SOURCE_DIR = os.environ["LODE_SOURCE_DIR"]
CORPUS = os.path.join(SOURCE_DIR, "corpus")

failures = []


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


def read(path):
    with open(path, "rb") as f:
        return f.read()


class Tmp:
    def __enter__(self):
        self.path = tempfile.mkdtemp(prefix="lode-bundle-cli-")
        return self.path

    def __exit__(self, *exc):
        shutil.rmtree(self.path, ignore_errors=True)


QUERIES = ["glycinate sleep dose", '"restless legs"', "magn*", "title:dosage", "cramps -citrate"]


def answers(idx):
    """lode-search's JSON answers to QUERIES, the way a user compares them."""
    out = []
    for q in QUERIES:
        r = run([SEARCH_BIN, "-i", idx, "--json", "-n", "5", q])
        check(r.returncode == 0, "lode-search -i %s %s: exit %d %r" % (idx, q, r.returncode, r.stderr))
        out.append(r.stdout)
    return out


def segments(idx):
    r = run([INDEX_BIN, "--check", idx])
    check(r.returncode == 0, "--check %s: %r" % (idx, r.stderr))
    m = re.search(rb", (\d+) segments,", r.stdout)
    return int(m.group(1)) if m else -1


def big_tree(t, copies=30):
    """The corpus many times over: over 1 MiB, so --memory 1 cuts it into
    several segments."""
    d = os.path.join(t, "big")
    os.makedirs(d)
    for i in range(copies):
        for name in sorted(os.listdir(CORPUS)):
            shutil.copyfile(os.path.join(CORPUS, name), os.path.join(d, "%02d-%s" % (i, name)))
    return d


def test_bundle_is_one_file_with_the_bytes_of_a_one_segment_index():
    with Tmp() as t:
        b = os.path.join(t, "corpus.lode")
        r = run([INDEX_BIN, "--bundle", b, "corpus"], cwd=SOURCE_DIR)
        check(r.returncode == 0, "--bundle exits 0: %r" % r.stderr)
        check(re.fullmatch(r"lode-index: %s: indexed 5 files \(40\.0 KiB, 5988 words\) in \d+\.\d\d s; "
                           r"skipped 0 binary, 0 unreadable, 0 too large\n" % re.escape(b), text(r.stderr))
              is not None, "the usual summary, naming the bundle: %r" % r.stderr)
        check(os.path.isfile(b) and not os.path.exists(b + ".tmp"), "one file, no temporary file left")
        folder = os.path.join(t, "folder.lode")
        run([INDEX_BIN, "-q", "-o", folder, "corpus"], cwd=SOURCE_DIR)
        check(read(b) == read(os.path.join(folder, "seg-00000001-0001.lseg")),
              "the bundle is the folder's one segment, byte for byte")
        check(answers(b) == answers(folder), "lode-search answers the same from both")
        check(segments(b) == 1, "--check says 1 segment")
        # the same files give the same bytes: bundles are reproducible
        again = os.path.join(t, "again.lode")
        run([INDEX_BIN, "-q", "--bundle", again, "corpus"], cwd=SOURCE_DIR)
        check(read(again) == read(b), "a second run writes the same bytes")
        r = run([INDEX_BIN, "-v", "--bundle", b, "corpus"], cwd=SOURCE_DIR)
        check("lode-index: wrote bundle %s (%d bytes)\n" % (b, len(read(b))) in text(r.stderr),
              "-v names the bundle written: %r" % r.stderr)


def test_compact_in_place_into_a_folder_and_into_a_bundle():
    with Tmp() as t:
        big = big_tree(t)
        idx = os.path.join(t, "i.lode")
        r = run([INDEX_BIN, "-q", "--memory", "1", "-o", idx, big])
        check(r.returncode == 0, "index with --memory 1: %r" % r.stderr)
        many = segments(idx)
        check(many > 1, "--memory 1 wrote several segments: %d" % many)
        before = answers(idx)
        direct = os.path.join(t, "direct.lode")
        run([INDEX_BIN, "-q", "--bundle", direct, big])
        # the sources are not needed: compaction reads the stored text
        shutil.rmtree(big)
        bundle = os.path.join(t, "b.lode")
        r = run([INDEX_BIN, "--compact", idx, "--bundle", bundle])
        check(r.returncode == 0, "--compact --bundle exits 0: %r" % r.stderr)
        check(re.fullmatch(r"lode-index: %s: 150 documents \(1\.2 MiB, 179640 words\) from %d segments into one "
                           r"bundle file in \d+\.\d\d s\n" % (re.escape(bundle), many), text(r.stderr))
              is not None, "the compaction summary: %r" % r.stderr)
        check(read(bundle) == read(direct), "the bundle of the index is the bundle of the files, byte for byte")
        other = os.path.join(t, "other.lode")
        r = run([INDEX_BIN, "-q", "--compact", idx, "-o", other])
        check(r.returncode == 0 and r.stderr == b"", "--compact -o, quiet: %r" % r.stderr)
        check(segments(other) == 1 and segments(idx) == many, "-o writes a new folder and leaves INDEX alone")
        r = run([INDEX_BIN, "-q", "--compact", idx])
        check(r.returncode == 0, "--compact in place: %r" % r.stderr)
        check(segments(idx) == 1, "in place: one segment now")
        check(sorted(os.listdir(idx)) == ["LOCK", "MANIFEST", "seg-00000002-0001.lseg"],
              "the old segments are gone: %r" % sorted(os.listdir(idx)))
        check(read(os.path.join(idx, "seg-00000002-0001.lseg")) == read(direct), "in place: the same bytes")
        check(answers(idx) == before and answers(bundle) == before and answers(other) == before,
              "every form answers as the index of many segments did")
        # a bundle compacts in place too, here with another stemmer
        r = run([INDEX_BIN, "-q", "--compact", bundle, "--stemmer", "none"])
        check(r.returncode == 0 and os.path.isfile(bundle), "--compact of a bundle file: %r" % r.stderr)
        r = run([INDEX_BIN, "--check", bundle])
        check(b"stemmer none" in r.stdout, "re-analysed with --stemmer none: %r" % r.stdout)


def test_emit_c_prints_the_bundle_bytes_as_c():
    with Tmp() as t:
        b = os.path.join(t, "corpus.lode")
        run([INDEX_BIN, "-q", "--bundle", b, "corpus"], cwd=SOURCE_DIR)
        r = run([INDEX_BIN, "--emit-c", "corpus_index", b])
        check(r.returncode == 0 and r.stderr == b"", "--emit-c exits 0 silently: %r" % r.stderr)
        c = text(r.stdout)
        data = read(b)
        check(c.startswith("/* Generated by lode-index ") and " --emit-c corpus_index corpus.lode:\n" in c,
              "a comment says what made it, with the bundle's name only: %r" % c[:200])
        check(t not in c, "no path of this machine in the output")
        check("const unsigned char corpus_index[%d] = {\n" % len(data) in c, "the array, sized")
        check("const size_t corpus_index_size = %d;\n" % len(data) in c, "its size")
        check('extern "C"' in c, "declarations with C linkage for C++")
        body = c[c.index("= {\n") + 4:c.index("};")]
        check(bytes(int(x, 16) for x in re.findall(r"0x([0-9a-f]{2}),", body)) == data,
              "the array holds the bundle's bytes")
        out = os.path.join(t, "corpus_index.c")
        r = run([INDEX_BIN, "--emit-c", "corpus_index", "-o", out, b])
        check(r.returncode == 0 and read(out).decode() == c and not os.path.exists(out + ".tmp"),
              "-o writes the same text to a file: %r" % r.stderr)


def test_emit_c_refuses_what_would_fail_at_run_time():
    with Tmp() as t:
        folder = os.path.join(t, "f.lode")
        run([INDEX_BIN, "-q", "-o", folder, "corpus"], cwd=SOURCE_DIR)
        r = run([INDEX_BIN, "--emit-c", "x", folder])
        check(r.returncode == 2 and b"is an index folder, not a bundle" in r.stderr and r.stdout == b"",
              "a folder is refused with a hint: %r" % r.stderr)
        bad = os.path.join(t, "bad.lode")
        data = bytearray(read(os.path.join(folder, "seg-00000001-0001.lseg")))
        data[len(data) // 2] ^= 0xFF
        with open(bad, "wb") as f:
            f.write(data)
        r = run([INDEX_BIN, "--emit-c", "x", bad])
        check(r.returncode == 2 and b"checksum mismatch" in r.stderr and r.stdout == b"",
              "a damaged bundle is refused: %r" % r.stderr)
        r = run([INDEX_BIN, "--emit-c", "x", os.path.join(t, "missing.lode")])
        check(r.returncode == 2 and b"missing.lode" in r.stderr, "a missing bundle: %r" % r.stderr)


def test_misuse_is_a_usage_error():
    cases = [
        (["-o", "x.lode", "--bundle", "y.lode", "corpus"], "-o writes a folder and --bundle a file: give one of them"),
        (["--compact"], "--compact takes one INDEX"),
        (["--compact", "a.lode", "b.lode"], "--compact takes one INDEX"),
        (["--compact", "a.lode", "--include", "*.txt"], "file filters apply to PATHs, not with '--compact'"),
        (["--bundle", "b.lode", "--memory", "8", "corpus"],
         "--bundle and --compact hold the index in memory; no --memory with '--bundle'"),
        (["--emit-c", "x"], "--emit-c takes one BUNDLE"),
        (["--emit-c", "not-a-name", "b.lode"], "--emit-c takes a C identifier, not 'not-a-name'"),
        (["--emit-c", "x", "--bundle", "b.lode", "corpus"], "--emit-c reads a bundle; write it first with --bundle"),
        (["--check", "--compact", "a.lode"], "give one of --check, --compact and --emit-c"),
    ]
    with Tmp() as t:
        for args, msg in cases:
            r = run([INDEX_BIN] + args, cwd=t)
            check(r.returncode == 2, "%r exits 2, not %d" % (args, r.returncode))
            check(text(r.stderr).startswith("lode-index: %s\nusage: lode-index " % msg),
                  "%r says %r: %r" % (args, msg, r.stderr))
        check(os.listdir(t) == [], "nothing was written: %r" % os.listdir(t))
        r = run([INDEX_BIN, "--compact", os.path.join(t, "none.lode")])
        check(r.returncode == 2 and b"none.lode" in r.stderr and os.listdir(t) == [],
              "compacting what does not exist creates nothing: %r" % r.stderr)


def test_a_locked_bundle_is_refused_and_left_alone():
    with Tmp() as t:
        b = os.path.join(t, "b.lode")
        run([INDEX_BIN, "-q", "--bundle", b, "corpus"], cwd=SOURCE_DIR)
        before = read(b)
        # hold the lock of the temporary file the way a running writer does
        holder = subprocess.Popen([sys.executable, "-c",
                                   "import fcntl,sys; f=open(sys.argv[1],'a'); fcntl.flock(f, fcntl.LOCK_EX); "
                                   "print('locked', flush=True); sys.stdin.read()", b + ".tmp"],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        holder.stdout.readline()
        r = run([INDEX_BIN, "--bundle", b, "corpus"], cwd=SOURCE_DIR)
        holder.stdin.close()
        holder.wait()
        check(r.returncode == 2 and b"is locked" in r.stderr, "a second writer is refused: %r" % r.stderr)
        check(read(b) == before, "the bundle is untouched")


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
