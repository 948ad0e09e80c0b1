#!/usr/bin/env python3
"""Install lode into a temporary prefix and use it as another project would.

`cmake --install` of this build into a fresh prefix (no root, no network),
then: every file is where GNUInstallDirs says; only lode_* functions leave
liblode.so, exactly those lode.h exports, under the soname liblode.so.N;
lode.h compiles alone as C99 with -pedantic and as C++; lode.pc and the
CMake package describe the prefix; examples/manual-search builds out of
tree against the prefix with pkg-config (its Makefile) and with
find_package (its CMakeLists.txt, shared and static), runs from another
folder after its manual and bundle are deleted, and answers exactly as
the installed lode-search does on the same bundle; and each recipe of
docs/EMBEDDING.md for compiling a bundle in (--emit-c, xxd -i, .incbin,
ld -r -b binary) opens and answers.

Run alone: python3 test_install.py [NAME]. ctest sets the environment:
CMAKE_COMMAND, CMAKE_GENERATOR, LODE_BUILD_DIR, LODE_SOURCE_DIR, CC,
LODE_INSTALL_{BIN,LIB,INCLUDE,MAN}DIR, LODE_SOVERSION, LODE_CONSUMER_FLAGS
(the sanitizer flags of a sanitized build, which its consumers need too).
"""
import glob
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

E = os.environ
SOURCE_DIR = E["LODE_SOURCE_DIR"]
BUILD_DIR = E["LODE_BUILD_DIR"]
CMAKE = E["CMAKE_COMMAND"]
CC = E.get("CC", "cc")
FLAGS = shlex.split(E.get("LODE_CONSUMER_FLAGS", ""))
EXAMPLE = os.path.join(SOURCE_DIR, "examples", "manual-search")

failures = []
TMP = tempfile.mkdtemp(prefix="lode-install-")
PREFIX = os.path.join(TMP, "prefix")


def under_prefix(var):
    d = E[var]
    return d if os.path.isabs(d) else os.path.join(PREFIX, d)


BINDIR = under_prefix("LODE_INSTALL_BINDIR")
LIBDIR = under_prefix("LODE_INSTALL_LIBDIR")
INCLUDEDIR = under_prefix("LODE_INSTALL_INCLUDEDIR")
MANDIR = under_prefix("LODE_INSTALL_MANDIR")


def check(cond, what):
    if not cond:
        failures.append(what)
        print("  check failed: " + what, file=sys.stderr)
    return cond


def run(args, cwd=None, env=None, what=None):
    r = subprocess.run(args, capture_output=True, cwd=cwd, env=env)
    if what is not None:
        check(r.returncode == 0, "%s: exit %d\n%s%s" % (what, r.returncode, r.stdout.decode(errors="replace"),
                                                       r.stderr.decode(errors="replace")))
    return r


def skip(why):
    print("  skipped: " + why, file=sys.stderr)


def version():
    with open(os.path.join(SOURCE_DIR, "include", "lode.h")) as f:
        return re.search(r'#define LODE_VERSION_STRING "([^"]+)"', f.read()).group(1)


def install():
    r = run([CMAKE, "--install", BUILD_DIR, "--prefix", PREFIX], what="cmake --install")
    return r.returncode == 0


# --- the installed files ------------------------------------------------------

def test_every_file_is_installed_where_gnuinstalldirs_says():
    so = E["LODE_SOVERSION"]
    for p in [os.path.join(BINDIR, "lode-index"), os.path.join(BINDIR, "lode-search"),
              os.path.join(LIBDIR, "liblode.a"), os.path.join(LIBDIR, "liblode.so"),
              os.path.join(LIBDIR, "liblode.so." + so), os.path.join(INCLUDEDIR, "lode.h"),
              os.path.join(LIBDIR, "pkgconfig", "lode.pc"),
              os.path.join(LIBDIR, "cmake", "lode", "lodeConfig.cmake"),
              os.path.join(LIBDIR, "cmake", "lode", "lodeConfigVersion.cmake"),
              os.path.join(LIBDIR, "cmake", "lode", "lodeTargets.cmake"),
              os.path.join(MANDIR, "man1", "lode-index.1"), os.path.join(MANDIR, "man1", "lode-search.1")]:
        check(os.path.exists(p), "installed: %s" % os.path.relpath(p, PREFIX))
    check(os.path.islink(os.path.join(LIBDIR, "liblode.so")), "liblode.so is the development link")
    check(os.path.realpath(os.path.join(LIBDIR, "liblode.so")) ==
          os.path.realpath(os.path.join(LIBDIR, "liblode.so." + so)), "both names lead to one library")
    r = run([os.path.join(BINDIR, "lode-index"), "--version"])
    check(r.stdout.decode() == "lode-index %s\n" % version(), "the installed lode-index runs: %r" % r.stdout)


