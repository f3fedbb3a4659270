#!/bin/sh
# make bench: build the floor program, then print every benchmark figure.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=$top/${BUILD:-build}
cc -O2 -o "$build/bench-floor" "$top/bench/floor.c" $(pkg-config --cflags --libs sqlite3)
exec python3 "$top/bench/bench.py" "$@"
