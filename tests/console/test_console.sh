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
# Environment: ARCH (x86_64; aarch64 with BUILD=build/aarch64), BUILD (build),
# TIMEOUT seconds for the boot (60), RESULTS (a file: a record per check,
# tests/results.sh), SUITE (console: the records' suite name).
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
. tests/results.sh
BUILD=${BUILD:-build}
suite=${SUITE:-console}
n=${1:-0} pass=0 fail=0
last=$(results_now)   # a check's time: since the previous one (the first: the boot)
script=$BUILD/console-session.hm
log=$BUILD/serial-console.log

{ cat tests/console/session.hm tests/console/map.hm
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
  result_record "$suite" "$1" "$([ -z "$2" ] && echo ok || echo fail)" "$(results_since "$last")" "$2"
  last=$(results_now)
}

output() {   # output COMMAND: what it printed ('*': the whole transcript)
  if [ "$1" = '*' ]; then echo "$transcript"; return; fi
  # The prompt is "hm> ", or "hm(unusable)> " once the manager is unusable.
  awk -v cmd="$1" '/^hm(\(unusable\))?> / { on = substr($0, index($0, "> ") + 2) == cmd; next } on' \
    <<<"$transcript"
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

check_not() {  # check_not NAME COMMAND TEXT...: COMMAND printed no TEXT
  local name=$1 cmd=$2 out t why=
  shift 2
  out=$(output "$cmd")
  [ -n "$out" ] || why="\"$cmd\" printed nothing"
  for t in "$@"; do
    [ -z "$why" ] || break
    ! grep -qF -- "$t" <<<"$out" || why="\"$cmd\" printed \"$t\""
  done
  result "$name" "$why"
}

check_order() {  # check_order NAME COMMAND FIRST NEXT: NEXT is the line right after FIRST
  local next
  next=$(output "$2" | grep -F -A1 -- "$3" | sed -n 2p)
  result "$1" "$(grep -qF -- "$4" <<<"$next" || echo "after \"$3\" came \"$next\", not \"$4\"")"
}

check console_opens_after_the_boot_report '*' "commit: limit=" "hostmem console:" "hm> "
u='[0-9.]+ [KMGT]iB'
result boot_report_separates_reserved_ram_from_devices "$(grep -qE \
  "^memory map: .*RAM $u: usable $u in .*firmware-reserved $u; device ranges \(MMIO, not RAM\) $u\$" \
  <<<"$transcript" || echo "no memory map line with RAM, firmware-reserved and device ranges in units")"
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
check prompt_says_the_manager_is_unusable '*' "hm(unusable)> demo"
check_order demo_notification_follows_its_call 'demo' "VirtualAlloc(NULL, all but 5% of RAM" \
  ">> OnMemoryNotification(eMemoryAvailableLow)"
check big_sizes_read_in_big_units 'query 0x100000000000' "RegionSize" " TiB)"
check refused_commit_names_the_reserve 'alloc 240M' "E_OUTOFMEMORY (0x8007000e)" \
  "refused: would leave less than the task-critical reserve of " "; available "
check release_inside_is_invalid_address 'release $+4K' \
  "HRESULT_FROM_WIN32(ERROR_INVALID_ADDRESS) (0x800701e7)"
check writecopy_is_invalidarg 'alloc 64K wcopy' "PAGE_WRITECOPY) -> E_INVALIDARG (0x80070057)"
check map_walks_the_address_space 'map' "AllocationBase" "reservation  MEM_PRIVATE" \
  "MEM_COMMIT   MEM_PRIVATE  PAGE_EXECUTE_READ" "MEM_RESERVE" "MEM_FREE" "regions in 2 reservations"
# The map of tests/console/map.hm's reservation at 0x40000000: 256 KiB of its
# 1 MiB committed, two touches (each maps a 64 KiB cluster), 8 KiB of guard.
rows() {     # rows COMMAND: the map's rows, spaces squeezed
  output "$1" | grep -E '^ +0x' | tr -s ' ' | sed 's/^ //'
}
check_rows() {   # check_rows NAME COMMAND ROW...: COMMAND printed every ROW
  local name=$1 out r why=
  out=$(rows "$2"); shift 2
  for r in "$@"; do grep -qxF -- "$r" <<<"$out" || { why="no row \"$r\""; break; }; done
  result "$name" "$why"
}
check_rows map_counts_committed_and_resident_pages 'map text' \
  "0x0000000040000000 1 MiB reservation MEM_PRIVATE PAGE_READWRITE 0x0000000040000000 64 32" \
  "0x0000000040000000 64 KiB MEM_COMMIT MEM_PRIVATE PAGE_READWRITE 0x0000000040000000 16 16" \
  "0x0000000040010000 8 KiB MEM_COMMIT MEM_PRIVATE PAGE_READWRITE|PAGE_GUARD 0x0000000040000000 2 0" \
  "0x0000000040012000 184 KiB MEM_COMMIT MEM_PRIVATE PAGE_READWRITE 0x0000000040000000 46 16" \
  "0x0000000040040000 768 KiB MEM_RESERVE MEM_PRIVATE 0 0x0000000040000000 0 0" \
  "0x0000000040200000 64 KiB MEM_COMMIT MEM_PRIVATE PAGE_EXECUTE_READ 0x0000000040200000 16 16"
check map_groups_regions_under_their_reservation 'map text' \
  "  0x0000000040000000   1 MiB " "    0x0000000040010000 8 KiB " "  0x0000000040100000   1 MiB "