def test_only_the_functions_of_lode_h_leave_the_shared_library():
    nm = shutil.which("nm")
    if not nm:
        return skip("nm is not installed")
    lib = os.path.join(LIBDIR, "liblode.so")
    r = run([nm, "-D", "--defined-only", lib], what="nm -D")
    exported = set()
    for line in r.stdout.decode().splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] not in ("w", "v", "U"):
            exported.add(parts[2].split("@")[0])
    with open(os.path.join(SOURCE_DIR, "include", "lode.h")) as f:
        declared = set(re.findall(r"LODE_EXPORT[^;(]*?\**\b(lode_\w+)\s*\(", f.read()))
    check(len(declared) >= 20, "read the LODE_EXPORT functions of lode.h: %r" % sorted(declared))
    check(exported == declared, "nm -D shows exactly the functions lode.h exports; extra %r, missing %r"
          % (sorted(exported - declared), sorted(declared - exported)))
    check(all(s.startswith("lode_") for s in exported), "only lode_* symbols: %r" % sorted(exported))
    readelf = shutil.which("readelf")
    if readelf:
        r = run([readelf, "-d", lib], what="readelf -d")
        check(("(SONAME)             Library soname: [liblode.so.%s]" % E["LODE_SOVERSION"]) in r.stdout.decode(),
              "the soname is liblode.so.%s" % E["LODE_SOVERSION"])


def test_lode_h_compiles_alone_as_c99_and_as_cxx():
    header = os.path.join(INCLUDEDIR, "lode.h")
    run([CC, "-std=c99", "-pedantic", "-Wall", "-Wextra", "-Werror", "-fsyntax-only", "-x", "c", header],
        what="lode.h as C99 -pedantic")
    # the INIT macros fill every field: no missing-initializer warning in C or C++
    src = os.path.join(TMP, "uses_inits.c")
    with open(src, "w") as f:
        f.write('#include <lode.h>\n'
                'int main(void) {\n'
                '    lode_writer_options w = LODE_WRITER_OPTIONS_INIT;\n'
                '    lode_search_options s = LODE_SEARCH_OPTIONS_INIT;\n'
                '    return (int)(w.version + s.version) - LODE_WRITER_OPTIONS_VERSION - LODE_SEARCH_OPTIONS_VERSION;\n'
                '}\n')
    run([CC, "-std=c99", "-pedantic", "-Wall", "-Wextra", "-Werror", "-fsyntax-only", "-I", INCLUDEDIR, src],
        what="the INIT macros in C99")
    cxx = shutil.which("c++") or shutil.which("g++") or shutil.which("clang++")
    if not cxx:
        return skip("no C++ compiler")
    for std in ("c++11", "c++17"):
        run([cxx, "-std=" + std, "-pedantic", "-Wall", "-Wextra", "-Werror", "-fsyntax-only", "-x", "c++",
             "-I", INCLUDEDIR, src], what="lode.h and the INIT macros as %s" % std)


def pc_env():
    env = dict(E)
    env["PKG_CONFIG_PATH"] = os.path.join(LIBDIR, "pkgconfig")
    return env


def test_lode_pc_points_into_the_prefix():
    pc = shutil.which("pkg-config")
    if not pc:
        return skip("pkg-config is not installed")
    env = pc_env()
    r = run([pc, "--modversion", "lode"], env=env, what="pkg-config --modversion")
    check(r.stdout.decode().strip() == version(), "lode.pc has the version: %r" % r.stdout)
    cflags = run([pc, "--cflags", "lode"], env=env).stdout.decode().split()
    check(cflags == ["-I" + INCLUDEDIR], "--cflags is the include folder alone: %r" % cflags)
    libs = run([pc, "--libs", "lode"], env=env).stdout.decode().split()
    check(libs == ["-L" + LIBDIR, "-llode"], "--libs is -L and -llode alone: %r" % libs)
    static = run([pc, "--static", "--libs", "lode"], env=env).stdout.decode().split()
    check(all(x in static for x in ("-llode", "-lstemmer", "-lutf8proc", "-lz")),
          "--static adds the private dependencies: %r" % static)
    r = run([pc, "--variable=bindir", "lode"], env=env)
    check(r.stdout.decode().strip() == BINDIR, "bindir names the programs' folder: %r" % r.stdout)


