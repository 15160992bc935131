#!/usr/bin/env bash
# test_console.sh [N]: the console, driven through QEMU's serial port.
#
# One boot, as `make run SCRIPT=file` does it: tests/console/session.hm is
# typed into the console, then a few lines using the editing keys (backspace,
# left arrow, up arrow), then `quit`.  Each check is one rule of the console,
# read from the transcript (build/serial-console.log): mostly the output of
# one command, i.e. the lines after its echoed "hm> COMMAND".
#
# Prints "ok N name" or "not ok N name # why", numbered after N (0), then
# "console: P passed, F failed"; exits non-zero when a check failed.
# Environment: BUILD (build), TIMEOUT seconds for the boot (60), RESULTS (a
# file: a record per check, tests/results.sh).
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
. tests/results.sh
BUILD=${BUILD:-build}
n=${1:-0} pass=0 fail=0
last=$(results_now)   # a check's time: since the previous one (the first: the boot)
script=$BUILD/console-session.hm
log=$BUILD/serial-console.log

{ cat tests/console/session.hm
  printf 'reserve 2MX\177\n'                        # backspace: reserve 2M
  printf 'vrify\033[D\033[D\033[D\033[De\n'         # left arrow x4, then insert: verify
  printf 'load\n\033[A\n'                           # up arrow: load again
  printf 'write $ "%0200d"\n' 0                    # over-long: refused, not cut and run
  printf 'query 0x100000000000\n'                   # a free region of about 112 TiB
  printf 'alloc 4G rw process\ndemo\n'              # the manager dies; the demo says so
  printf 'quit\n'
} > "$script"
verdict=$(SCRIPT=$script QUIET=1 TAG=console TIMEOUT=${TIMEOUT:-60} tests/run-kernel.sh run 2>&1 < /dev/null)
transcript=$(tr -d '\r' < "$log" 2> /dev/null)

result() {   # result NAME WHY: passes when WHY is empty; recorded (tests/results.sh)
  n=$((n + 1))
  if [ -z "$2" ]; then echo "ok $n $1"; pass=$((pass + 1))
  else echo "not ok $n $1 # $2"; fail=$((fail + 1)); fi
  result_record console "$1" "$([ -z "$2" ] && echo ok || echo fail)" "$(results_since "$last")" "$2"
  last=$(results_now)
}

output() {   # output COMMAND: what it printed ('*': the whole transcript)
  if [ "$1" = '*' ]; then echo "$transcript"; return; fi
  awk -v cmd="hm> $1" '$0 == cmd { on = 1; next } /^hm> / { on = 0 } on' <<<"$transcript"
}

check() {    # check NAME COMMAND TEXT...: COMMAND printed every TEXT
  local name=$1 cmd=$2 out t why=
  shift 2
  out=$(output "$cmd")
  for t in "$@"; do
    grep -qF -- "$t" <<<"$out" || { why="\"$cmd\" did not print \"$t\""; break; }
  done
  result "$name" "$why"
}

check console_opens_after_the_boot_report '*' "commit: limit=" "hostmem console:" "hm> "
check alloc_reserves_and_commits 'alloc 64K' \
  "VirtualAlloc(NULL, 0x10000 (64 KiB), MEM_COMMIT|MEM_RESERVE, PAGE_READWRITE) -> S_OK (0x00000000)" \
  "*ppMem = 0x"
check written_bytes_read_back 'read $ 16' "-> ok" "|hello...........|"
check guard_page_faults_once 'read $+8K 4' "STATUS_GUARD_PAGE_VIOLATION (0x80000001)" "reading 0x"
check guard_is_gone_after_the_fault 'read $+8K 8' "-> ok"
check exec_from_readwrite_faults 'exec $' "STATUS_ACCESS_VIOLATION (0xc0000005)" "executing 0x"
check exec_of_a_ret_in_rx_returns 'exec $+4K' "-> ok"
check write_to_rx_faults 'write $+4K 90' "STATUS_ACCESS_VIOLATION (0xc0000005)" "writing 0x"
check overlong_line_is_refused_not_run '*' "line too long (max 159)"
check a_dead_manager_is_said_plainly 'alloc 4G rw process' "E_OUTOFMEMORY" \
  "the manager is now unusable" "HOST_E_CLRNOTAVAILABLE; quit and run again to start over"
