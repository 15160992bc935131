#!/usr/bin/env bash
# run-all.sh HOST_TEST... : what `make test` runs.
#   1. the host unit tests (cmocka, TAP),
#   2. the kernel self tests under QEMU (KTAP): x86-64, then AArch64 on a
#      CPU with hardware Access flag and dirty state (-cpu max) and on one
#      without (-cpu cortex-a72),
#   3. the runner's own checks: boots that must fail, and fail the right way,
#      make debug, make run losing its terminal, make install, the console,
#      and last the check of build/test-results.xml,
# then one closing line: "N passed, N failed".  Every test is also recorded
# (tests/results.sh) and build/test-results.xml, JUnit XML, has them all:
# as many <testcase> as the closing line counts.
set -uo pipefail
BUILD=${BUILD:-build}
. tests/results.sh
export RESULTS=$BUILD/test-results.tsv
: > "$RESULTS"
pass=0 fail=0

tally() {   # tally LOG SUITE: adds the "N passed, N failed" line found in LOG
  local line
  line=$(grep -aE '^[a-z]*:? ?[0-9]+ passed, [0-9]+ failed' "$1" | tail -n 1)
  if [ -z "$line" ]; then
    fail=$((fail + 1))
    result_record "$2" did_not_finish fail 0 "no \"N passed, N failed\" line in $1"
    return
  fi
  pass=$((pass + $(grep -oE '[0-9]+ passed' <<<"$line" | grep -oE '[0-9]+')))
  fail=$((fail + $(grep -oE '[0-9]+ failed' <<<"$line" | grep -oE '[0-9]+')))
}

echo "== host unit tests"
tests/run-host.sh "$@" | tee "$BUILD/host-tests.log"
tally "$BUILD/host-tests.log" host