# --- the example ----------------------------------------------------------------

QUERIES = ["bundle", "stored text", '"page checksum"', "stemm*", "title:query", "prefix NEAR/3 words",
           "xyzzy-nothing-matches"]


def lode_search_answers(bundle, q):
    """(exit status, [(path, line, title)]) of the installed lode-search."""
    r = run([os.path.join(BINDIR, "lode-search"), "-i", bundle, "--json", "-n", "5", q])
    hits = [json.loads(line) for line in r.stdout.decode().splitlines()]
    return r.returncode, [(h["path"], h["line"], h["title"]) for h in hits]


def manual_search_answers(program, q, cwd):
    r = run([program, "-n", "5", q], cwd=cwd)
    hits = []
    for line in r.stdout.decode().splitlines():
        m = re.fullmatch(r"(\S+):(\d+)  (.*)", line)
        if m and not line.startswith(" "):
            hits.append((m.group(1), int(m.group(2)), m.group(3)))
    return r.returncode, hits


def build_examples(manual):
    """Build manual-search three ways; return {name: (program, build folder)}."""
    built = {}
    cflags = " ".join(["-O1", "-g", "-Wall", "-Wextra", "-Werror"] + FLAGS)
    make, pc = shutil.which("make"), shutil.which("pkg-config")
    if make and pc:
        d = os.path.join(TMP, "build-pkg-config")
        os.makedirs(d)
        env = pc_env()
        r = run([make, "-f", os.path.join(EXAMPLE, "Makefile"), "MANUAL_DIR=" + manual, "CFLAGS=" + cflags,
                 "LDFLAGS=" + " ".join(FLAGS)], cwd=d, env=env, what="make -f examples/manual-search/Makefile")
        if r.returncode == 0:
            built["pkg-config"] = (os.path.join(d, "manual-search"), d)
        # --static lists what liblode.a needs: enough for a fully static
        # program (not under ASan, which cannot link statically)
        if r.returncode == 0 and not FLAGS:
            pcflags = run([pc, "--cflags", "--libs", "--static", "lode"], env=env).stdout.decode().split()
            program = os.path.join(d, "manual-search-static")
            r = run([CC, "-static"] + shlex.split(cflags) + ["-o", program, os.path.join(EXAMPLE, "manual-search.c"),
                    "manual_index.c"] + pcflags, cwd=d, what="cc -static with pkg-config --static")
            if r.returncode == 0:
                built["pkg-config static"] = (program, d)
    else:
        skip("make or pkg-config is not installed: no pkg-config build")
    for name, static in (("find_package", "OFF"), ("find_package static", "ON")):
        d = os.path.join(TMP, "build-" + name.replace(" ", "-"))
        gen = ["-G", E["CMAKE_GENERATOR"]] if E.get("CMAKE_GENERATOR") else []
        r = run([CMAKE, "-S", EXAMPLE, "-B", d] + gen +
                ["-DCMAKE_PREFIX_PATH=" + PREFIX, "-DMANUAL_DIR=" + manual, "-DMANUAL_SEARCH_STATIC=" + static,
                 "-DCMAKE_C_COMPILER=" + CC, "-DCMAKE_C_FLAGS=" + cflags,
                 "-DCMAKE_EXE_LINKER_FLAGS=" + " ".join(FLAGS)], what="cmake configure (%s)" % name)
        if r.returncode == 0:
            r = run([CMAKE, "--build", d], what="cmake --build (%s)" % name)
        if r.returncode == 0:
            built[name] = (os.path.join(d, "manual-search"), d)
    return built


