#!/usr/bin/env python3
"""Hostile input files, end to end: what lode-index does with each, as the
"Bad input and faults" table of DESIGN.md says, and what lode-search shows.

Random bytes (with and without NUL), NUL bytes after the binary sniff,
invalid, overlong and surrogate UTF-8 (offsets checked byte for byte in
--json), file names with newlines, escape sequences and invalid UTF-8 (in
warnings, terminal, --grep -0 and --json output), 2000 and 3000 nested
folders, symbolic link loops, links to devices, FIFOs and sockets,
permission-denied folders, files that change size or vanish while they are
read, a word of 10 000 letters, and a file one byte over the 1 GiB document
limit. The 1 GiB file and a million files are in test_scale.py.

Run alone: python3 test_hostile.py [NAME]. Needs LODE_INDEX_BIN,
LODE_SEARCH_BIN and LODE_SOURCE_DIR (set by ctest).
"""
import base64
import errno
import json
import os
import random
import re
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time

INDEX_BIN = os.environ["LODE_INDEX_BIN"]
SEARCH_BIN = os.environ["LODE_SEARCH_BIN"]

LODE_MAX_DOC_BYTES = 1 << 30      # indexer/lode_limits.h
LODE_MAX_TERM_BYTES = 64
LODE_MAX_QUERY_BYTES = 8192
BINARY_SNIFF_BYTES = 8192
LINE_END = re.compile(rb"\r\n|\r|\n")

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("  check failed: " + what, file=sys.stderr)


class Result:
    def __init__(self, returncode, stdout, stderr):
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


