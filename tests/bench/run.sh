#!/usr/bin/env bash
# run.sh [host] [kernel] : what `make bench` runs (both parts by default).
#
#   host    build/bench/bench_host: ns per operation, natively, hostmem and
#           the Linux way side by side; then the same loops under callgrind
#           for instructions per operation (one dump per loop).
#   kernel  the kernel's mode=bench under QEMU with -icount, where the TSC
#           counts instructions (the kernel checks it on a loop of known
#           length); then the AArch64 kernel's, where the virtual counter
#           does.  shift=7 rather than 0: the counts are the same (one
#           instruction = 128 TSC ticks, divided out in the report) and OVMF's
#           timed waits take 5 s of wall time instead of 50.
# Then report.awk prints the table and writes build/bench/results.csv,
# results.json and cost.png (gnuplot).
#
# The Linux side needs one VMA per live reservation, and vm.max_map_count
# (65530 by default) caps them below 100k.  As root, with the sysctl
# writable, it is raised to BENCH_MAP_COUNT (1100000) for the run and put
# back on exit; otherwise the Linux figures at 100k and 1M are measured at the
# cap and the table says so.
set -uo pipefail
BUILD=${BUILD:-build}
OUT=$BUILD/bench
MAPS=/proc/sys/vm/max_map_count
parts=${*:-host kernel}
mkdir -p "$OUT"

raise_map_count() {
  local want=${BENCH_MAP_COUNT:-1100000} old
  old=$(cat "$MAPS" 2>/dev/null) || return
  [ "$old" -ge "$want" ] && return
  if [ -w "$MAPS" ] && echo "$want" > "$MAPS" 2>/dev/null; then
    echo "bench: vm.max_map_count raised from $old to $want for the run (restored on exit)"
    trap "echo $old > $MAPS" EXIT
  else
    echo "bench: vm.max_map_count is $old: Linux figures past it are measured at the cap"
  fi
}

# One line per callgrind dump: op,live,instructions per operation.
parse_dumps() {
  for f in "$OUT"/callgrind/cg.*.*; do
    awk '/^desc: Trigger: Client Request: ir:/ { sub(/.*ir:/, ""); split($0, l, ":") }
         /^totals:/ { t = $2 }
         END { if (l[3] > 0) printf "%s,%s,%.1f\n", l[1], l[2], t / l[3] }' "$f"
  done | sort > "$OUT/host-ir.csv"
}

run_host() {
  echo "bench: host: ns per operation (median of 7 runs), hostmem and Linux"
  raise_map_count
  "$OUT/bench_host" time > "$OUT/host-time.csv" || { echo "bench: FAILED: bench_host time"; exit 1; }
  echo "bench: host: instructions per operation (valgrind --tool=callgrind)"
  rm -rf "$OUT/callgrind" && mkdir -p "$OUT/callgrind"
  valgrind --tool=callgrind --instr-atstart=no \
    --callgrind-out-file="$OUT/callgrind/cg.%p" "$OUT/bench_host" instr \
    > /dev/null 2> "$OUT/callgrind.log" || { echo "bench: FAILED: callgrind (see $OUT/callgrind.log)"; exit 1; }
  parse_dumps
}

