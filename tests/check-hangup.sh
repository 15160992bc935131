#!/usr/bin/env bash
# check-hangup.sh WHO: an interactive `make run` that loses its terminal, or
# its runner, must not leave QEMU running.  A runner check (run-all.sh).
#
# `make run` starts on a pseudo-terminal (script) in a new session (setsid),
# make its session leader as under `ssh -t host make run`, so it opens the
# console on the terminal.  Once QEMU runs, WHO goes away:
#   terminal  the terminal closes: script is killed, its pty hangs up (make,
#             the session leader, gets SIGHUP and waits for its children)
#   runner    tests/run-kernel.sh gets SIGHUP
#   make      make gets SIGTERM (it passes SIGTERM on to the runner)
# then, within 5 s, no process may have this boot's image on its command line.
# Prints nothing and exits 0, or prints why and exits 1.
# Environment: BUILD (build).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-build}
who=${1:?usage: check-hangup.sh terminal|runner|make}
tag=hangup-$who
pidfile=$BUILD/qemu-$tag.pid

# The processes whose command line names this boot's image ("[.]": not this grep).
qemus() { grep -lsa -- "esp-$tag[.]img" /proc/[0-9]*/cmdline | cut -d/ -f3; }
ppid_of() { awk '{ print $4 }' "/proc/$1/stat" 2> /dev/null; }

rm -f "$pidfile"
TAG=$tag setsid script -qfec "env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS make --no-print-directory run" \
  /dev/null > "$BUILD/$tag.out" 2>&1 < /dev/null &
term=$!
for _ in $(seq 150); do [ -s "$pidfile" ] && break; sleep 0.2; done
qemu=$(cat "$pidfile" 2> /dev/null)
if [ -z "$qemu" ]; then
  { kill -KILL $term; wait $term; } 2> /dev/null
  sleep 1; left=$(qemus); [ -z "$left" ] || kill -TERM $left
  echo "no QEMU pid file (see $BUILD/$tag.out)"; exit 1
fi
sleep 1
runner=$(ppid_of "$qemu")
case $who in
  terminal) kill -KILL $term; wait $term 2> /dev/null ;;
  runner)   kill -HUP "$runner" ;;
  make)     kill -TERM "$(ppid_of "$runner")" ;;
esac
for _ in $(seq 20); do [ -z "$(qemus)" ] && break; sleep 0.25; done
left=$(qemus)
kill -KILL $term 2> /dev/null; wait $term 2> /dev/null
[ -z "$left" ] && exit 0
echo "QEMU (pid $left) still runs 5 s after the $who went away"
kill -TERM $left 2> /dev/null
exit 1