def run(args, cwd=None, preexec=None, timeout=300):
    """Run a program; a hang is a failure (returncode None), not a hung test."""
    env = dict(os.environ)
    env.pop("LODE_INDEX", None)
    env.pop("NO_COLOR", None)
    try:
        r = subprocess.run(args, capture_output=True, env=env, cwd=cwd, preexec_fn=preexec, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        check(False, "%r did not finish in %d s" % (args[:3], timeout))
        return Result(None, e.stdout or b"", e.stderr or b"")
    return Result(r.returncode, r.stdout, r.stderr)


def index(idx, *paths, cwd=None, preexec=None, prog=INDEX_BIN, timeout=300):
    return run([prog, "-o", idx, *paths], cwd=cwd, preexec=preexec, timeout=timeout)


def search(idx, *args, cwd=None):
    return run([SEARCH_BIN, "-i", idx, "--color=never", *args], cwd=cwd)


def json_objects(r, what):
    """Every line of --json output parsed; each must be strict UTF-8 JSON."""
    objs = []
    for n, line in enumerate(r.stdout.split(b"\n")[:-1], 1):
        try:
            objs.append(json.loads(line.decode("utf-8")))
        except (UnicodeDecodeError, ValueError) as e:
            check(False, "%s: line %d is not UTF-8 JSON: %s: %r" % (what, n, e, line[:200]))
    return objs


def path_bytes(o):
    """The exact bytes of a --json hit's path: "path_bytes" (base64) when the
    path is not UTF-8, else "path" itself."""
    if "path_bytes" in o:
        return base64.b64decode(o["path_bytes"], validate=True)
    return o["path"].encode("utf-8")


def line_of(data, offset):
    """The line of a byte as lode counts lines: LF, CRLF or a lone CR ends one."""
    return len(LINE_END.findall(data[:offset])) + 1


def replace_invalid(data):
    """Bytes to text as lode's JSON does: each byte that is not part of a
    well-formed UTF-8 character becomes U+FFFD."""
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


def no_raw_controls(out):
    """Terminal output: no control byte but tab and newline, no DEL."""
    return all((b >= 0x20 and b != 0x7f) or b in (9, 10) for b in out)


def summary_count(stderr, what):
    m = re.search(rb"indexed (\d+) files", stderr)
    check(m is not None, "%s: a summary: %r" % (what, stderr[-300:]))
    return int(m.group(1)) if m else -1


def warning_lines(stderr):
    return [l for l in stderr.split(b"\n") if l.startswith(b"lode-index: warning: ")]


def unquote(line):
    """Split 'PATH: message' as lode-index prints it: PATH as is, or in
    double quotes with \\" \\\\ \\t \\n \\r and \\ooo escapes. Returns
    (path bytes, message) or (None, line) when the quoting is malformed."""
    if not line.startswith(b'"'):
        path, _, msg = line.partition(b": ")
        return path, msg
    out, i = bytearray(), 1
    simple = {ord("n"): b"\n", ord("t"): b"\t", ord("r"): b"\r", ord('"'): b'"', ord("\\"): b"\\"}
    while i < len(line) and line[i] != ord('"'):
        if line[i] == ord("\\"):
            if re.fullmatch(rb"[0-7]{3}", line[i + 1:i + 4]):
                out.append(int(line[i + 1:i + 4], 8))
                i += 4
            elif line[i + 1] in simple:
                out += simple[line[i + 1]]
                i += 2
            else:
                return None, line
        else:
            out.append(line[i])
            i += 1
    if line[i + 1:i + 3] != b": ":
        return None, line
    return bytes(out), line[i + 3:]


class Tmp:
    """A scratch folder, removed at the end whatever it holds: trees deeper
    than PATH_MAX (which shutil.rmtree cannot remove), folders without
    permissions."""

    def __enter__(self):
        self.path = tempfile.mkdtemp(prefix="lode-hostile-")
        return self.path

    def __exit__(self, *exc):
        subprocess.run(["chmod", "-R", "u+rwx", self.path], capture_output=True)
        subprocess.run(["rm", "-rf", "--", self.path], capture_output=True)
        if os.path.exists(self.path):
            shutil.rmtree(self.path, ignore_errors=True)


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def drop_to_nobody():
    """As root, permissions do not stop reads: run as nobody instead."""
    if os.geteuid() == 0:
        os.setgroups([])
        os.setgid(65534)
        os.setuid(65534)


def nobody_copy(t):
    """A copy of lode-index that nobody may run (the build folder may be
    under /root), and the folder opened to everyone."""
    prog = os.path.join(t, "lode-index")
    shutil.copy(INDEX_BIN, prog)
    os.chmod(prog, 0o755)
    os.chmod(t, 0o777)
    return prog


# --- binary data and random bytes ---------------------------------------------

def test_random_bytes_are_binary_or_text_and_offsets_stay_right():
    with Tmp() as t:
        d = os.path.join(t, "in")
        os.mkdir(d)
        rng = random.Random(20240601)
        noise = rng.randbytes(256 * 1024)
        write(os.path.join(d, "random.bin"), noise)                   # NUL bytes: binary
        text = bytearray(noise.replace(b"\0", b"\1"))                # every other byte value
        where = 100_003
        text[where:where + 10] = b" marmoset "
        write(os.path.join(d, "random.txt"), bytes(text))
        # a NUL just past the sniffed bytes is text; one inside them is binary
        late = b"okapi " * (BINARY_SNIFF_BYTES // 6 + 1)
        write(os.path.join(d, "late-nul.txt"), late[:BINARY_SNIFF_BYTES] + b"\0 tapir\n")
        write(os.path.join(d, "early-nul.txt"), late[:BINARY_SNIFF_BYTES - 1] + b"\0 tapir\n")
        idx = os.path.join(t, "i.lode")
        r = index(idx, "-v", d)
        check(r.returncode == 0, "random bytes: exit 0: %r" % r.stderr[-300:])
        check(b"skipped 2 binary" in r.stderr, "the two files with an early NUL are binary: %r" % r.stderr[-300:])
        check(b"random.bin: binary file" in r.stderr and b"early-nul.txt: binary file" in r.stderr,
              "-v names them: %r" % r.stderr)
        check(summary_count(r.stderr, "random") == 2, "random.txt and late-nul.txt are indexed")

        r = search(idx, "--json", "marmoset")
        objs = json_objects(r, "random bytes")
        check(r.returncode == 0 and len(objs) == 1, "the word among random bytes is found: %r" % r.stderr)
        for o in objs:
            check(o["path"].endswith("random.txt"), "in random.txt")
            hl = [(h["start"], h["end"]) for h in o["highlights"]]
            check(hl == [(where + 1, where + 9)], "its bytes exactly: %r" % hl)
            check(o["start"] <= where + 1 and where + 9 <= o["end"], "inside the passage")
            check(o["line"] == line_of(text, o["start"]), "the passage's line counts LF, CR and CRLF")
            check([h["line"] for h in o["highlights"]] == [line_of(text, where + 1)], "the word's line")
            check(o["text"] == replace_invalid(bytes(text[o["start"]:o["end"]])), "the passage's bytes")
        # every word the terminal output shows comes without raw control bytes
        r = search(idx, "marmoset")
        check(r.returncode == 0, "terminal output of random bytes")
        check(no_raw_controls(r.stdout), "no raw control bytes on a terminal")

        r = search(idx, "--json", "tapir")
        objs = json_objects(r, "late NUL")
        check([o["path"][-12:] for o in objs] == ["late-nul.txt"], "the text after a late NUL is indexed: %r" % objs)
        for o in objs:
            check([(h["start"], h["end"]) for h in o["highlights"]] ==
                  [(BINARY_SNIFF_BYTES + 2, BINARY_SNIFF_BYTES + 7)], "offset after the NUL: %r" % o["highlights"])
        r = search(idx, "--grep", "tapir")
        check(b"\0" in r.stdout, "--grep into a pipe keeps the bytes (the NUL) as grep does")
        r = search(idx, "tapir")
        check(b"\0" not in r.stdout and b"?" in r.stdout, "the terminal output shows the NUL as '?'")


def test_invalid_overlong_and_surrogate_utf8_are_indexed_with_exact_offsets():
    # each sequence is invalid UTF-8: it separates words, and never hides one
    bad = [
        b"\xc0\x80",                    # overlong NUL ("modified UTF-8"): not a NUL byte
        b"\xc1\xbf",                    # overlong DEL
        b"\xe0\x80\x80",                # overlong, 3 bytes
        b"\xe0\x80\xaf",                # overlong '/', 3 bytes
        b"\xf0\x80\x80\xaf",            # overlong '/', 4 bytes
        b"\xed\xa0\x80",                # surrogate U+D800
        b"\xed\xbf\xbf",                # surrogate U+DFFF
        b"\xed\xa0\xbd\xed\xb8\x80",    # a surrogate pair (CESU-8 for U+1F600)
        b"\xf4\x90\x80\x80",            # above U+10FFFF
        b"\xf8\x88\x80\x80\x80",        # a 5-byte form
        b"\x80\xbf",                    # stray continuation bytes
        b"\xfe\xff",                    # never in UTF-8 (a UTF-16 BOM)
    ]
    words = ["aardwolf", "bandicoot", "cassowary", "dugong", "echidna", "fossa", "gharial",
             "hoatzin", "ibis", "jerboa", "kinkajou", "loris", "margay"]
    data = bytearray(b"Invalid UTF-8 in every form\n\n")
    spans = {}
    for i, w in enumerate(words):
        spans[w] = (len(data), len(data) + len(w))
        data += w.encode()
        if i < len(bad):
            data += bad[i]
        if i % 4 == 3:
            data += b"\n"
    data += b"\n\xe2\x82"  # and a sequence cut by the end of the file
    with Tmp() as t:
        d = os.path.join(t, "in")
        os.mkdir(d)
        write(os.path.join(d, "bad.txt"), bytes(data))
        idx = os.path.join(t, "i.lode")
        r = index(idx, d)
        check(r.returncode == 0 and summary_count(r.stderr, "utf8") == 1, "indexed, not binary: %r" % r.stderr)
        for w in words:
            r = search(idx, "--json", w)
            objs = json_objects(r, w)
            check(len(objs) == 1, "%s found once: %r" % (w, r.stderr))
            for o in objs:
                hl = [(h["start"], h["end"]) for h in o["highlights"]]
                check(hl == [spans[w]], "%s at its bytes %r: %r" % (w, spans[w], hl))
                line = line_of(data, spans[w][0])
                check([h["line"] for h in o["highlights"]] == [line], "%s on line %d" % (w, line))
                check(o["text"] == replace_invalid(bytes(data[o["start"]:o["end"]])),
                      "%s: the passage is the file's bytes, invalid ones as U+FFFD" % w)
        # the words on either side of an invalid sequence are not joined
        r = search(idx, "aardwolfbandicoot")
        check(r.returncode == 1, "invalid bytes separate words")
        r = search(idx, "--grep", "--column", "fossa")
        at = spans["fossa"][0]
        want = [str(line_of(data, at)).encode(), str(at - data.rfind(b"\n", 0, at)).encode()]
        check(r.stdout.split(b":")[1:3] == want, "--column counts bytes: %r" % r.stdout[:60])


# --- file names ---------------------------------------------------------------

ODD_NAMES = [
    b"new\nline.txt", b"bad\xff\xfe.txt", b"esc\x1b[31mred.txt", b'quote".txt', b"back\\slash.txt",
    b"-dash.txt", b" lead space.txt", b"tab\there.txt", "\u00fcn\u00efcode.txt".encode(),
    b"cr\rreturn.txt", b"del\x7f.txt", b"a: colon.txt", b"lone\xc3.txt", b"surrogate\xed\xa0\x80.txt",
    b"c1\xc2\x9bcsi.txt",  # U+009B, a C1 control some terminals obey
]
WORDS = ["aye", "bison", "coati", "degu", "eland", "fennec", "genet", "hyrax", "impala", "jackal",
         "kudu", "lemming", "markhor", "nilgai", "oryx"]


def plain(name):
    """Printed as it is in lode-index's messages (else quoted)."""
    try:
        text = name.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return ": " not in text and not any(c < " " or "\x7f" <= c <= "\x9f" or c in '"\\' for c in text)


def test_odd_file_names_are_indexed_and_named_unambiguously():
    with Tmp() as t:
        tb = t.encode()
        for i, name in enumerate(ODD_NAMES):
            os.makedirs(os.path.join(tb, b"in"), exist_ok=True)
            write(os.path.join(tb, b"in", name), ("Title %d\n\n%s lives here\n" % (i, WORDS[i])).encode())
        idx = os.path.join(t, "i.lode")
        r = index(idx, "in", cwd=t)
        check(r.returncode == 0 and summary_count(r.stderr, "names") == len(ODD_NAMES),
              "every odd name is indexed: %r" % r.stderr)

        for i, name in enumerate(ODD_NAMES):
            want = b"in/" + name
            r = search(idx, "--json", WORDS[i], cwd=t)
            objs = json_objects(r, repr(name))
            check(len(objs) == 1, "%r: one hit" % name)
            for o in objs:
                check(path_bytes(o) == want, "%r: --json names the exact bytes: %r" % (name, o))
                valid = True
                try:
                    name.decode("utf-8")
                except UnicodeDecodeError:
                    valid = False
                check(("path_bytes" in o) == (not valid), "%r: path_bytes only for a path that is not UTF-8" % name)
                check(o["path"] == want.decode("utf-8", "replace"), "%r: path shows U+FFFD for bad bytes" % name)
                check(os.path.exists(os.path.join(tb, path_bytes(o))), "%r: the bytes open the file" % name)
            # the terminal output: one heading line, no raw control bytes
            r = search(idx, WORDS[i], cwd=t)
            out = r.stdout.split(b"\n")
            shown = bytes(b if (b >= 0x20 and b != 0x7f) or b == 9 else ord("?") for b in want)
            check(out[0] == shown, "%r: the heading is the path, control bytes as '?': %r" % (name, out[0]))
            check(no_raw_controls(r.stdout), "%r: no raw control bytes on a terminal" % name)

        # every path, exactly, NUL-separated (grep -Z), and as grep prints them
        query = " OR ".join(WORDS[:len(ODD_NAMES)])
        r = search(idx, "-l", "-0", query, cwd=t)
        listed = r.stdout.split(b"\0")
        check(listed[-1] == b"" and sorted(listed[:-1]) == sorted(b"in/" + n for n in ODD_NAMES),
              "-l -0 lists the exact bytes: %r" % listed)
        r = search(idx, "--grep", "-0", "hyrax", cwd=t)
        check(r.stdout == b"in/tab\there.txt\x003:hyrax lives here\n", "--grep -0: %r" % r.stdout)
        r = search(idx, "--grep", "genet", cwd=t)
        check(r.stdout == b"in/ lead space.txt:3:genet lives here\n", "--grep into a pipe: as is: %r" % r.stdout)
        r = search(idx, "--grep", "aye", cwd=t)
        check(r.stdout == b"in/new\nline.txt:3:aye lives here\n", "--grep into a pipe: raw bytes, as grep: %r" % r.stdout)

        # warnings: FIFOs of the same names, each named on one line that
        # gives the exact bytes back
        pipes = os.path.join(tb, b"pipes")
        os.mkdir(pipes)
        for name in ODD_NAMES:
            os.mkfifo(os.path.join(pipes, name))
        write(os.path.join(pipes, b"ok.txt"), b"ok\n")
        r = index(os.path.join(t, "p.lode"), "pipes", cwd=t, timeout=60)
        check(r.returncode == 1, "FIFOs are warnings, exit 1: %r" % r.returncode)
        lines = r.stderr.split(b"\n")
        check(len(lines) == len(ODD_NAMES) + 2 and lines[-1] == b"",
              "one line per warning, then the summary: %d lines" % len(lines))
        named = []
        for line in warning_lines(r.stderr):
            path, msg = unquote(line[len(b"lode-index: warning: "):])
            check(msg == b"not a regular file, skipped", "the reason: %r" % line)
            check(path is not None, "a well-formed quoted path: %r" % line)
            if path is not None:
                named.append(path)
                quoted = line[len(b"lode-index: warning: "):].startswith(b'"')
                check(quoted == (not plain(path[len(b"pipes/"):])), "quoted exactly when needed: %r" % line)
                check(all(b >= 0x20 and b != 0x7f for b in line), "no raw control byte in %r" % line)
                try:
                    line.decode("utf-8")
                except UnicodeDecodeError:
                    check(False, "no invalid UTF-8 in %r" % line)
        check(sorted(named) == sorted(b"pipes/" + n for n in ODD_NAMES), "every FIFO named exactly: %r" % named)


def test_read_errors_name_the_file_once():
    """A read error's message named the file a second time."""
    with Tmp() as t:
        d = os.path.join(t, "in")
        os.mkdir(d)
        write(os.path.join(d, "ok.txt"), b"fine\n")
        locked = os.path.join(d, "locked.txt")
        write(locked, b"secret\n")
        os.chmod(locked, 0)
        os.chmod(d, 0o777)
        prog = nobody_copy(t)
        r = index(os.path.join(t, "i.lode"), d, prog=prog, preexec=drop_to_nobody)
        w = warning_lines(r.stderr)
        check(w == [b"lode-index: warning: " + locked.encode() + b": Permission denied"],
              "one warning, the path once: %r" % r.stderr)


# --- folders -----------------------------------------------------------------

def make_deep(parent, levels, word):
    """parent/d/d/.../d/leaf.txt, `levels` folders deep, built with *at()
    calls so it may go past PATH_MAX."""
    fd = os.open(parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for _ in range(levels):
            os.mkdir("d", dir_fd=fd)
            sub = os.open("d", os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
            os.close(fd)
            fd = sub
        f = os.open("leaf.txt", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
        os.write(f, word.encode() + b"\n")
        os.close(f)
    finally:
        os.close(fd)


def test_deep_folders_are_indexed_or_warned_never_a_crash():
    with Tmp() as t:
        for sub in ("in", "in/a", "in/b"):
            os.mkdir(os.path.join(t, sub))
        make_deep(os.path.join(t, "in/a"), 2000, "abyssal")   # a path of 4014 bytes: under PATH_MAX
        make_deep(os.path.join(t, "in/b"), 3000, "hadal")     # 6014 bytes: past it
        write(os.path.join(t, "in/shallow.txt"), b"littoral\n")
        idx = os.path.join(t, "i.lode")
        r = index(idx, "in", cwd=t)
        check(r.returncode == 1, "deep folders: exit 1 (one warning): %r %r" % (r.returncode, r.stderr[-200:]))
        check(summary_count(r.stderr, "deep") == 2, "the 2000-deep file and the shallow one are indexed")
        w = warning_lines(r.stderr)
        check(len(w) == 1, "one warning for the tree past PATH_MAX: %d" % len(w))
        if w:
            path, msg = unquote(w[0][len(b"lode-index: warning: "):])
            check(path is not None and path.startswith(b"in/b/d/d/d/") and len(path) >= 4000,
                  "it names the folder where the path got too long: %r" % w[0][:80])
            check(msg == os.strerror(errno.ENAMETOOLONG).encode(), "and says why: %r" % msg)
        r = search(idx, "--json", "abyssal", cwd=t)
        objs = json_objects(r, "deep")
        check(len(objs) == 1 and objs[0]["path"] == "in/a/" + "d/" * 2000 + "leaf.txt",
              "the file 2000 folders down is found under its whole path")
        r = search(idx, "littoral", cwd=t)
        check(r.returncode == 0, "the rest is indexed")


def test_permission_denied_folders_are_named_and_the_rest_indexed():
    with Tmp() as t:
        d = os.path.join(t, "in")
        for sub, mode in (("locked", 0), ("listonly", 0o444), ("enteronly", 0o111), ("open", 0o755)):
            os.makedirs(os.path.join(d, sub))
            write(os.path.join(d, sub, "f.txt"), ("in %s\n" % sub).encode())
            os.chmod(os.path.join(d, sub), mode)
        os.chmod(d, 0o777)
        prog = nobody_copy(t)
        idx = os.path.join(t, "i.lode")
        r = index(idx, d, prog=prog, preexec=drop_to_nobody)
        check(r.returncode == 1, "exit 1 after warnings: %r %r" % (r.returncode, r.stderr))
        w = set(warning_lines(r.stderr))
        denied = os.strerror(errno.EACCES).encode()
        want = {
            b"lode-index: warning: %s/locked: cannot open folder: %s" % (d.encode(), denied),
            b"lode-index: warning: %s/enteronly: cannot open folder: %s" % (d.encode(), denied),
            # listed, but its entries cannot be looked at
            b"lode-index: warning: %s/listonly/f.txt: %s" % (d.encode(), denied),
        }
        check(w == want, "each folder named with the reason: %r" % r.stderr)
        check(summary_count(r.stderr, "permissions") == 1, "the open folder is indexed")
        r = search(idx, "-l", "open", "locked", "listonly", "enteronly")
        check(r.stdout.strip().endswith(b"/open/f.txt") and r.stdout.count(b"\n") == 1,
              "only the open folder's file: %r" % r.stdout)
        # a root folder that cannot be opened at all stops the run
        r = index(idx, os.path.join(d, "locked"), prog=prog, preexec=drop_to_nobody)
        check(r.returncode == 2 and b"the index was not changed" in r.stderr, "unreadable root: exit 2: %r" % r.stderr)
        r = search(idx, "-l", "open")
        check(r.returncode == 0, "and the previous index still answers")


# --- links and special files -----------------------------------------------------

def test_link_loops_devices_fifos_and_sockets_are_skipped_without_hanging():
    with Tmp() as t:
        d = os.path.join(t, "in")
        os.makedirs(os.path.join(d, "sub"))
        write(os.path.join(d, "good.txt"), b"pangolin\n")
        os.symlink("b", os.path.join(d, "a"))        # a -> b -> a: ELOOP
        os.symlink("a", os.path.join(d, "b"))
        os.symlink("self", os.path.join(d, "self"))  # self -> self
        os.symlink("..", os.path.join(d, "sub", "up"))  # a folder loop
        os.symlink("nowhere", os.path.join(d, "dangling"))
        specials = {"zero": "/dev/zero", "urandom": "/dev/urandom", "null": "/dev/null"}
        for name, target in specials.items():
            if os.path.exists(target):
                os.symlink(target, os.path.join(d, name))
        os.mkfifo(os.path.join(d, "fifo"))
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(os.path.join(d, "sock"))
        try:
            start = time.monotonic()
            idx = os.path.join(t, "i.lode")
            r = index(idx, "in", cwd=t, timeout=60)
            check(time.monotonic() - start < 30, "no hang on a FIFO or a device")
        finally:
            s.close()
        check(r.returncode == 1, "warnings: exit 1: %r" % r.returncode)
        got = {}
        for line in warning_lines(r.stderr):
            path, msg = unquote(line[len(b"lode-index: warning: "):])
            got[path] = msg
        want = {
            b"in/a": b"symbolic link loop, not followed",
            b"in/b": b"symbolic link loop, not followed",
            b"in/self": b"symbolic link loop, not followed",
            b"in/sub/up": b"symbolic link loop, not followed",
            b"in/dangling": b"broken symbolic link",
            b"in/fifo": b"not a regular file, skipped",
            b"in/sock": b"not a regular file, skipped",
        }
        for name, target in specials.items():
            if os.path.exists(target):
                want[b"in/" + name.encode()] = b"not a regular file, skipped"
        check(got == want, "each named with its reason: %r" % got)
        check(summary_count(r.stderr, "links") == 1, "the one file is indexed")
        r = search(idx, "pangolin")
        check(r.returncode == 0, "and found")

        # a FIFO or a device named as the PATH is an error: nothing to index,
        # and the index stays as it was
        for path in (os.path.join(d, "fifo"), "/dev/zero"):
            r = index(idx, path, timeout=60)
            check(r.returncode == 2 and (path + ": not a regular file or a folder").encode() in r.stderr,
                  "%s as PATH: exit 2 naming it: %r" % (path, r.stderr))
            check(search(idx, "pangolin").returncode == 0, "%s as PATH: the index is unchanged" % path)


# --- files that change while being read -------------------------------------------

def test_a_file_larger_than_its_stat_size_is_read_whole_or_refused():
    """/proc files say 0 bytes and hold more: the size seen by the walk is
    not trusted, the read goes to the end of the file, or stops one byte
    past the limit."""
    status = "/proc/self/status"
    if not os.path.exists(status) or os.stat(status).st_size != 0:
        print("  skipped: no /proc/self/status of size 0 here", file=sys.stderr)
        return
    with Tmp() as t:
        idx = os.path.join(t, "i.lode")
        r = index(idx, status)
        check(r.returncode == 0 and summary_count(r.stderr, "proc") == 1, "indexed: %r" % r.stderr)
        r = search(idx, "--json", "--grep", "vmpeak", "tgid")
        objs = json_objects(r, "proc")
        check(len(objs) >= 1 and objs[0]["title"].startswith("Name:"), "read to the end: %r" % objs[:1])
        r = index(idx, "--max-filesize", "100", status)
        check(r.returncode == 1, "grown past the limit while read: a warning, exit 1: %r" % r.stderr)
        check(warning_lines(r.stderr) == [b"lode-index: warning: /proc/self/status: grew beyond the limit of 100 "
                                          b"bytes while read"], "the warning names it and the limit: %r" % r.stderr)
        check(b"1 too large" in r.stderr, "counted as too large")


def churn(folder, names, stop, errors):
    """Change the files `names` in every way until `stop` is set: truncate,
    grow, delete, recreate, swap in a FIFO, a folder, a symbolic link."""
    rng = random.Random(5)
    steps = 0
    try:
        while not stop.is_set() or steps < 50:
            p = os.path.join(folder, rng.choice(names))
            how = rng.randrange(8)
            try:
                st = os.lstat(p) if os.path.lexists(p) else None
                if st and stat.S_ISDIR(st.st_mode):
                    os.rmdir(p)
                elif st and (how < 4 or not stat.S_ISREG(st.st_mode)):
                    os.unlink(p)  # never open a FIFO here: that would block
                if how == 0:
                    os.mkfifo(p)
                elif how == 1:
                    os.mkdir(p)
                elif how == 2:
                    os.symlink(rng.choice(names), p)
                else:
                    with open(p, "ab") as f:
                        n = rng.choice([0, 10, 5000, 300_000])
                        f.truncate(n)
                        if n:
                            f.seek(0)
                            f.write(b"churning words " * (n // 15))
            except OSError:
                pass  # raced with itself: a file that is a folder now...
            steps += 1
    except Exception as e:  # pragma: no cover - reported as a failure
        errors.append(e)


def test_files_changing_and_vanishing_during_indexing():
    """Files truncated, grown, deleted, replaced by a FIFO, a folder or a
    link while lode-index runs, again and again: each run exits 0 or 1,
    names only those files in warnings, indexes every stable file, and
    writes an index that passes --check."""
    with Tmp() as t:
        d = os.path.join(t, "in")
        os.mkdir(d)
        stable = {}
        for i in range(40):
            word = "stable%s" % "".join(chr(ord("a") + int(c)) for c in "%03d" % i)
            stable["s%02d.txt" % i] = word
            write(os.path.join(d, "s%02d.txt" % i), ("%s\n" % word).encode() * 200)
        names = ["c%02d.txt" % i for i in range(20)]
        for n in names:
            write(os.path.join(d, n), b"churning words\n" * 100)
        stop, errors = threading.Event(), []
        th = threading.Thread(target=churn, args=(d, names, stop, errors), daemon=True)
        th.start()
        idx = os.path.join(t, "i.lode")
        runs = 0
        try:
            deadline = time.monotonic() + 8
            while runs < 4 or time.monotonic() < deadline:
                r = index(idx, "in", cwd=t, timeout=120)
                runs += 1
                check(r.returncode in (0, 1), "run %d: exit 0 or 1: %r %r" % (runs, r.returncode, r.stderr[-300:]))
                for line in warning_lines(r.stderr):
                    path, _ = unquote(line[len(b"lode-index: warning: "):])
                    check(path is not None and os.path.basename(path).decode() in names,
                          "run %d: only changing files are named: %r" % (runs, line))
                if r.returncode not in (0, 1):
                    break
                n = summary_count(r.stderr, "churn")
                check(len(stable) <= n <= len(stable) + len(names), "run %d: %d files indexed" % (runs, n))
                if runs >= 40:
                    break
        finally:
            stop.set()
            th.join(60)
        check(not th.is_alive() and not errors, "the churning thread ran and ended: %r" % errors)
        r = run([INDEX_BIN, "--check", idx])
        check(r.returncode == 0, "the last index passes --check: %r" % r.stderr)
        r = search(idx, "-l", " OR ".join(stable.values()), cwd=t)
        check(sorted(r.stdout.split(b"\n")[:-1]) == sorted(("in/" + n).encode() for n in stable),
              "every stable file is in the index: %r" % r.stdout[:300])
        print("  %d indexing runs while files changed" % runs, file=sys.stderr)


# --- limits ---------------------------------------------------------------------

def test_a_word_of_10000_letters_is_cut_and_found_by_the_same_word():
    word = "".join("abcdefghijklmnopqrstuvwxyz"[i * 7 % 26] for i in range(10000))
    with Tmp() as t:
        d = os.path.join(t, "in")
        os.mkdir(d)
        data = ("Long words\n\nbefore %s after\n" % word).encode()
        write(os.path.join(d, "long.txt"), data)
        write(os.path.join(d, "other.txt"), ("Other\n\n%s\n" % word[:LODE_MAX_TERM_BYTES - 1]).encode())
        idx = os.path.join(t, "i.lode")
        r = index(idx, d)
        check(r.returncode == 0 and summary_count(r.stderr, "long word") == 2, "indexed: %r" % r.stderr)
        start = data.index(word.encode())
        # a query of the same word, cut to the same 64 bytes, finds it; so
        # does any word sharing those 64 bytes; 63 of them are another term
        for q, what in ((word[:LODE_MAX_QUERY_BYTES], "the word up to the query limit"),
                        (word[:LODE_MAX_TERM_BYTES], "its first 64 letters"),
                        (word[:LODE_MAX_TERM_BYTES] + "zzz", "a word sharing the first 64 bytes")):
            r = search(idx, "--json", q)
            objs = json_objects(r, what)
            check([o["path"][-8:] for o in objs] == ["long.txt"], "%s finds long.txt only: %r" % (what, objs))
            for o in objs:
                h = o["highlights"]
                check(len(h) == 1 and h[0]["start"] == start and h[0]["end"] <= start + len(word),
                      "%s: the highlight starts at the word: %r" % (what, h))
        r = search(idx, "-l", word[:LODE_MAX_TERM_BYTES - 1])
        check(r.stdout.endswith(b"other.txt\n") and r.stdout.count(b"\n") == 1, "63 letters are another term")
        r = search(idx, "after")
        check(r.returncode == 0, "the word after the long one is indexed")
        # the whole word is longer than a query may be: a clear error
        r = search(idx, word)
        check(r.returncode == 2 and b"query is 10000 bytes, the limit is 8192" in r.stderr,
              "a query over the limit is refused naming it: %r" % r.stderr)


def test_a_file_over_the_document_limit_is_skipped_and_named():
    """A sparse file one byte over LODE_MAX_DOC_BYTES: refused on its size
    before a byte is read; --max-filesize cannot raise the limit."""
    with Tmp() as t:
        d = os.path.join(t, "in")
        os.mkdir(d)
        big = os.path.join(d, "huge.txt")
        with open(big, "wb") as f:
            f.truncate(LODE_MAX_DOC_BYTES + 1)
        write(os.path.join(d, "small.txt"), b"quagga\n")
        idx = os.path.join(t, "i.lode")
        for extra in ([], ["--max-filesize", "2G"]):
            r = index(idx, *extra, d, timeout=60)
            check(r.returncode == 1, "%r: a warning, exit 1: %r" % (extra, r.stderr))
            check(warning_lines(r.stderr) == [("lode-index: warning: %s: %d bytes, more than the limit of %d" %
                                               (big, LODE_MAX_DOC_BYTES + 1, LODE_MAX_DOC_BYTES)).encode()],
                  "%r: named with its size and the limit: %r" % (extra, r.stderr))
            check(b"indexed 1 files" in r.stderr and b"1 too large" in r.stderr, "%r: the rest indexed" % extra)
            check(search(idx, "quagga").returncode == 0, "%r: found" % extra)
        # a limit the user asked for is no warning
        r = index(idx, "--max-filesize", "1K", d)
        check(r.returncode == 0 and warning_lines(r.stderr) == [], "--max-filesize 1K: exit 0: %r" % r.stderr)


def main():
    tests = [(n, f) for n, f in sorted(globals().items()) if n.startswith("test_") and callable(f)]
    only = sys.argv[1] if len(sys.argv) > 1 else None
    ran = 0
    for name, fn in tests:
        if only and name != only:
            continue
        before = len(failures)
        t0 = time.monotonic()
        fn()
        ran += 1
        print("%s %s (%.1f s)" % ("ok  " if len(failures) == before else "FAIL", name, time.monotonic() - t0),
              file=sys.stderr)
    if ran == 0:
        print("no test named %s" % only, file=sys.stderr)
        return 2
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