def test_manual_search_from_the_install_answers_like_lode_search():
    manual = os.path.join(TMP, "manual")
    os.makedirs(manual)
    for page in glob.glob(os.path.join(SOURCE_DIR, "docs", "*.md")):
        shutil.copy(page, manual)
    built = build_examples(manual)
    if not check("find_package" in built and "find_package static" in built, "the CMake builds succeeded"):
        return
    # every build made the same bundle: bundles are reproducible
    bundles = {name: open(os.path.join(d, "manual.lode"), "rb").read() for name, (_, d) in built.items()}
    check(len(set(bundles.values())) == 1, "the same manual gives the same bundle in every build")
    reference = os.path.join(TMP, "reference.lode")
    with open(reference, "wb") as f:
        f.write(bundles["find_package"])
    readelf = shutil.which("readelf")
    if readelf:
        needed = run([readelf, "-d", built["find_package"][0]]).stdout.decode()
        check("liblode.so." + E["LODE_SOVERSION"] in needed, "the find_package build uses liblode.so")
        for name in ("find_package static", "pkg-config static"):
            if name in built:
                needed = run([readelf, "-d", built[name][0]]).stdout.decode()
                check("liblode.so" not in needed, "the %s build does not" % name)
    # self-contained: no manual, no bundle, no generated source, another folder
    shutil.rmtree(manual)
    for d in set(d for _, d in built.values()):
        for name in ("manual.lode", "manual_index.c"):
            os.remove(os.path.join(d, name))
    elsewhere = os.path.join(TMP, "elsewhere")
    os.makedirs(elsewhere)
    for name, (program, _) in sorted(built.items()):
        r = run([program, "--info"], cwd=elsewhere)
        check(r.returncode == 0 and re.match(rb"\d+ pages, ", r.stdout) is not None,
              "%s: --info: %r %r" % (name, r.stdout, r.stderr))
        for q in QUERIES:
            want = lode_search_answers(reference, q)
            got = manual_search_answers(program, q, elsewhere)
            check(got == want, "%s answers %r as lode-search does:\n  got  %r\n  want %r" % (name, q, got, want))
    check(lode_search_answers(reference, "bundle")[1] != [], "the queries find something")


# --- the recipes of docs/EMBEDDING.md -------------------------------------------

def test_every_embedding_recipe_opens_the_bundle_from_memory():
    d = os.path.join(TMP, "recipes")
    os.makedirs(d)
    bundle = os.path.join(d, "corpus.lode")
    run([os.path.join(BINDIR, "lode-index"), "-q", "--bundle", bundle, "corpus"], cwd=SOURCE_DIR,
        what="lode-index --bundle")
    src = os.path.join(SOURCE_DIR, "tests", "install", "embedded.c")
    base = [CC, "-std=c11", "-Wall", "-Wextra", "-Werror"] + FLAGS + ["-I", INCLUDEDIR]
    libs = ["-L" + LIBDIR, "-Wl,-rpath," + LIBDIR, "-llode"]
    recipes = {
        "emit-c": ([os.path.join(BINDIR, "lode-index"), "--emit-c", "corpus_index", "-o", "corpus_index.c",
                    "corpus.lode"], ["-DRECIPE_EMIT_C", src, "corpus_index.c"]),
        "xxd -i": (["sh", "-c", "xxd -i corpus.lode > corpus_lode.c"], ["-DRECIPE_XXD", src, "corpus_lode.c"]),
        "ld -r -b binary": (["ld", "-r", "-b", "binary", "-z", "noexecstack", "-o", "corpus_lode.o", "corpus.lode"],
                            ["-DRECIPE_LD", src, "corpus_lode.o"]),
        ".incbin": (None, ["-DRECIPE_INCBIN", src]),
    }
    for name, (prepare, args) in sorted(recipes.items()):
        tool = prepare and prepare[0] if prepare and prepare[0] != "sh" else ("xxd" if prepare else None)
        if tool and not shutil.which(tool):
            skip("%s is not installed" % tool)
            continue
        if prepare and run(prepare, cwd=d, what="prepare %s" % name).returncode != 0:
            continue
        program = os.path.join(d, "embedded-" + re.sub(r"\W+", "-", name))
        if run(base + args + ["-o", program] + libs, cwd=d, what="compile the %s recipe" % name).returncode != 0:
            continue
        for q in ("restless legs", "xyzzy-nothing"):
            want = lode_search_answers(bundle, q)
            r = run([program, q], cwd=TMP)
            got = (r.returncode, r.stdout.decode())
            expect = (want[0], "%s:%d\n" % want[1][0][:2] if want[1] else "")
            check(got == expect, "the %s recipe answers %r: %r, not %r %r" % (name, q, got, expect, r.stderr))


def main():
    tests = [(n, f) for n, f in sorted(globals().items()) if n.startswith("test_") and callable(f)]
    only = sys.argv[1] if len(sys.argv) > 1 else None
    try:
        if not install():
            return 1
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
    finally:
        shutil.rmtree(TMP, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