run_kernel() {
  echo "bench: kernel: mode=bench under QEMU -icount"
  if ! SMP=1 QUIET=1 TAG=bench TIMEOUT=${TIMEOUT:-180} QEMU_EXTRA="-icount shift=7,sleep=off" \
       tests/run-kernel.sh bench; then
    grep -a '^bench: FAILED' "$BUILD/serial-bench.log" | tr -d '\r'
    exit 1
  fi
  grep -a '^bench: ' "$BUILD/serial-bench.log" | tr -d '\r' > "$OUT/kernel.txt"
  echo "bench: kernel: shootdown cost at -smp 4 (time, no -icount)"
  if ! SMP=4 QUIET=1 TAG=bench-smp TIMEOUT=${TIMEOUT:-180} tests/run-kernel.sh bench smp_bench=1; then
    grep -a '^bench: FAILED' "$BUILD/serial-bench-smp.log" | tr -d '\r'
    exit 1
  fi
  grep -a '^bench: smp_' "$BUILD/serial-bench-smp.log" | tr -d '\r' >> "$OUT/kernel.txt"
  echo "bench: kernel: shootdown cost at -smp 4 (instructions, -icount)"
  if ! SMP=4 QUIET=1 TAG=bench-smp-insn TIMEOUT=${TIMEOUT:-180} QEMU_EXTRA="-icount shift=7,sleep=off" \
       tests/run-kernel.sh bench smp_bench=2; then
    grep -a '^bench: FAILED' "$BUILD/serial-bench-smp-insn.log" | tr -d '\r'
    exit 1
  fi
  grep -a '^bench: smp_' "$BUILD/serial-bench-smp-insn.log" | tr -d '\r' >> "$OUT/kernel.txt"
  echo "bench: kernel (AArch64): mode=bench under QEMU -icount (-M virt -cpu max)"
  if ! ARCH=aarch64 BUILD=$BUILD/aarch64 SMP=1 QUIET=1 TAG=bench TIMEOUT=${TIMEOUT:-180} \
       QEMU_EXTRA="-icount shift=7,sleep=off" tests/run-kernel.sh bench; then
    grep -a '^bench: FAILED' "$BUILD/aarch64/serial-bench.log" | tr -d '\r'
    exit 1
  fi
  grep -a '^bench: ' "$BUILD/aarch64/serial-bench.log" | tr -d '\r' > "$OUT/kernel-aarch64.txt"
  echo "bench: kernel: boot to the first console prompt at 256 MiB, 4 GiB, 16 GiB (wall time)"
  for ram in 256 4096 16384; do boot_time $ram || exit 1; done
}

# Wall time from starting QEMU to the console's first "hm> " (firmware,
# loader, kernel, the frame records of all RAM), then quit.  As a user sees it.
boot_time() {   # RAM_MB
  local tag=boot-$1 t0 pid
  printf 'quit\n' > "$OUT/quit.hm"
  rm -f "$BUILD/serial-$tag.log"
  t0=$(date +%s%N)
  RAM_MB=$1 QUIET=1 TAG=$tag SCRIPT="$OUT/quit.hm" tests/run-kernel.sh run > /dev/null 2>&1 &
  pid=$!
  until grep -aqs 'hm> ' "$BUILD/serial-$tag.log"; do
    kill -0 $pid 2> /dev/null || { echo "bench: FAILED: no prompt at $1 MiB"; return 1; }
    sleep 0.05
  done
  echo "bench: boot_ms_$1 $(( ($(date +%s%N) - t0) / 1000000 )) ms" >> "$OUT/kernel.txt"
  wait $pid
}

for p in $parts; do
  case $p in
    host) run_host ;;
    kernel) run_kernel ;;
    *) echo "usage: run.sh [host] [kernel]" >&2; exit 2 ;;
  esac
done
for f in host-time.csv host-ir.csv kernel.txt kernel-aarch64.txt; do [ -e "$OUT/$f" ] || : > "$OUT/$f"; done
commit=$(git rev-parse --short HEAD 2> /dev/null || echo unknown)
git diff --quiet HEAD 2> /dev/null || commit="$commit + uncommitted changes"
machine="$(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1), $(uname -sr)"
awk -v out="$OUT" -v run_date="$(date -u '+%Y-%m-%d %H:%M UTC')" -v run_commit="$commit" \
  -v run_machine="$machine" -f tests/bench/report.awk \
  "$OUT/host-time.csv" "$OUT/host-ir.csv" "$OUT/kernel.txt" "$OUT/kernel-aarch64.txt" |
  tee "$OUT/table.txt"
gnuplot -e "dir='$OUT'" tests/bench/plot.gp && echo "plot: $OUT/cost.png"
# A whole run (both parts) becomes the README's figures: the results are
# kept in tests/bench/results.json (committed) and README.md's block is
# written from them (tests/bench/readme.sh); make test checks the two agree.
if [ "$parts" = "host kernel" ]; then
  cp "$OUT/results.json" tests/bench/results.json &&
    tests/bench/readme.sh --write && echo "README.md: performance figures from this run"
fi
