#!/usr/bin/env bash
# run-all.sh HOST_TEST... : what `make test` runs.
#   1. the host unit tests (cmocka, TAP),
#   2. the kernel self tests under QEMU (KTAP),
#   3. the runner's own checks: boots that must fail, and fail the right way,
# then one closing line: "N passed, N failed".
set -uo pipefail
BUILD=${BUILD:-build}
pass=0 fail=0

tally() {   # tally LOG: adds the "N passed, N failed" line found in LOG
  local line
  line=$(grep -aE '^[a-z]*:? ?[0-9]+ passed, [0-9]+ failed' "$1" | tail -n 1)
  if [ -z "$line" ]; then fail=$((fail + 1)); return; fi
  pass=$((pass + $(grep -oE '[0-9]+ passed' <<<"$line" | grep -oE '[0-9]+')))
  fail=$((fail + $(grep -oE '[0-9]+ failed' <<<"$line" | grep -oE '[0-9]+')))
}

echo "== host unit tests"
tests/run-host.sh "$@" | tee "$BUILD/host-tests.log"
tally "$BUILD/host-tests.log"

echo "== kernel self tests (QEMU + OVMF)"
if tests/run-kernel.sh test; then
  tally <(tr -d '\r' < "$BUILD/serial-test.log")
else
  tally <(tr -d '\r' < "$BUILD/serial-test.log")
  # The kernel's own line may say 0 failed if it died before finishing.
  grep -aq ' passed, 0 failed' "$BUILD/serial-test.log" && fail=$((fail + 1))
fi

echo "== runner checks"
n=0
check() {   # check NAME EXPECTED-VERDICT LOG-PATTERN... -- ARGS for run-kernel.sh
  local name=$1 verdict=$2; shift 2
  local patterns=()
  while [ "$1" != -- ]; do patterns+=("$1"); shift; done; shift
  local out ok=1
  out=$(QUIET=1 TAG=$name TIMEOUT=60 tests/run-kernel.sh "$@" 2>&1 < /dev/null)
  grep -q -- "$verdict" <<<"$out" || ok=0
  for p in "${patterns[@]}"; do grep -aq -- "$p" "$BUILD/serial-$name.log" || ok=0; done
  n=$((n + 1))
  if [ $ok = 1 ]; then echo "ok $n $name"; pass=$((pass + 1))
  else echo "not ok $n $name # got: $(head -n 1 <<<"$out")"; fail=$((fail + 1)); fi
}
head -c 4096 /dev/urandom > "$BUILD/garbage.elf"
check panic_outside_a_test_dumps_registers "kernel panic" \
  "PANIC: unexpected exception #PF" "CR2=0x000000000dead000" "RIP=0xffffffff8" "backtrace:" \
  -- run crash=pf
check invalid_opcode_outside_a_test_panics "kernel panic" "#UD invalid opcode" -- run crash=ud
KERNEL=$BUILD/garbage.elf check bad_kernel_file_is_refused "loader refused" \
  "loader: bad kernel" -- run
# make debug: QEMU waits for gdb; gdb (batch) connects and lets it run the
# tour; a passing kernel is exit status 0, and the firmware's screen escapes
# stay off the terminal.
debug_check() {
  local out rc why= gdbout
  if ! command -v gdb > /dev/null; then
    n=$((n + 1)); echo "not ok $n make_debug_exits_0_when_the_kernel_passes # gdb is not installed"
    fail=$((fail + 1)); return
  fi
  DEBUG_MODE=run TAG=debug tests/run-kernel.sh debug > "$BUILD/debug-check.out" 2>&1 < /dev/null &
  local pid=$!
  for _ in $(seq 50); do ss -ltn 2> /dev/null | grep -q ':1234 ' && break; sleep 0.2; done
  gdbout=$(timeout 60 gdb -batch -nx -ex 'target remote localhost:1234' -ex continue 2>&1)
  wait $pid; rc=$?
  out=$(cat "$BUILD/debug-check.out")
  [ $rc = 0 ] || why="run-kernel.sh debug exited $rc: $(tail -n 1 <<<"$out")"
  [ -n "$why" ] || ! grep -q $'\e' <<<"$out" || why="escape codes reached the terminal"
  [ -n "$why" ] || grep -q "demo: every step" <<<"$out" || why="the tour did not run (gdb: $(tail -n 1 <<<"$gdbout"))"
  n=$((n + 1))
  if [ -z "$why" ]; then echo "ok $n make_debug_exits_0_when_the_kernel_passes"; pass=$((pass + 1))
  else echo "not ok $n make_debug_exits_0_when_the_kernel_passes # $why"; fail=$((fail + 1)); fi
}
debug_check
script_check() {   # script_check NAME SCRIPT [ARG]: passes when SCRIPT prints nothing and exits 0
  local name=$1 why
  shift
  why=$("$@" 2>&1) || [ -n "$why" ] || why="$1 exited non-zero"
  n=$((n + 1))
  if [ -z "$why" ]; then echo "ok $n $name"; pass=$((pass + 1))
  else echo "not ok $n $name # $why"; fail=$((fail + 1)); fi
}
# An interactive `make run` whose terminal, runner or make goes away leaves no QEMU.
script_check closed_terminal_ends_qemu_of_make_run tests/check-hangup.sh terminal
script_check hangup_of_the_runner_ends_qemu tests/check-hangup.sh runner
script_check sigterm_to_make_run_ends_qemu tests/check-hangup.sh make
# make install, then the README's hello.c built with pkg-config against it.
script_check readme_program_builds_against_make_install tests/check-install.sh
# The console, driven through the serial port by a script: one boot, a check per rule.
tests/console/test_console.sh "$n" | tee "$BUILD/console-tests.log"
tally "$BUILD/console-tests.log"

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
