#!/usr/bin/env python3
"""Crash safety and concurrent readers, through the programs.

- kill -9 lode-index at many moments of a rebuild (with a small memory
  budget, so that it writes several segments before its commit): afterwards
  the index answers exactly as before, or as after the rebuild when the
  commit had already happened, and the next run leaves no stray files.
- readers running while a writer commits, again and again, see the old or
  the new index, never a mix and never an error.
Run alone: python3 test_crash.py [NAME]. Needs LODE_INDEX_BIN,
LODE_SEARCH_BIN and LODE_SOURCE_DIR (set by ctest).
"""
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time

INDEX_BIN = os.environ["LODE_INDEX_BIN"]
SEARCH_BIN = os.environ["LODE_SEARCH_BIN"]
CORPUS = os.path.join(os.environ["LODE_SOURCE_DIR"], "corpus")
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("  check failed: " + what, file=sys.stderr)


def search(idx, query):
    r = subprocess.run([SEARCH_BIN, "-i", idx, "--color=never", "--scores", query], capture_output=True)
    return r.returncode, r.stdout


def make_big(folder, n=300, seed=1):
    os.makedirs(folder)
    rnd = random.Random(seed)
    words = ["alpha", "beta", "gamma", "delta", "magnesium", "sleep", "restless", "legs", "epsilon", "zeta"]
    for i in range(n):
        with open(os.path.join(folder, "f%03d.txt" % i), "w") as f:
            f.write("Title %d\n\n" % i)
            for _ in range(600):
                f.write(" ".join(rnd.choice(words) for _ in range(12)) + "\n")


def test_kill_at_many_moments_leaves_old_or_new_index():
    with tempfile.TemporaryDirectory(prefix="lode-crash-") as t:
        idx = os.path.join(t, "x.lode")
        subprocess.run([INDEX_BIN, "-q", "-o", idx, CORPUS], check=True)
        old = search(idx, "restless legs")
        big = os.path.join(t, "big")
        make_big(big)
        # the answer after a completed rebuild, from a separate index
        ref = os.path.join(t, "ref.lode")
        subprocess.run([INDEX_BIN, "-q", "--memory", "1", "-o", ref, big], check=True)
        new = search(ref, "restless legs")
        check(old != new and old[0] == 0 and new[0] == 0, "the two answers differ and both match")
        rnd = random.Random(7)
        kills = 0
        for attempt in range(12):
            p = subprocess.Popen([INDEX_BIN, "-q", "--memory", "1", "-o", idx, big])
            time.sleep(rnd.uniform(0.0, 0.6))
            p.send_signal(signal.SIGKILL)
            p.wait()
            kills += p.returncode == -signal.SIGKILL
            got = search(idx, "restless legs")
            check(got == old or got == new, "after kill -9 #%d the index answers as before or after" % attempt)
            if got == new:
                # the commit happened: start again from the old index
                subprocess.run([INDEX_BIN, "-q", "-o", idx, CORPUS], check=True)
        check(kills >= 6, "most runs were really killed mid-way (%d of 12)" % kills)
        subprocess.run([INDEX_BIN, "-q", "-o", idx, CORPUS], check=True)
        left = sorted(f for f in os.listdir(idx) if f not in ("MANIFEST", "LOCK"))
        check(len(left) == 1 and left[0].endswith(".lseg"), "one segment and nothing else remains: %r" % left)
        check(search(idx, "restless legs") == old, "and it answers")


def test_readers_see_the_old_or_the_new_index_during_commits():
    with tempfile.TemporaryDirectory(prefix="lode-readers-") as t:
        idx = os.path.join(t, "x.lode")
        other = os.path.join(t, "other")
        make_big(other, n=20, seed=3)
        subprocess.run([INDEX_BIN, "-q", "-o", idx, CORPUS], check=True)
        a = search(idx, "magnesium")
        subprocess.run([INDEX_BIN, "-q", "-o", idx, other], check=True)
        b = search(idx, "magnesium")
        check(a != b, "the two indexes answer differently")
        stop = threading.Event()
        seen = {"a": 0, "b": 0, "bad": 0}

        def reader():
            while not stop.is_set():
                got = search(idx, "magnesium")
                if got == a:
                    seen["a"] += 1
                elif got == b:
                    seen["b"] += 1
                else:
                    seen["bad"] += 1
                    print("  reader saw: %r" % (got[0], ), file=sys.stderr)

        threads = [threading.Thread(target=reader) for _ in range(2)]
        for th in threads:
            th.start()
        for i in range(16):
            subprocess.run([INDEX_BIN, "-q", "-o", idx, CORPUS if i % 2 else other], check=True)
        stop.set()
        for th in threads:
            th.join()
        check(seen["bad"] == 0, "no reader saw a mix or an error: %r" % seen)
        check(seen["a"] + seen["b"] > 10, "the readers really ran: %r" % seen)


def main():
    tests = [(n, f) for n, f in sorted(globals().items()) if n.startswith("test_") and callable(f)]
    only = sys.argv[1] if len(sys.argv) > 1 else None
    for name, fn in tests:
        if only and name != only:
            continue
        before = len(failures)
        fn()
        print(("ok   " if len(failures) == before else "FAIL ") + name, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
