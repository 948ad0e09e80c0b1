#!/usr/bin/python3
"""The benchmark corpora, built from real text fetched from Debian.

  /usr/bin/python3 bench/corpora.py [--big] [DATA_DIR]

Packages are fetched with `apt-get download` and unpacked with `dpkg -x`
into DATA_DIR (default bench/data/): nothing is installed on the system.

- bible/: the King James Bible (bible-kjv-text), one file per chapter
  (1189 files). Its data file is in the compressed format of the `bible`
  program, so bible-kjv is fetched and unpacked too, and its program prints
  the text (`bible -f -p DIR Ge1:1-Re22:21`).
- gcide/: the GNU Collaborative International Dictionary of English
  (dict-gcide, dictd data: gcide.dict.dz is gzip), its entries in offset
  order, 25 entries per file.
- linux-doc/: the Linux kernel documentation (linux-doc-6.1): the
  Documentation/ sources (.rst, .txt, .yaml, gunzipped) and every HTML page
  of the rendered manual converted to text (tags stripped with Python's
  html.parser, script and style dropped, block elements on their own lines).

Every file is written as valid UTF-8 (an invalid byte becomes U+FFFD), so
that every engine reads the same characters.

debian-text/ holds the three; debian-text-1g/ (with --big) is debian-text/ copied
whole as many times as it takes to pass 1 GiB: the same text replicated,
not more text. cranfield/ is shared/corpora/cranfield written one file per
document, as tests/relevance does.
"""
import base64
import gzip
import html.parser
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PACKAGES = ["bible-kjv-text", "bible-kjv", "dict-gcide", "linux-doc-6.1"]
GCIDE_ENTRIES_PER_FILE = 25
BIG_BYTES = 1 << 30


def log(msg):
    print("corpora: " + msg, file=sys.stderr, flush=True)


def fetch(data):
    debs = os.path.join(data, "debs")
    os.makedirs(debs, exist_ok=True)
    for pkg in PACKAGES:
        x = os.path.join(data, "x", pkg)
        if os.path.isdir(x):
            continue
        have = [f for f in os.listdir(debs) if f.startswith(pkg + "_") and f.endswith(".deb")]
        if not have:
            log("apt-get download " + pkg)
            if subprocess.run(["apt-get", "download", pkg], cwd=debs, stdout=subprocess.DEVNULL).returncode:
                # a fresh machine may have no package lists yet
                sudo = [] if os.geteuid() == 0 else ["sudo"]
                subprocess.run(sudo + ["apt-get", "update", "-q"], stdout=subprocess.DEVNULL)
                subprocess.run(["apt-get", "download", pkg], cwd=debs, check=True, stdout=subprocess.DEVNULL)
            have = [f for f in os.listdir(debs) if f.startswith(pkg + "_") and f.endswith(".deb")]
        os.makedirs(x + ".tmp", exist_ok=True)
        subprocess.run(["dpkg", "-x", os.path.join(debs, sorted(have)[-1]), x + ".tmp"], check=True)
        os.rename(x + ".tmp", x)


def versions(data):
    out = {}
    for f in sorted(os.listdir(os.path.join(data, "debs"))):
        if f.endswith(".deb"):
            name, ver = f.split("_")[:2]
            out[name] = ver.replace("%3a", ":")
    return out


