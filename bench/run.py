#!/usr/bin/python3
"""lode against SQLite FTS5, Xapian, CLucene, ripgrep and codesearch.

  /usr/bin/python3 bench/run.py --build BUILD_DIR [--big] [options]

(or bench/run.sh BUILD_DIR [options], which builds nothing of lode itself
but installs what the harness needs first). Debian 12, as root or with
sudo. One invocation:

 1. installs the packages it needs with apt-get when they are missing,
 2. copies lode-index, lode-search and liblode.a out of BUILD_DIR (so that a
    rebuild during the run changes nothing) and builds bench/lode_driver.c
    and bench/clucene_driver.cpp against them,
 3. fetches and builds the corpora in bench/data/ (bench/corpora.py),
 4. for each corpus: builds every engine's index --runs times under
    /usr/bin/time -v (wall, CPU, peak RSS), measures index sizes, times the
    fixed query set of bench/queries/ in-process (open once, warm-up pass,
    --reps timed passes) and as one process per query (lode-search, rg,
    csearch),
 5. records lode-index's hot spots with perf (--hotspots),
 6. writes the raw figures to bench/work/results/CORPUS.json and
    regenerates the generated part of bench/RESULTS.md from every
    results file present.

Every figure of a corpus comes from one invocation on one machine; the
tables give ratios to lode next to the absolute numbers.
"""
import argparse
import datetime
import json
import os
import platform
import re
import shutil
import statistics
import struct
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import corpora  # noqa: E402

PY = "/usr/bin/python3"
PACKAGES = ["python3-xapian", "sqlite3", "ripgrep", "codesearch", "libclucene-dev", "g++", "time",
            "libutf8proc-dev", "libstemmer-dev", "zlib1g-dev", "linux-perf"]
BEGIN = "<!-- bench/run.py: generated from here on; edit bench/run.py instead -->"


def log(msg):
    print("bench: %s %s" % (time.strftime("%H:%M:%S"), msg), file=sys.stderr, flush=True)


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


# --------------------------------------------------------------------------
# setup

def ensure_packages(pkgs):
    missing = [p for p in pkgs if subprocess.run(["dpkg", "-s", p], capture_output=True).returncode != 0 or
               b"Status: install ok installed" not in subprocess.run(["dpkg", "-s", p], capture_output=True).stdout]
    if not missing:
        return
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    log("apt-get install " + " ".join(missing))
    subprocess.run(sudo + ["apt-get", "update", "-q"], check=False, stdout=subprocess.DEVNULL)
    for p in missing:
        r = subprocess.run(sudo + ["apt-get", "install", "-y", "-q", p], stdout=subprocess.DEVNULL)
        if r.returncode != 0:
            log("could not install %s: the engines that need it are left out" % p)


def build_tools(build, work):
    b = os.path.join(work, "bin")
    os.makedirs(b, exist_ok=True)
    for name in ("lode-index", "lode-search", "liblode.a"):
        shutil.copy2(os.path.join(build, name), os.path.join(b, name))
    src = source_of(build)
    link = [os.path.join(b, "liblode.a"), "-lutf8proc", "-lstemmer", "-lz", "-lm", "-pthread"]
    sh(["cc", "-O2", "-std=c11", "-I", os.path.join(src, "include"), os.path.join(HERE, "lode_driver.c")] + link +
       ["-o", os.path.join(b, "lode_driver")])
    sh(["cc", "-O2", "-std=c11", "-D_POSIX_C_SOURCE=200809L", "-I", os.path.join(src, "include"), "-I",
        os.path.join(src, "indexer"), os.path.join(HERE, "build_floor.c")] + link + ["-o", os.path.join(b, "build_floor")])
    if shutil.which("g++") and os.path.exists("/usr/include/CLucene.h"):
        sh(["g++", "-O2", "-std=c++17", "-I/usr/lib/x86_64-linux-gnu", os.path.join(HERE, "clucene_driver.cpp"),
            "-o", os.path.join(b, "clucene_driver"), "-lclucene-core", "-lclucene-shared",
            "-lclucene-contribs-lib"])
    return b


def commit_of(path):
    try:
        head = subprocess.run(["git", "-C", path, "rev-parse", "--short=12", "HEAD"], capture_output=True,
                              text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", path, "status", "--porcelain", "--untracked-files=no", "--", "indexer",
                                "searcher", "include", "CMakeLists.txt"], capture_output=True, text=True).stdout
        return head + (" plus uncommitted changes to indexer/searcher" if dirty.strip() else " (clean)")
    except (subprocess.CalledProcessError, FileNotFoundError):
        return "unknown"


def source_of(build):
    """The source folder a CMake build folder was configured from."""
    try:
        with open(os.path.join(build, "CMakeCache.txt")) as f:
            for line in f:
                if line.startswith("CMAKE_HOME_DIRECTORY:INTERNAL="):
                    return line.split("=", 1)[1].strip()
    except OSError:
        pass
    return ROOT