check demo_on_a_dead_manager_prints_no_garbage 'demo' \
  "no counters: hostmem_get_stats -> HOST_E_CLRNOTAVAILABLE (the manager is unusable)"
check big_sizes_read_in_big_units 'query 0x100000000000' "RegionSize" " TiB)"
check refused_commit_names_the_reserve 'alloc 240M' "E_OUTOFMEMORY (0x8007000e)" \
  "refused: would leave less than the task-critical reserve of " "; available "
check release_inside_is_invalid_address 'release $+4K' \
  "HRESULT_FROM_WIN32(ERROR_INVALID_ADDRESS) (0x800701e7)"
check writecopy_is_invalidarg 'alloc 64K wcopy' "PAGE_WRITECOPY) -> E_INVALIDARG (0x80070057)"
check map_walks_the_address_space 'map' "BaseAddress" "MEM_COMMIT  PAGE_READWRITE" \
  "MEM_RESERVE 0" "MEM_FREE" "regions:"
check query_shows_the_region 'query $' "-> S_OK" "State             MEM_RESERVE" \
  "RegionSize        0x100000 (1 MiB)"
check release_twice_is_invalidoperation 'release $+0' "HOST_E_INVALIDOPERATION (0x80131022)"
check missing_size_gets_usage 'reserve' "usage: reserve SIZE"
check missing_protection_gets_usage 'protect $ 4K' "usage: protect ADDR SIZE PROT"
check bad_number_gets_usage 'read $ lots' "usage: read ADDR [SIZE]"
check unknown_command_is_named 'frobnicate' 'unknown command "frobnicate"'
check open_quote_is_refused 'write $ "open' "a quote is not closed"
check malloc_hands_out_a_block 'malloc 100' "CreateMalloc(MALLOC_THREADSAFE) -> S_OK" \
  "IHostMalloc::Alloc(0x64, eTaskCritical) -> S_OK"
check free_takes_it_back 'free $' "IHostMalloc::Free(0x" "-> S_OK"
check free_twice_is_invalidoperation 'free $+0' "HOST_E_INVALIDOPERATION (0x80131022)"
check write_watch_sees_the_written_pages 'watch $ 64K' "-> S_OK" "2 page(s) written"
check stats_shows_the_counters 'stats' "-> S_OK" "commit charge" "page tables" "reservations"
check backspace_edits_the_line '*' \
  "VirtualAlloc(NULL, 0x200000 (2 MiB), MEM_RESERVE, PAGE_READWRITE) -> S_OK"
check arrow_keys_move_the_cursor '*' "hostmem_verify -> S_OK (0x00000000)"
loads=$(grep -c '^GetMemoryLoad(&load, &available) -> S_OK' <<<"$transcript")
result up_arrow_recalls_the_last_line "$([ "$loads" = 2 ] || echo "GetMemoryLoad ran $loads times, not 2")"
why=
grep -q "exited normally" <<<"$verdict" || why="runner: $(head -n 1 <<<"$verdict")"
[ -n "$why" ] || grep -qx "bye" <<<"$transcript" || why="no \"bye\" after quit"
result quit_exits_qemu_cleanly "$why"

# A second boot: commands piped into `make run` (run-kernel.sh run, stdin a pipe).
verdict=$(printf 'stats\nquit\n' | QUIET=1 TAG=console-pipe TIMEOUT=${TIMEOUT:-60} \
          tests/run-kernel.sh run 2>&1)
piped=$(tr -d '\r' < "$BUILD/serial-console-pipe.log" 2> /dev/null)
why=
grep -q "exited normally" <<<"$verdict" || why="runner: $(head -n 1 <<<"$verdict")"
[ -n "$why" ] || grep -q "^hm> stats" <<<"$piped" || why="the piped \"stats\" did not run"
[ -n "$why" ] || grep -q "hostmem_get_stats" <<<"$piped" || why="no stats output"
result piped_input_runs_its_commands "$why"

echo "console: $pass passed, $fail failed"
[ $fail -eq 0 ]