def write_text(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8", errors="replace") as f:
        f.write(text)


def build_bible(data, out):
    prog = os.path.join(data, "x", "bible-kjv", "usr", "bin", "bible")
    lib = os.path.join(data, "x", "bible-kjv-text", "usr", "lib")
    text = subprocess.run([prog, "-f", "-p", lib, "Ge1:1-Re22:21"], check=True,
                          capture_output=True).stdout.decode("utf-8", "replace")
    chapters = {}  # (book number, book, chapter) -> lines
    books = []
    for line in text.splitlines():
        ref, _, verse = line.partition(" ")
        # a reference is BOOK CHAPTER:VERSE, the book may start with a digit (1Sm)
        i = len(ref)
        while i > 0 and (ref[i - 1].isdigit() or ref[i - 1] == ":"):
            i -= 1
        book, cv = ref[:i], ref[i:]
        if not book or ":" not in cv:
            continue
        chap, num = cv.split(":")
        if book not in books:
            books.append(book)
        chapters.setdefault((books.index(book) + 1, book, int(chap)), []).append("%s %s" % (num, verse))
    for (bn, book, chap), verses in chapters.items():
        write_text(os.path.join(out, "%02d-%s" % (bn, book), "chapter-%03d.txt" % chap),
                   "%s %d\n\n%s\n" % (book, chap, "\n".join(verses)))
    return len(chapters)


def b64num(s):
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    n = 0
    for c in s:
        n = n * 64 + alphabet.index(c)
    return n


def build_gcide(data, out):
    d = os.path.join(data, "x", "dict-gcide", "usr", "share", "dictd")
    with gzip.open(os.path.join(d, "gcide.dict.dz"), "rb") as f:
        raw = f.read()
    spans = set()
    with open(os.path.join(d, "gcide.index"), encoding="utf-8", errors="replace") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 3 or parts[0].startswith("00-database") or parts[0].startswith("00database"):
                continue
            spans.add((b64num(parts[1]), b64num(parts[2])))
    entries = [raw[o:o + n].decode("utf-8", "replace") for o, n in sorted(spans)]
    files = 0
    for i in range(0, len(entries), GCIDE_ENTRIES_PER_FILE):
        chunk = entries[i:i + GCIDE_ENTRIES_PER_FILE]
        write_text(os.path.join(out, "%03d" % (files // 100), "entries-%06d.txt" % i),
                   "\n".join(e.rstrip("\n") + "\n" for e in chunk))
        files += 1
    return files


class TextOf(html.parser.HTMLParser):
    BLOCK = {"p", "div", "br", "li", "ul", "ol", "dl", "dt", "dd", "tr", "table", "pre", "section",
             "h1", "h2", "h3", "h4", "h5", "h6", "title", "blockquote", "hr", "article", "nav"}
    SKIP = {"script", "style"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts, self.skip, self.pre = [], 0, 0

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIP:
            self.skip += 1
        if tag == "pre":
            self.pre += 1
        if tag in self.BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in self.SKIP and self.skip:
            self.skip -= 1
        if tag == "pre" and self.pre:
            self.pre -= 1
        if tag in self.BLOCK:
            self.parts.append("\n")

    def handle_data(self, text):
        if self.skip:
            return
        self.parts.append(text if self.pre else " ".join(text.split(" ")))

    def text(self):
        lines, blank = [], 0
        for line in "".join(self.parts).split("\n"):
            line = line.rstrip() if self.pre else " ".join(line.split())
            if not line:
                blank += 1
                if blank > 1:
                    continue
            else:
                blank = 0
            lines.append(line)
        return "\n".join(lines).strip("\n") + "\n"


def html_to_text(raw):
    p = TextOf()
    p.feed(raw)
    p.close()
    return p.text()


TEXT_EXT = {"rst", "txt", "yaml"}


def build_linux_doc(data, out):
    base = os.path.join(data, "x", "linux-doc-6.1", "usr", "share", "doc", "linux-doc-6.1")
    files = 0
    for top, dirs, names in os.walk(base):
        dirs.sort()
        for name in sorted(names):
            src = os.path.join(top, name)
            rel = os.path.relpath(src, base)
            if os.path.islink(src):
                continue
            stem = name[:-3] if name.endswith(".gz") else name
            ext = stem.rsplit(".", 1)[-1] if "." in stem else ""
            opener = gzip.open if name.endswith(".gz") else open
            if ext == "html":
                with open(src, encoding="utf-8", errors="replace") as f:
                    text = html_to_text(f.read())
                dst = os.path.join(out, rel[:-5] + ".txt")
            elif ext in TEXT_EXT or (ext == "" and stem.isupper()):
                with opener(src, "rb") as f:
                    raw = f.read()
                if b"\0" in raw[:8192]:
                    continue
                text = raw.decode("utf-8", "replace")
                dst = os.path.join(out, os.path.dirname(rel), stem)
            else:
                continue
            write_text(dst, text)
            files += 1
    return files


def tree_size(path):
    n = b = 0
    for top, _, names in os.walk(path):
        for name in names:
            n += 1
            b += os.path.getsize(os.path.join(top, name))
    return n, b


def build(data, big=False):
    """Fetch and build the corpora under `data`; returns {name: path}."""
    data = os.path.abspath(data)
    fetch(data)
    ctext = os.path.join(data, "debian-text")
    if not os.path.exists(ctext + ".complete"):
        tmp = ctext + ".tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(ctext, ignore_errors=True)
        log("bible: %d chapters" % build_bible(data, os.path.join(tmp, "bible")))
        log("gcide: %d files" % build_gcide(data, os.path.join(tmp, "gcide")))
        log("linux-doc: %d files" % build_linux_doc(data, os.path.join(tmp, "linux-doc")))
        os.rename(tmp, ctext)
        open(ctext + ".complete", "w").close()
    out = {"debian-text": ctext}
    if big:
        cbig = os.path.join(data, "debian-text-1g")
        if not os.path.exists(cbig + ".complete"):
            shutil.rmtree(cbig, ignore_errors=True)
            _, size = tree_size(ctext)
            copies = -(-BIG_BYTES // size)
            for i in range(copies):
                log("debian-text-1g: copy %d of %d" % (i + 1, copies))
                shutil.copytree(ctext, os.path.join(cbig, "copy-%d" % (i + 1)))
            open(cbig + ".complete", "w").close()
        out["debian-text-1g"] = cbig
    cran = os.path.join(data, "cranfield")
    if not os.path.exists(os.path.join(cran, "1400.txt")):
        sys.path.insert(0, os.path.join(ROOT, "tests", "relevance"))
        import cranfield
        root = cranfield.find_root(ROOT)
        if root:
            cranfield.write_documents(root, cran)
    if os.path.exists(os.path.join(cran, "1400.txt")):
        out["cranfield"] = cran
    out["corpus"] = os.path.join(ROOT, "corpus")
    return out


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    data = args[0] if args else os.path.join(HERE, "data")
    for name, path in build(data, big="--big" in sys.argv).items():
        n, b = tree_size(path)
        print("%-12s %7d files %10.1f MB  %s" % (name, n, b / 1e6, path))


if __name__ == "__main__":
    main()