SOURCE = {"commit": None}


def machine():
    cpu = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem = int(f.readline().split()[1]) // (1024 * 1024)
    deb = open("/etc/debian_version").read().strip() if os.path.exists("/etc/debian_version") else "?"
    return "%s, %d cores, %d GiB RAM, Debian %s, Linux %s" % (cpu, os.cpu_count(), mem, deb, platform.release())


def versions():
    def pkg(p):
        r = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", p], capture_output=True, text=True)
        return r.stdout.strip() if r.returncode == 0 else "missing"
    import sqlite3
    return {"sqlite": sqlite3.sqlite_version, "xapian": pkg("python3-xapian"), "clucene": pkg("libclucene-dev"),
            "ripgrep": pkg("ripgrep"), "codesearch": pkg("codesearch"), "gcc": pkg("gcc")}


# --------------------------------------------------------------------------
# measuring

def timed(cmd, env=None, cwd=None):
    """Run cmd under /usr/bin/time -v: wall s, cpu s, peak RSS bytes."""
    out = subprocess.run(["/usr/bin/time", "-v"] + cmd, capture_output=True, text=True, env=env, cwd=cwd)
    if out.returncode != 0:
        raise RuntimeError("%s failed (%d): %s" % (" ".join(cmd), out.returncode, out.stderr[-2000:]))
    f = {}
    for line in out.stderr.splitlines():
        k, _, v = line.strip().rpartition(": ")
        f[k] = v
    h, m, s = ([0, 0] + f["Elapsed (wall clock) time (h:mm:ss or m:ss)"].split(":"))[-3:]
    return {"wall": int(h) * 3600 + int(m) * 60 + float(s),
            "cpu": float(f["User time (seconds)"]) + float(f["System time (seconds)"]),
            "rss": int(f["Maximum resident set size (kbytes)"]) * 1024}


def tree_bytes(path):
    if os.path.isfile(path):
        return os.path.getsize(path)
    return sum(os.path.getsize(os.path.join(t, n)) for t, _, ns in os.walk(path) for n in ns)


SECTIONS = {1: "META", 2: "DOCS", 3: "DOCINFO", 4: "TEXTIDX", 5: "TEXT", 6: "POSTINGS", 7: "LEXICON",
            8: "LEXIDX", 9: "VOCAB", 10: "VOCABIDX", 11: "PAGECRC"}


def lode_sections(idx):
    """Bytes per section over every segment of a lode index (docs/FORMAT.md §3.2)."""
    out = {}
    for name in sorted(os.listdir(idx)):
        if not name.endswith(".lseg"):
            continue
        with open(os.path.join(idx, name), "rb") as f:
            head = f.read(32)
            if head[:8] != b"LODESEG1":
                continue
            count = struct.unpack_from("<I", head, 28)[0]
            table = f.read(32 * count)
        for i in range(count):
            sid, _, _, length = struct.unpack_from("<IIQQ", table, 32 * i)
            out[SECTIONS.get(sid, str(sid))] = out.get(SECTIONS.get(sid, str(sid)), 0) + length
    return out


def read_queries(path):
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if line and not line.startswith("#"):
                cls, _, q = line.partition("\t")
                out.append((cls, q))
    return out


