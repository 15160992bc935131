#!/usr/bin/env bash
# check-install.sh: `make install` gives a hosting author a library that
# works.  A runner check (run-all.sh).
#
# Installs into a fresh PREFIX, takes hello.c from README.md (the C block
# after the "<!-- hello.c" marker: the README and the check cannot drift),
# compiles it with `pkg-config --cflags --libs hostmem` and nothing else,
# runs it, and checks it prints the line the README shows.  Prints nothing and exits 0, or
# prints why and exits 1.  Environment: BUILD (build).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-build}
dir=$BUILD/install-check
rm -rf "$dir" && mkdir -p "$dir" || exit 1
prefix=$(cd "$dir" && pwd)/prefix

awk '/^<!-- hello\.c/ { on = 1; next } on && /^```c$/ { body = 1; next }
     body && /^```$/ { exit } body' README.md > "$dir/hello.c"
[ -s "$dir/hello.c" ] || { echo "README.md has no hello.c block"; exit 1; }
out=$(env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS make --no-print-directory install \
      PREFIX="$prefix" 2>&1) || { echo "make install failed: $(tail -n 1 <<<"$out")"; exit 1; }
flags=$(PKG_CONFIG_PATH=$prefix/lib/pkgconfig pkg-config --cflags --libs hostmem 2>&1) ||
  { echo "pkg-config: $flags"; exit 1; }
# Only the installed copy may be used: compiled away from the tree.
out=$(cd "$dir" && cc -Wall -Werror hello.c $flags -o hello 2>&1) ||
  { echo "hello.c does not compile: $(head -n 1 <<<"$out")"; exit 1; }
out=$("$dir/hello" 2>&1) || { echo "hello exited with status $?: $out"; exit 1; }
# The line README.md shows under ./hello.
grep -qxF -- "$out" README.md && grep -q '^VirtualAlloc: S_OK at' <<<"$out" ||
  { echo "hello printed \"$out\", not the README's line"; exit 1; }
