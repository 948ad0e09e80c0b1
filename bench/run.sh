#!/bin/sh
# Run every benchmark of bench/ in one invocation (see bench/README.md):
#   bench/run.sh BUILD_DIR [--big] [more options of bench/run.py]
# Installs what the harness needs with apt-get (as root, or through sudo),
# then runs bench/run.py with Debian's python3 (the one python3-xapian is for).
set -eu
if [ $# -lt 1 ]; then
    echo "usage: bench/run.sh BUILD_DIR [--big] [options of bench/run.py]" >&2
    exit 2
fi
build=$1
shift
here=$(cd "$(dirname "$0")" && pwd)
sudo=
[ "$(id -u)" -eq 0 ] || sudo=sudo
need=
for p in python3 python3-xapian sqlite3 ripgrep codesearch libclucene-dev g++ time linux-perf; do
    dpkg -s "$p" 2>/dev/null | grep -q '^Status: install ok installed' || need="$need $p"
done
if [ -n "$need" ]; then
    $sudo apt-get update -q
    $sudo apt-get install -y -q $need || echo "bench/run.sh: some packages did not install:$need" >&2
fi
exec /usr/bin/python3 "$here/run.py" --build "$build" "$@"