def pct(values, p):
    v = sorted(values)
    if not v:
        return float("nan")
    k = max(0, min(len(v) - 1, int(-(-p * len(v) // 100)) - 1))
    return v[k]


def latency_stats(per_query, hits, classes):
    """per_query: {query_no: [ns,...]} -> summary over queries of per-query medians (ms)."""
    med = {i: statistics.median(v) / 1e6 for i, v in per_query.items()}
    vals = list(med.values())
    by_class = {}
    for i, ms in med.items():
        by_class.setdefault(classes[i], []).append(ms)
    orv = [ms for i, ms in med.items() if not classes[i].startswith("phrase")]
    return {"median": statistics.median(vals), "p99": pct(vals, 99), "mean": statistics.mean(vals),
            "or_median": statistics.median(orv) if orv else float("nan"), "or_p99": pct(orv, 99),
            "max": max(vals), "queries": len(vals), "no_hit": sum(1 for i in med if hits.get(i, 0) == 0),
            "by_class": {c: statistics.median(v) for c, v in by_class.items()}}


def parse_driver(stdout):
    per, hits = {}, {}
    for line in stdout.splitlines():
        p = line.split()
        if len(p) == 4:
            per.setdefault(int(p[0]), []).append(int(p[2]))
            hits[int(p[0])] = int(p[3])
    return per, hits


# --------------------------------------------------------------------------
# engines: each indexes a folder, reports its index size, runs a query file
# in-process and/or gives the command of one whole process per query.

class Engine:
    name = label = ""
    proc_label = ""
    slow = False
    needs = ()

    def available(self, tools):
        return all(shutil.which(n) or os.path.exists(os.path.join(tools, n)) for n in self.needs)

    def index_cmd(self, corpus, idx):
        return None

    def env(self, idx):
        return None

    def sizes(self, idx):
        return {"total": tree_bytes(idx)}

    def inproc(self, idx, qfile, reps):
        return []

    def proc_cmd(self, idx, query):
        return None


class Lode(Engine):
    name, label, proc_label = "lode", "lode", "lode-search"

    def __init__(self, tools, memory=None):
        self.t = tools
        self.memory = memory
        if memory:
            self.name, self.label = "lode-mem%d" % memory, "lode --memory %d" % memory

    def index_cmd(self, corpus, idx):
        return [os.path.join(self.t, "lode-index"), "-q", "-o", idx] + \
            (["--memory", str(self.memory)] if self.memory else []) + [corpus]

    def sizes(self, idx):
        s = lode_sections(idx)
        total = tree_bytes(idx)
        return {"total": total, "notext": total - s.get("TEXT", 0) - s.get("TEXTIDX", 0), "sections": s,
                "segments": sum(1 for n in os.listdir(idx) if n.endswith(".lseg"))}

    def inproc(self, idx, qfile, reps):
        d = os.path.join(self.t, "lode_driver")
        # "lode" is the default search (feedback expansion, best passage);
        # "no expansion" is plain BM25 top-k like Xapian's and CLucene's
        return [("lode", [d, idx, qfile, str(reps), "passages"]),
                ("lode, no passages", [d, idx, qfile, str(reps), "nopassages"]),
                ("lode, no passages, no expansion", [d, idx, qfile, str(reps), "nopassages", "noexpand"])]

    def proc_cmd(self, idx, query):
        return [os.path.join(self.t, "lode-search"), "-i", idx, "-n", "10", "--color=never", query]


class PyEngine(Engine):
    needs = (PY,)

    def __init__(self, name, label, queries, slow=False):
        self.name, self.label, self.queries, self.slow = name, label, queries, slow

    def index_cmd(self, corpus, idx):
        return [PY, os.path.join(HERE, "engines_py.py"), "index", self.name, corpus, idx]

    def inproc(self, idx, qfile, reps):
        return [(label, [PY, os.path.join(HERE, "engines_py.py"), "query", mode, idx, qfile, str(reps)])
                for mode, label in self.queries]


def walk_order(folder):
    """The regular files under `folder` in lode-index's order: each folder's
    entries sorted bytewise, files and folders together, a folder's files
    visited where its name sorts (indexer/sources.c)."""
    for name in sorted(os.listdir(folder), key=os.fsencode):
        path = os.path.join(folder, name)
        if os.path.isdir(path) and not os.path.islink(path):
            yield from walk_order(path)
        elif os.path.isfile(path):
            yield path


def file_list(work, corpus):
    """A file naming every file of the corpus, one a line, in lode-index's
    order, so that build_floor reads what lode-index reads in its order."""
    lst = os.path.join(work, "filelist-%s" % os.path.basename(corpus))
    if not os.path.exists(lst):
        with open(lst, "w") as f:
            f.write("\n".join(walk_order(corpus)) + "\n")
    return lst


class CLucene(Engine):
    name, label = "clucene", "CLucene"
    needs = ("clucene_driver",)

    def __init__(self, tools, work):
        self.t, self.work = tools, work

    def index_cmd(self, corpus, idx):
        return [os.path.join(self.t, "clucene_driver"), "index", file_list(self.work, corpus), idx]

    def inproc(self, idx, qfile, reps):
        return [("CLucene", [os.path.join(self.t, "clucene_driver"), "query", idx, qfile, str(reps)])]


def words_of(query):
    return [query.strip('"')] if query.startswith('"') else query.split()


class Codesearch(Engine):
    name, label, proc_label = "codesearch", "codesearch", "csearch"
    needs = ("cindex", "csearch")

    def env(self, idx):
        return dict(os.environ, CSEARCHINDEX=idx)

    def index_cmd(self, corpus, idx):
        return ["cindex", corpus]

    def proc_cmd(self, idx, query):
        return ["csearch", "-l", "-i", r"\b(%s)\b" % "|".join(words_of(query))]


class Ripgrep(Engine):
    name, label, proc_label = "rg", "ripgrep", "rg"
    needs = ("rg",)

    def __init__(self):
        self.corpus = None

    def proc_cmd(self, idx, query):
        cmd = ["rg", "-l", "-i", "-w", "-F", "--no-messages"]
        for w in words_of(query):
            cmd += ["-e", w]
        return cmd + [self.corpus]


def engines(tools, work):
    return [
        Lode(tools),
        PyEngine("fts5", "FTS5 (content)", [("fts5", "FTS5 (content)"), ("fts5-snippet", "FTS5 + snippet()")]),
        PyEngine("fts5-contentless", "FTS5 (contentless)", [("fts5-contentless", "FTS5 (contentless)")]),
        PyEngine("xapian", "Xapian", [("xapian", "Xapian")], slow=True),
        CLucene(tools, work),
        Codesearch(),
        Ripgrep(),
    ]


def warm(corpus):
    """Read every file once so that every engine starts from the page cache."""
    n = 0
    for top, _, names in os.walk(corpus):
        for name in names:
            with open(os.path.join(top, name), "rb") as f:
                while f.read(1 << 20):
                    pass
            n += 1
    return n


def run_proc(cmds, env=None):
    """Wall time (ns) of each command as one whole process (fork, exec, wait)."""
    out = []
    for cmd in cmds:
        a = time.perf_counter_ns()
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
        b = time.perf_counter_ns()
        out.append((b - a, r.returncode, r.stdout.count(b"\n")))
    return out


def show(cmd, work):
    return cmd.replace(work + "/", "bench/work/").replace(ROOT + "/", "")


def bench_corpus(name, corpus, qfile, args, tools, work):
    log("corpus %s: %s" % (name, corpus))
    files, size = corpora.tree_size(corpus)
    res = {"corpus": name, "path": corpus, "files": files, "bytes": size, "queries_file": os.path.relpath(qfile, ROOT),
           "date": datetime.date.today().isoformat(), "machine": machine(), "commit": SOURCE["commit"],
           "versions": versions(), "runs": args.runs, "reps": args.reps, "build": {}, "size": {},
           "latency": {}, "process": {}, "commands": {}}
    queries = read_queries(qfile)
    classes = [c for c, _ in queries]
    res["nqueries"] = len(queries)
    res["load"] = [os.getloadavg()[0]]
    big = size > 512 << 20
    reps = args.big_reps if big else args.reps
    res["reps"] = reps
    warm(corpus)
    idxdir = os.path.join(work, "index", name)
    os.makedirs(idxdir, exist_ok=True)
    engs = [e for e in engines(tools, work) if e.available(tools) and (not args.engines or e.name in args.engines)]
    if name == "debian-text" and args.memory_check:
        engs.insert(1, Lode(tools, memory=args.memory_check))
    for e in engs:
        if isinstance(e, Ripgrep):
            e.corpus = corpus
        idx = os.path.join(idxdir, e.name + (".db" if e.name.startswith("fts5") else ""))
        cmd = e.index_cmd(corpus, idx)
        if cmd:
            runs = args.runs if not (big and e.slow) else args.big_slow_runs
            res["commands"][e.name] = show(("CSEARCHINDEX=%s " % idx if e.env(idx) else "") + " ".join(cmd), work)
            got = []
            for r in range(runs):
                if os.path.isdir(idx):
                    shutil.rmtree(idx)
                elif os.path.exists(idx):
                    os.remove(idx)
                try:
                    got.append(timed(cmd, env=e.env(idx)))
                except RuntimeError as ex:
                    log("%s: %s" % (e.name, ex))
                    break
                log("%s index run %d: %.2f s wall, %.2f s CPU, %.0f MiB peak RSS" % (
                    e.name, r + 1, got[-1]["wall"], got[-1]["cpu"], got[-1]["rss"] / 2**20))
            if not got:
                continue
            res["build"][e.name] = {"runs": got, "wall": statistics.median(g["wall"] for g in got),
                                    "cpu": statistics.median(g["cpu"] for g in got),
                                    "rss": statistics.median(g["rss"] for g in got)}
            res["size"][e.name] = e.sizes(idx)
            if e.name.startswith("fts5"):
                opt = idx + ".optimized"
                shutil.copy2(idx, opt)
                sh([PY, os.path.join(HERE, "engines_py.py"), "optimize", e.name, opt])
                res["size"][e.name]["optimized"] = os.path.getsize(opt)
                os.remove(opt)
        if e.name == "lode" and "lode" in res["build"] and os.path.exists(os.path.join(tools, "build_floor")):
            res["floor"] = build_floor(tools, work, corpus, args.runs)
        if e.name.startswith("lode-mem"):
            continue
        for label, qcmd in e.inproc(idx, qfile, reps):
            log("%s: in-process queries" % label)
            out = subprocess.run(qcmd, capture_output=True, text=True)
            if out.returncode != 0:
                log("%s failed: %s" % (label, out.stderr[-1000:]))
                continue
            per, hits = parse_driver(out.stdout)
            res["latency"][label] = latency_stats(per, hits, classes)
        if e.proc_cmd(idx, "x"):
            reps = 1
            log("%s: one process per query" % e.label)
            run_proc([e.proc_cmd(idx, q) for _, q in queries[:10]], env=e.env(idx))
            per, hits = {}, {}
            for r in range(reps):
                for i, (ns, rc, lines) in enumerate(run_proc([e.proc_cmd(idx, q) for _, q in queries],
                                                             env=e.env(idx))):
                    per.setdefault(i, []).append(ns)
                    hits[i] = lines if rc == 0 else 0
            res["process"][e.proc_label] = latency_stats(per, hits, classes)
            res["commands"]["%s query" % e.name] = show(("CSEARCHINDEX=%s " % idx if e.env(idx) else "") +
                                                        " ".join(e.proc_cmd(idx, queries[1][1])), work)
    # the cost of the Python timing loop and of starting any process
    out = subprocess.run([PY, os.path.join(HERE, "engines_py.py"), "query", "empty", "-", qfile, str(reps)],
                         capture_output=True, text=True)
    per, hits = parse_driver(out.stdout)
    res["latency"]["(empty Python call)"] = latency_stats(per, {i: 1 for i in per}, classes)
    per = {i: [ns] for i, (ns, _, _) in enumerate(run_proc([["/bin/true"]] * len(queries)))}
    res["process"]["(/bin/true)"] = latency_stats(per, {i: 1 for i in per}, classes)
    if not args.keep_indexes:
        shutil.rmtree(idxdir, ignore_errors=True)
    res["load"].append(os.getloadavg()[0])
    return res


def build_floor(tools, work, corpus, runs):
    """CPU seconds of analysing and of compressing the corpus alone, one thread
    each (bench/build_floor.c), medians of `runs` runs."""
    cmd = [os.path.join(tools, "build_floor"), file_list(work, corpus)]
    got = []
    for r in range(runs):
        out = subprocess.run(cmd, capture_output=True, text=True)
        if out.returncode != 0:
            log("build_floor failed: %s" % out.stderr[-1000:])
            return None
        got.append({k: float(v) for k, v in (line.split() for line in out.stdout.splitlines())})
        log("build floor run %d: analysis %.2f s, zlib %.2f s, reading %.2f s (CPU)" % (
            r + 1, got[-1]["analysis_s"], got[-1]["zlib_s"], got[-1]["read_s"]))
    floor = {k: statistics.median(g[k] for g in got) for k in got[0]}
    floor["command"] = show(" ".join(cmd), work)
    return floor


def hotspots(tools, corpus, work):
    """perf profile of lode-index over `corpus`: self time by function (a
    library without symbols counted as one row), and time with callees."""
    if not shutil.which("perf"):
        return None
    data = os.path.join(work, "perf.data")
    idx = os.path.join(work, "hotspots.lode")
    shutil.rmtree(idx, ignore_errors=True)
    cmd = ["perf", "record", "-F", "499", "--call-graph", "dwarf,16384", "-o", data, "--",
           os.path.join(tools, "lode-index"), "-q", "-o", idx, corpus]
    r = subprocess.run(cmd, capture_output=True, text=True)
    shutil.rmtree(idx, ignore_errors=True)
    if r.returncode != 0:
        log("perf record failed: " + r.stderr[-500:])
        return None
    selfs = {}
    rep = subprocess.run(["perf", "report", "-i", data, "--no-children", "--sort", "dso,symbol", "--stdio",
                          "-g", "none", "--percent-limit", "0"], capture_output=True, text=True).stdout
    for line in rep.splitlines():
        m = re.match(r"\s*([\d.]+)%\s+(\S+)\s+\[([.k])\]\s+(\S+)", line)
        if m:
            dso, sym = m.group(2), m.group(4)
            if sym.startswith("0x") or m.group(3) == "k":
                sym = "(all of %s)" % ("the kernel" if m.group(3) == "k" else dso)
            selfs[(dso, sym)] = selfs.get((dso, sym), 0.0) + float(m.group(1))
    rows = sorted(((v, d, s) for (d, s), v in selfs.items()), reverse=True)
    rows = [r for r in rows if r[0] >= 0.5][:30]
    inc = []
    rep = subprocess.run(["perf", "report", "-i", data, "--children", "--sort", "dso,symbol", "--stdio", "-g",
                          "none", "--percent-limit", "3"], capture_output=True, text=True).stdout
    for line in rep.splitlines():
        m = re.match(r"\s*([\d.]+)%\s+([\d.]+)%\s+(\S+)\s+\[[.k]\]\s+(\S+)", line)
        if m and not m.group(4).startswith("0x") and m.group(4) not in (
                "_start", "__libc_start_call_main", "__libc_start_main_impl", "entry_SYSCALL_64_after_hwframe"):
            inc.append((float(m.group(1)), float(m.group(2)), m.group(3), m.group(4)))
    os.remove(data)
    return {"command": show(" ".join(cmd), work), "self": rows, "children": inc[:30]}


# --------------------------------------------------------------------------
# RESULTS.md

def mb(b):
    return "%.1f MB" % (b / 1e6)


def ms(x):
    return "%.4f" % x if x < 0.1 else "%.3f" % x if x < 10 else "%.1f" % x


def ratio(a, b):
    return "%.2f×" % (a / b) if b else "-"


def render(results, hot):
    out = [BEGIN, ""]
    for res in results:
        name = res["corpus"]
        out += ["## %s: %d files, %s" % (name, res["files"], mb(res["bytes"])), ""]
        out += ["%s; %s; lode commit %s; %s. SQLite %s, Xapian %s, CLucene %s, ripgrep %s, codesearch %s. "
                "%d queries (`%s`). Regenerate: `bench/run.sh BUILD_DIR%s`." % (
                    res["date"], res["machine"], res["commit"], "build times are medians of %d runs" % res["runs"],
                    res["versions"]["sqlite"], res["versions"]["xapian"], res["versions"]["clucene"],
                    res["versions"]["ripgrep"], res["versions"]["codesearch"], res["nqueries"],
                    res["queries_file"], " --big" if "1g" in name else ""), ""]
        if "load" in res:
            out[-2] += " Load average (1 min) %.1f at the start, %.1f at the end (2 cores)." % tuple(res["load"])
        b = res["build"]
        lb = b.get("lode")
        out += ["### Index build", "",
                "| engine | wall s | CPU s | peak RSS MiB | wall ÷ lode | runs (wall s) |", "|---|---|---|---|---|---|"]
        for k, v in b.items():
            out.append("| %s | %.2f | %.2f | %.0f | %s | %s |" % (
                k, v["wall"], v["cpu"], v["rss"] / 2**20, ratio(v["wall"], lb["wall"]) if lb else "-",
                ", ".join("%.2f" % g["wall"] for g in v["runs"])))
        fl = res.get("floor")
        if fl and lb:
            two = (fl["analysis_s"] + fl["zlib_s"]) / 2
            fts = b.get("fts5")
            out += ["", "How close lode's build is to the work it cannot skip: analysing every file with its "
                    "analyzer (tokenizing, normalizing, stemming through its caches) and compressing the stored "
                    "text with zlib as lode-index does, each timed alone on one thread (`%s`, CPU seconds, "
                    "medians of %d runs). Split perfectly over 2 cores, those two alone take their sum halved; "
                    "inverting, writing the segment, reading and walking come on top." % (
                        fl["command"], res["runs"]), "",
                    "| analysis s | zlib s | reading s | (analysis + zlib) ÷ 2 | lode wall ÷ that | "
                    "that ÷ FTS5 wall |", "|---|---|---|---|---|---|",
                    "| %.2f | %.2f | %.2f | %.2f s | %.2f× | %s |" % (
                        fl["analysis_s"], fl["zlib_s"], fl["read_s"], two, lb["wall"] / two,
                        "%.2f" % (two / fts["wall"]) if fts else "-")]
        out += ["", "### Index size (fraction of the corpus)", "",
                "| engine | size | ÷ corpus | without stored text | ÷ corpus | note |", "|---|---|---|---|---|---|"]
        for k, v in res["size"].items():
            note = ""
            if "optimized" in v:
                note = "after 'optimize' and VACUUM: %s (%.3f)" % (mb(v["optimized"]), v["optimized"] / res["bytes"])
            if "sections" in v:
                s = v["sections"]
                note = "%d segment(s); " % v["segments"] + ", ".join(
                    "%s %s" % (n, mb(s[n])) for n in ("POSTINGS", "TEXT", "DOCINFO", "LEXICON", "VOCAB") if n in s)
            if k == "fts5-contentless":
                row = ("-", "-", mb(v["total"]), "%.3f" % (v["total"] / res["bytes"]))
            elif k in ("xapian", "clucene", "codesearch"):
                row = ("-", "-", mb(v["total"]), "%.3f" % (v["total"] / res["bytes"]))
                note = note or {"xapian": "positions, path as data", "clucene": "positions, path stored",
                                "codesearch": "trigram index, no positions"}[k]
            elif "notext" in v:
                row = (mb(v["total"]), "%.3f" % (v["total"] / res["bytes"]), mb(v["notext"]),
                       "%.3f" % (v["notext"] / res["bytes"]))
            else:
                row = (mb(v["total"]), "%.3f" % (v["total"] / res["bytes"]), "-", "-")
            out.append("| %s | %s | %s | %s | %s | %s |" % ((k,) + row + (note,)))
        lat = res["latency"]
        ll = lat.get("lode, no passages")
        out += ["", "### Top-10 query latency in-process (ms, opened once, %d queries, median of %d passes each)" % (
            res["nqueries"], res["reps"]), "",
            "| engine | median | p99 | mean | max | no hit | median ÷ lode (no passages) | p99 ÷ lode (no passages) |",
            "|---|---|---|---|---|---|---|---|"]
        for k, v in lat.items():
            out.append("| %s | %s | %s | %s | %s | %d | %s | %s |" % (
                k, ms(v["median"]), ms(v["p99"]), ms(v["mean"]), ms(v["max"]), v["no_hit"],
                ratio(v["median"], ll["median"]) if ll else "-", ratio(v["p99"], ll["p99"]) if ll else "-"))
        classes = list(next(iter(lat.values()))["by_class"].keys()) if lat else []
        keys = [k for k in lat if not k.startswith("(")]
        out += ["", "Median ms by query class:", "", "| class | " + " | ".join(keys) + " |",
                "|---" * (len(keys) + 1) + "|"]
        for c in classes:
            out.append("| %s | %s |" % (c, " | ".join(ms(lat[k]["by_class"].get(c, float("nan"))) for k in keys)))
        pr = res["process"]
        lp = pr.get("lode-search")
        out += ["", "### One whole process per query (ms: fork, exec, open, search, print top 10, exit)", "",
                "| program | median | p99 | mean | no hit | median ÷ lode-search |", "|---|---|---|---|---|---|"]
        for k, v in pr.items():
            out.append("| %s | %s | %s | %s | %d | %s |" % (
                k, ms(v["median"]), ms(v["p99"]), ms(v["mean"]), v["no_hit"],
                ratio(v["median"], lp["median"]) if lp else "-"))
        out += ["", "Commands (bench/work/ paths are the harness's scratch folder):", ""]
        out += ["- %s: `%s`" % (k, v) for k, v in res["commands"].items()]
        out.append("")
    out += render_targets(results)
    if hot:
        out += ["## lode hot spots", "",
                "`%s` (%s). Self time by function (libraries without symbols and the kernel as one row "
                "each), then the entries that take the most time with their callees (DWARF call graphs; "
                "static functions inlined by the Release build count in their callers)." % (
                    hot["command"], hot.get("date", "")), "",
                "| self % | object | function |", "|---|---|---|"]
        out += ["| %.2f | %s | %s |" % tuple(r) for r in hot["self"]]
        out += ["", "| with callees % | self % | object | function |", "|---|---|---|---|"]
        out += ["| %.2f | %.2f | %s | %s |" % tuple(r) for r in hot["children"] if len(r) == 4]
        out.append("")
    return "\n".join(out)


RSS_SLACK = 32 << 20  # the "small constant" over the memory budget


def verdict(measured, target):
    if measured != measured:
        return "not measured"
    if measured <= target:
        return "met (%.2f× of the target)" % (measured / target)
    return "**missed** by %.1f× (%.2f vs ≤ %.2f)" % (measured / target, measured, target)


def render_targets(results):
    by = {r["corpus"]: r for r in results}
    main = by.get("debian-text-1g") or by.get("debian-text")
    text = by.get("debian-text") or main
    if not main:
        return []
    out = ["## Where lode stands against the targets", "",
           "Generated from the tables above: each ratio is lode's figure divided by the other engine's "
           "from the same run, on each corpus measured. lode's in-process latency is given without passages "
           "(ranking alone: what Xapian and CLucene return, they make no passage) and with one passage per hit "
           "(what lode-search shows). OR queries are all but the phrase classes. The memory rows give peak RSS "
           "in units of the budget; the target allows the budget plus %d MiB." % (RSS_SLACK >> 20), "",
           "| target | corpus | measured | verdict |", "|---|---|---|---|"]
    nan = float("nan")

    def row(target, corpus, measured, limit):
        out.append("| %s | %s | %s | %s |" % (target, corpus, "%.3f" % measured if measured == measured else "-",
                                              verdict(measured, limit)))
    for r in [text] + ([by["debian-text-1g"]] if "debian-text-1g" in by and by["debian-text-1g"] is not text else []):
        b, sz, lat, pr = r["build"], r["size"], r["latency"], r["process"]
        c = r["corpus"]
        if "lode" in b and "fts5" in b:
            row("indexing wall time ≤ 0.5× FTS5 (content)", c, b["lode"]["wall"] / b["fts5"]["wall"], 0.5)
        fl = r.get("floor")
        if fl and "fts5" in b:
            row("the floor, not lode: (analysis + zlib alone) ÷ 2 cores ≤ 0.5× FTS5 (content)", c,
                (fl["analysis_s"] + fl["zlib_s"]) / 2 / b["fts5"]["wall"], 0.5)
        if "lode" in b and "fts5-contentless" in b:
            row("indexing wall time ≤ 0.5× FTS5 (contentless)", c,
                b["lode"]["wall"] / b["fts5-contentless"]["wall"], 0.5)
        if "lode" in sz and "fts5-contentless" in sz:
            f = sz["fts5-contentless"]
            row("index without stored text ≤ 0.5× FTS5 contentless (as loaded)", c,
                sz["lode"]["notext"] / f["total"], 0.5)
            if "optimized" in f:
                row("index without stored text ≤ 0.5× FTS5 contentless (optimized + VACUUM)", c,
                    sz["lode"]["notext"] / f["optimized"], 0.5)
        if "lode" in sz and "fts5" in sz:
            f = sz["fts5"]
            row("index with stored text ≤ 0.4× FTS5 with content (as loaded)", c, sz["lode"]["total"] / f["total"], 0.4)
            if "optimized" in f:
                row("index with stored text ≤ 0.4× FTS5 with content (optimized + VACUUM)", c,
                    sz["lode"]["total"] / f["optimized"], 0.4)
        for mine in ("lode, no passages, no expansion", "lode, no passages", "lode"):
            for other in ("Xapian", "CLucene"):
                if mine in lat and other in lat:
                    for stat in ("median", "p99"):
                        row("top-10 OR queries %s ≤ 0.5× %s (%s)" % (stat, other, mine), c,
                            lat[mine]["or_" + stat] / lat[other]["or_" + stat], 0.5)
        if "lode-search" in pr and "rg" in pr:
            row("a whole lode-search process ≤ 1% of a whole rg process (median)", c,
                pr["lode-search"]["median"] / pr["rg"]["median"], 0.01)
        for name, v in b.items():
            if not name.startswith("lode"):
                continue
            budget = int(name[8:]) << 20 if name.startswith("lode-mem") else 256 << 20
            row("indexing peak RSS ≤ budget %d MiB + %d MiB (%s), in budgets" % (
                budget >> 20, RSS_SLACK >> 20, name), c, v["rss"] / budget, (budget + RSS_SLACK) / budget)
    out.append("")
    return out


def write_results(work, path):
    rdir = os.path.join(work, "results")
    order = ["corpus", "cranfield", "debian-text", "debian-text-1g"]
    results = []
    for n in order:
        p = os.path.join(rdir, n + ".json")
        if os.path.exists(p):
            with open(p) as f:
                results.append(json.load(f))
    hot = None
    if os.path.exists(os.path.join(rdir, "hotspots.json")):
        with open(os.path.join(rdir, "hotspots.json")) as f:
            hot = json.load(f)
    text = open(path).read() if os.path.exists(path) else "# Benchmark results\n"
    head = text.split(BEGIN)[0].rstrip("\n") + "\n\n"
    with open(path, "w") as f:
        f.write(head + render(results, hot))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", required=True, help="lode build folder (lode-index, lode-search, liblode.a)")
    ap.add_argument("--big", action="store_true", help="also the ~1 GiB corpus (debian-text replicated)")
    ap.add_argument("--corpora", default="corpus,cranfield,debian-text",
                    help="comma-separated: corpus, cranfield, debian-text (default all three)")
    ap.add_argument("--engines", default="", help="comma-separated subset of engines (default all)")
    ap.add_argument("--runs", type=int, default=3, help="index builds per engine (median reported)")
    ap.add_argument("--big-slow-runs", type=int, default=3, help="builds of Xapian on the 1 GiB corpus (each takes about 11 minutes)")
    ap.add_argument("--reps", type=int, default=3, help="timed passes over the query set in-process")
    ap.add_argument("--big-reps", type=int, default=3, help="the same on the 1 GiB corpus")
    ap.add_argument("--memory-check", type=int, default=64, help="also index debian-text with --memory N (0: no)")
    ap.add_argument("--no-hotspots", action="store_true")
    ap.add_argument("--hotspots-only", action="store_true", help="only the perf profile, then RESULTS.md")
    ap.add_argument("--render-only", action="store_true", help="only rewrite RESULTS.md from bench/work/results")
    ap.add_argument("--no-install", action="store_true")
    ap.add_argument("--keep-indexes", action="store_true")
    ap.add_argument("--work", default=os.path.join(HERE, "work"))
    ap.add_argument("--data", default=os.path.join(HERE, "data"))
    ap.add_argument("--results", default=os.path.join(HERE, "RESULTS.md"))
    args = ap.parse_args()
    args.engines = [e for e in args.engines.split(",") if e]
    work = os.path.abspath(args.work)
    os.makedirs(os.path.join(work, "results"), exist_ok=True)
    if args.render_only:
        write_results(work, args.results)
        return
    if not args.no_install:
        ensure_packages(PACKAGES)
    SOURCE["commit"] = commit_of(source_of(os.path.abspath(args.build)))
    tools = build_tools(os.path.abspath(args.build), work)
    paths = corpora.build(args.data, big=args.big)
    names = [c for c in args.corpora.split(",") if c]
    if args.hotspots_only:
        names = ["debian-text"]
    if args.big:
        names.append("debian-text-1g")
    for name in names:
        if name not in paths:
            log("no corpus %s: skipped" % name)
            continue
        qname = "debian-text" if name == "debian-text-1g" else name
        if args.hotspots_only:
            res = None
        else:
            res = bench_corpus(name, paths[name], os.path.join(HERE, "queries", qname + ".tsv"), args, tools, work)
        if res:
            with open(os.path.join(work, "results", name + ".json"), "w") as f:
                json.dump(res, f, indent=1)
            write_results(work, args.results)
        if name == "debian-text" and not args.no_hotspots:
            log("perf record of lode-index")
            hot = hotspots(tools, paths["debian-text"], work)
            if hot:
                hot["date"] = datetime.date.today().isoformat() + ", lode commit " + SOURCE["commit"]
                with open(os.path.join(work, "results", "hotspots.json"), "w") as f:
                    json.dump(hot, f, indent=1)
    write_results(work, args.results)
    log("wrote " + args.results)


if __name__ == "__main__":
    main()