# Each format's rows as "kind base committed resident"; the three must agree.
text_keys() {
  rows 'map text' | while read -r a _ _ state rest; do
    kind=free; [ "$state" = reservation ] && kind=reservation
    output 'map text' | grep -q "^    $a " && [ "$state" != reservation ] && kind=region
    set -- $rest; c=${*: -2:1} r=${*: -1}
    echo "$kind $((a)) ${c/-/0} ${r/-/0}"
  done
}
json_keys() { output 'map json' | jq -r '.rows[] | "\(.row) \(.base) \(.committed_pages) \(.resident_pages)"'; }
csv_keys() { output 'map csv' | tail -n +2 | awk -F, '{ print $1, $2, $9, $10 }'; }
why=
output 'map json' | jq -e . > /dev/null 2>&1 || why="not valid JSON (jq)"
[ -n "$why" ] || [ "$(output 'map json' | jq '.rows[] | select(.base == 1073741824 and .row == "reservation") | [.committed_pages, .resident_pages] | @csv')" = '"64,32"' ] ||
  why="the reservation at 0x40000000 is not 64 committed, 32 resident"
[ -n "$why" ] || [ "$(json_keys)" = "$(text_keys)" ] || why="its rows differ from the text's"
result map_json_is_valid_and_has_the_texts_rows "$why"
why=
[ "$(output 'map csv' | head -n 1)" = "row,base,size,state,type,protect,allocation_base,allocation_protect,committed_pages,resident_pages" ] ||
  why="no header line"
[ -n "$why" ] || grep -qxF "region,1073807360,8192,MEM_COMMIT,MEM_PRIVATE,PAGE_READWRITE|PAGE_GUARD,1073741824,PAGE_READWRITE,2,0" <<<"$(output 'map csv')" ||
  why="no row for the guard pages at 0x40010000"
[ -n "$why" ] || [ "$(csv_keys)" = "$(text_keys)" ] || why="its rows differ from the text's"
result map_csv_has_a_header_and_the_texts_rows "$why"
# make map's drawing (scripts/map-plot.sh), from this transcript's `map csv`.
why= png=$BUILD/map-check.png
rm -f "$png"
plot=$(scripts/map-plot.sh "$log" "$png" 2>&1) || why="map-plot.sh failed: $(tail -n 1 <<<"$plot")"
[ -n "$why" ] || [ "$(head -c 8 "$png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] || why="$png is not a PNG"
[ -n "$why" ] || [ "$(stat -c %s "$png")" -gt 1000 ] || why="$png is nearly empty"
[ -n "$why" ] || grep -q "4 reservation(s), 10 region(s)" <<<"$plot" || why="map-plot.sh drew: $plot"
result map_csv_draws_a_png "$why"
check query_shows_the_region 'query $' "-> S_OK" "State             MEM_RESERVE" \
  "RegionSize        0x100000 (1 MiB)"
check release_twice_is_invalidoperation 'release $+0' "HOST_E_INVALIDOPERATION (0x80131022)"
check missing_size_gets_usage 'reserve' "usage: reserve SIZE"
check missing_protection_gets_usage 'protect $ 4K' "usage: protect ADDR SIZE PROT"
check bad_number_gets_usage 'read $ lots' "usage: read ADDR [SIZE]" \
  'read: "lots" is not a number (e.g. 4096, 0x1000, 64K, 1M, $+8K)'
check dollar_before_any_base_is_named 'read $' \
  'read: "$": $ stands for the last base a command returned, and none has yet'
check bad_protection_is_named 'alloc 64K purple' \
  'alloc: "purple" is not a protection (one of: noaccess ro rw wcopy x rx rwx xwcopy guard' \
  'PAGE_* names' 'nor a flag (commit reserve' 'usage: alloc SIZE'
check bad_part_of_a_protection_is_named 'protect $ 4K rw+purple' \
  'protect: "purple" in "rw+purple" is not a protection (one of: '
check bad_flag_is_named 'reserve 1M rw topdwn' \
  'reserve: "topdwn" is not a flag (commit reserve decommit release reset topdown watch' \
  'or a level (task appdomain process)'
check bad_word_after_a_level_is_named 'alloc 64K rw task urgent' \
  'alloc: "urgent" is not a flag (' 'or a level (task appdomain process)'
check bad_level_is_named 'malloc 100 urgent' \
  'malloc: "urgent" is not exec, debug or a level (task appdomain process)'
check negative_size_is_named 'reserve -1' 'reserve: "-1" is negative'
check fraction_is_named_with_the_whole_size 'reserve 1.5M' \
  'reserve: "1.5M" is not a whole number: 1536K'
check overflowing_size_is_named 'reserve 99999999T' 'reserve: "99999999T" is more than 64 bits hold'
check size_above_the_address_space_is_said 'reserve 200T' \
  "200 TiB is more than the whole address space (127.9 TiB)"
check extra_word_is_named 'query $ extra' 'query: "extra" is one word too many' 'usage: query ADDR'
check help_names_the_nearest_command 'help touch' \
  'help: there is no command "touch"; the nearest is "watch"'
check help_command_prints_its_help 'help protect' "usage: protect ADDR SIZE PROT"
check_not help_command_prints_only_its_help 'help protect' "reserve" "address space (" "SIZE:"
check unknown_command_is_named 'frobnicate' 'unknown command "frobnicate" (`help` lists them all)'
check unknown_command_suggests_a_near_one 'reserv' 'unknown command "reserv"; the nearest is "reserve"'
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