# The kernel's KTAP lines as records: "ok N name # time=T ms" and
# "not ok N name # time=T ms: reason".
kernel_records() {   # kernel_records LOG SUITE
  awk -v suite="$2" '/^(not )?ok [0-9]+ / {
         ok = $1 == "ok"; name = ok ? $3 : $4; rest = $0
         ms = 0; if (match(rest, / # time=[0-9]+ ms/)) {
           ms = substr(rest, RSTART + 8, RLENGTH - 11) + 0; rest = substr(rest, RSTART + RLENGTH) }
         else if (match(rest, / # /)) rest = substr(rest, RSTART); else rest = ""
         sub(/^(: | # )/, "", rest); gsub(/\t/, " ", rest)
         printf "%s\t%s\t%s\t%.3f\t%s\n", suite, name, ok ? "ok" : "fail", ms / 1000, ok ? "" : rest
       }' "$1" >> "$RESULTS"
}

# One boot of the kernel's self tests: shown, tallied, recorded as SUITE.
# ARCH and the tag choose the build and the logs; QEMU_EXTRA the CPU.
kernel_suite() {   # kernel_suite ARCH TAG SUITE [QEMU_EXTRA]
  local arch=$1 tag=$2 suite=$3 b=$BUILD krc verdict log
  [ "$arch" = aarch64 ] && b=$BUILD/aarch64
  log=$b/kernel-tests-$tag.log
  ARCH=$arch BUILD=$b TAG=$tag QEMU_EXTRA=${4:-} tests/run-kernel.sh test | tee "$b/kernel-verdict-$tag.log"
  krc=${PIPESTATUS[0]}
  tr -d '\r' < "$b/serial-$tag.log" > "$log"
  kernel_records "$log" "$suite"
  verdict=$(grep '^qemu:' "$b/kernel-verdict-$tag.log" | head -n 1)
  if ! grep -aqE '^[0-9]+ passed, [0-9]+ failed' "$log"; then
    # It died before its closing line: what ran counts, and the end is a failure.
    pass=$((pass + $(grep -acE '^ok [0-9]+ ' "$log")))
    fail=$((fail + $(grep -acE '^not ok [0-9]+ ' "$log") + 1))
    result_record "$suite" did_not_finish fail 0 "$verdict"
  else
    tally "$log" "$suite"
    # The kernel's own line may say 0 failed though the boot did not end well.
    if [ "$krc" != 0 ] && grep -aq ' passed, 0 failed' "$log"; then
      fail=$((fail + 1)); result_record "$suite" exit_status fail 0 "$verdict"
    fi
  fi
}
# Every serial log of the kernel suites (the quiet checks read them all).
kernel_logs=("$BUILD/kernel-tests-test.log" "$BUILD/aarch64/kernel-tests-test.log"
             "$BUILD/aarch64/kernel-tests-test-a72.log")

echo "== kernel self tests (QEMU + OVMF)"
kernel_suite x86_64 test kernel
echo "== kernel self tests, AArch64 (QEMU -M virt -cpu max + AAVMF: hardware Access flag and dirty state)"
kernel_suite aarch64 test kernel_aarch64
# The second AArch64 boot checks the other way to keep Access flag and dirty
# state; 2 CPUs are enough for its races and keep make test well under 5 min.
echo "== kernel self tests, AArch64 without FEAT_HAFDBS (-cpu cortex-a72 -smp 2: hostmem's fault path keeps them)"
SMP=2 kernel_suite aarch64 test-a72 kernel_aarch64_a72 "-cpu cortex-a72"

echo "== runner checks"
n=0
runner_result() {   # runner_result NAME START WHY: prints, counts and records; passes when WHY is empty
  n=$((n + 1))
  if [ -z "$3" ]; then echo "ok $n $1"; pass=$((pass + 1))
  else echo "not ok $n $1 # $3"; fail=$((fail + 1)); fi
  result_record runner "$1" "$([ -z "$3" ] && echo ok || echo fail)" "$(results_since "$2")" "$3"
}
check() {   # check NAME EXPECTED-VERDICT LOG-PATTERN... -- ARGS for run-kernel.sh
  local name=$1 verdict=$2; shift 2
  local patterns=()
  while [ "$1" != -- ]; do patterns+=("$1"); shift; done; shift
  local out ok=1 start
  start=$(results_now)
  out=$(QUIET=1 TAG=$name TIMEOUT=60 tests/run-kernel.sh "$@" 2>&1 < /dev/null)
  grep -q -- "$verdict" <<<"$out" || ok=0
  for p in "${patterns[@]}"; do grep -aq -- "$p" "$BUILD/serial-$name.log" || ok=0; done
  runner_result "$name" "$start" "$([ $ok = 1 ] || echo "got: $(head -n 1 <<<"$out")")"
}
garbage=$BUILD/garbage.elf
head -c 4096 /dev/urandom > "$garbage"
check panic_outside_a_test_dumps_registers "kernel panic" \
  "PANIC: unexpected exception #PF" "CR2=0x000000000dead000" "RIP=0xffffffff8" "backtrace:" \
  -- run crash=pf
check invalid_opcode_outside_a_test_panics "kernel panic" "#UD invalid opcode" -- run crash=ud
KERNEL=$garbage check bad_kernel_file_is_refused "loader refused" \
  "loader: bad kernel" -- run
# The same three on AArch64: its register dump, its undefined instruction,
# its loader.
ARCH=aarch64 BUILD=$BUILD/aarch64 check aarch64_panic_outside_a_test_dumps_registers "kernel panic" \
  "PANIC: unexpected exception sync: data abort" "FAR=0x000000000dead000" "ELR=0xffffffff8" \
  "X30=0x" "backtrace:" -- run crash=pf
ARCH=aarch64 BUILD=$BUILD/aarch64 check aarch64_undefined_instruction_outside_a_test_panics \
  "kernel panic" "undefined instruction (EC 0x00)" -- run crash=ud
ARCH=aarch64 BUILD=$BUILD/aarch64 KERNEL=$garbage check aarch64_bad_kernel_file_is_refused \
  "loader refused" "loader: bad kernel" -- run
# make debug: QEMU waits for gdb; gdb (batch) connects and lets it run the
# tour; a passing kernel is exit status 0, and the firmware's screen escapes
# stay off the terminal.
# GDB-SAYS is what gdb must print (empty: anything): the AArch64 kernel is
# debugged with gdb-multiarch and scripts/gdbinit-aarch64, which must stop
# at kmain, so its symbols and a hardware breakpoint work.
debug_check() {   # debug_check NAME GDB-SAYS GDB [GDB-ARGS...]; ARCH, BUILD: which kernel
  local name=$1 says=$2 gdb=$3 out rc why= gdbout start
  shift 3
  start=$(results_now)
  if ! command -v "$gdb" > /dev/null; then
    runner_result "$name" "$start" "$gdb is not installed"
    return
  fi
  DEBUG_MODE=run TAG=debug tests/run-kernel.sh debug > "$BUILD/debug-check.out" 2>&1 < /dev/null &
  local pid=$!
  for _ in $(seq 50); do ss -ltn 2> /dev/null | grep -q ':1234 ' && break; sleep 0.2; done
  gdbout=$(timeout 60 "$gdb" -batch -nx "$@" -ex continue 2>&1)
  wait $pid; rc=$?
  out=$(cat "$BUILD/debug-check.out")
  [ $rc = 0 ] || why="run-kernel.sh debug exited $rc: $(tail -n 1 <<<"$out")"
  [ -n "$why" ] || ! grep -q $'\e' <<<"$out" || why="escape codes reached the terminal"
  [ -n "$why" ] || grep -q "demo: every step" <<<"$out" || why="the tour did not run (gdb: $(tail -n 1 <<<"$gdbout"))"
  [ -n "$why" ] || grep -q "$says" <<<"$gdbout" || why="gdb did not say \"$says\": $(tail -n 1 <<<"$gdbout")"
  runner_result "$name" "$start" "$why"
}
debug_check make_debug_exits_0_when_the_kernel_passes "" gdb -ex 'target remote localhost:1234'
ARCH=aarch64 BUILD=$BUILD/aarch64 debug_check aarch64_make_debug_stops_at_kmain_and_passes \
  "Breakpoint 1, kmain" gdb-multiarch -x scripts/gdbinit-aarch64
# A passing run does not look alarming: what the manager logs about errors a
# test provokes is marked (host: counted in "# expected:" lines; kernel:
# "expected: hostmem: ..."), and a kernel test that runs for seconds says how
# far it got every few seconds.
quiet_check() {
  local why= serial slow t start
  start=$(results_now)
  serial=$(cat "${kernel_logs[@]}" 2> /dev/null)
  grep -q '^hostmem:' "$BUILD/host-tests.log" && why="host: $(grep -m1 '^hostmem:' "$BUILD/host-tests.log")"
  [ -n "$why" ] || ! grep -q '^hostmem:' <<<"$serial" || why="kernel: $(grep -m1 '^hostmem:' <<<"$serial")"
  runner_result passing_run_marks_the_errors_it_provokes "$start" "${why:+unmarked: $why}"
  why= start=$(results_now)
  slow=$(sed -nE 's/^# ([a-z0-9_]+) took ([0-9]+) ms$/\1 \2/p' <<<"$serial" | awk '$2 >= 5000 { print $1 }')
  for t in $slow; do
    grep -q "^# $t: [0-9]* operations done" <<<"$serial" || { why="$t ran 5 s or more with no progress line"; break; }
  done
  runner_result long_kernel_tests_show_progress "$start" "$why"
}
quiet_check
script_check() {   # script_check NAME SCRIPT [ARG]: passes when SCRIPT prints nothing and exits 0
  local name=$1 why start
  shift
  start=$(results_now)
  why=$("$@" 2>&1) || [ -n "$why" ] || why="$1 exited non-zero"
  runner_result "$name" "$start" "$why"
}
# An interactive `make run` whose terminal, runner or make goes away leaves no QEMU.
script_check closed_terminal_ends_qemu_of_make_run tests/check-hangup.sh terminal
script_check hangup_of_the_runner_ends_qemu tests/check-hangup.sh runner
script_check sigterm_to_make_run_ends_qemu tests/check-hangup.sh make
# make install, then the README's hello.c built with pkg-config against it.
script_check readme_program_builds_against_make_install tests/check-install.sh
# README's performance figures are the last make bench run's, untouched.
script_check readme_figures_are_the_last_bench_run tests/bench/readme.sh --check
# The console, driven through the serial port by a script: one boot, a check per rule.
tests/console/test_console.sh "$n" | tee "$BUILD/console-tests.log"
tally "$BUILD/console-tests.log" console
n=$((n + $(grep -cE '^(not )?ok [0-9]+ ' "$BUILD/console-tests.log")))   # its checks follow ours
# The same session on the AArch64 kernel.
ARCH=aarch64 BUILD=$BUILD/aarch64 SUITE=console_aarch64 tests/console/test_console.sh "$n" |
  tee "$BUILD/aarch64/console-tests.log"
tally "$BUILD/aarch64/console-tests.log" console_aarch64
n=$((n + $(grep -cE '^(not )?ok [0-9]+ ' "$BUILD/aarch64/console-tests.log")))

# build/test-results.xml: well-formed (xmllint), and as many test cases and
# failures as the closing line will count before this check.  Then written
# again with this check in it.
xml=$BUILD/test-results.xml
xml_check() {
  local why= start cases failures
  start=$(results_now)
  results_junit "$RESULTS" > "$xml"
  if ! command -v xmllint > /dev/null; then why="xmllint is not installed"
  elif why=$(xmllint --noout "$xml" 2>&1); then why=
  else why="not well-formed: $(head -n 1 <<<"$why")"; fi
  if [ -z "$why" ]; then
    cases=$(xmllint --xpath 'count(//testcase)' "$xml")
    failures=$(xmllint --xpath 'count(//testcase[failure])' "$xml")
    [ "$cases" = $((pass + fail)) ] || why="$cases test cases for $((pass + fail)) tests"
    [ -n "$why" ] || [ "$failures" = "$fail" ] || why="$failures failures for $fail failed"
  fi
  runner_result test_results_xml_is_junit_with_every_test "$start" "$why"
}
xml_check
results_junit "$RESULTS" > "$xml"
echo "results: $xml ($((pass + fail)) test cases, JUnit XML)"

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
