#!/usr/bin/env bash
# run-kernel.sh MODE [WORD...]
#
# Boots build/kernel.elf through the UEFI loader in QEMU + OVMF (ARCH=aarch64:
# build/aarch64/kernel.elf in qemu-system-aarch64 -M virt + AAVMF) and
# explains how it ended.  MODE is test (the self tests), run (the boot report and the
# demo), or debug (QEMU waits for gdb on :1234).  Extra WORDs go on the
# kernel command line (e.g. crash=pf).
#
# run opens the console (mode=console) instead of the demo when someone can
# type (stdin is a terminal, QUIET unset), when SCRIPT=file gives the
# commands (SCRIPT=- : standard input), or when standard input is a pipe
# (`printf 'stats\nquit\n' | make run`); otherwise (CI, /dev/null) it runs
# the demo and exits, so it never waits.
#
# QEMU ends with this script: it runs under PR_SET_PDEATHSIG (setpriv), so
# whatever ends the script (a hangup, make's SIGTERM, a kill) sends it
# SIGTERM, and it restores the terminal as it exits.  On a terminal, a
# watcher also ends it when the terminal goes away (see watch_tty).
#
# Only the kernel's pass code counts as a pass: a triple fault with -no-reboot
# exits 0, a panic or a failed test has its own code, and a hang is cut by the
# timeout and reported with the last lines the kernel printed.  The serial
# output is kept in build/serial-MODE.log.
#
# Environment: ARCH (x86_64 or aarch64), BUILD (build, or build/aarch64), RAM_MB (256), SMP CPUs (4, 1..8), TIMEOUT seconds (240),
# DEBUG_MODE (test: what the kernel runs under `make debug`; or run),
# KERNEL (build/kernel.elf), QUIET=1 to print only the verdict,
# QEMU_EXTRA (more QEMU options, e.g. "-icount shift=0,sleep=off"),
# SCRIPT (console commands for run, typed through the serial port).
set -uo pipefail
ARCH=${ARCH:-x86_64}
case $ARCH in
  x86_64)  BUILD=${BUILD:-build} ;;
  aarch64) BUILD=${BUILD:-build/aarch64} ;;
  *) echo "run-kernel.sh: ARCH=$ARCH: x86_64 or aarch64"; exit 1 ;;
esac
RAM_MB=${RAM_MB:-256}
SMP=${SMP:-4}
TIMEOUT=${TIMEOUT:-240}
KERNEL=${KERNEL:-$BUILD/kernel.elf}

mode=${1:?usage: run-kernel.sh test|run|debug [word...]}
shift
tag=${TAG:-$mode}
img=$BUILD/esp-$tag.img
vars=$BUILD/ovmf-vars-$tag.fd
log=$BUILD/serial-$tag.log
kmode=$mode
[ "$mode" = debug ] && kmode=${DEBUG_MODE:-test}   # what the kernel does under gdb
console=
if [ "$mode" = run ] && { [ "${SCRIPT:-}" = - ] || { [ -z "${SCRIPT:-}" ] && [ -p /dev/stdin ]; }; }; then
  mkdir -p "$BUILD" && cat > "$BUILD/console-stdin-$tag.hm" || exit 1
  SCRIPT=$BUILD/console-stdin-$tag.hm    # typed once the prompt is up, like a file
fi
if [ "$mode" = run ] && [ -n "${SCRIPT:-}" ]; then
  [ -r "$SCRIPT" ] || { echo "run-kernel.sh: cannot read SCRIPT=$SCRIPT"; exit 1; }
  console=script
elif [ "$mode" = run ] && [ -t 0 ] && [ "${QUIET:-0}" != 1 ]; then
  console=tty
fi
[ -n "$console" ] && kmode=console
cmdline="mode=$kmode ram=$RAM_MB smp=$SMP $*"

# Each architecture's machine, firmware and way out; the kernel makes the
# exit status the same on both ((code << 1) | 1, kernel/qemu.h), so the
# verdicts below hold for both.
if [ "$ARCH" = aarch64 ]; then
  efi=$BUILD/BOOTAA64.EFI
  fw_code=/usr/share/AAVMF/AAVMF_CODE.fd
  fw_vars=/usr/share/AAVMF/AAVMF_VARS.fd
  machine=(qemu-system-aarch64 -machine virt -cpu max -smp "$SMP" -m "${RAM_MB}M" -nodefaults
           -display none -serial stdio -no-reboot -semihosting-config enable=on,target=native
           -drive "format=raw,file=$img,if=virtio")
else
  efi=$BUILD/BOOTX64.EFI
  fw_code=/usr/share/OVMF/OVMF_CODE_4M.fd
  fw_vars=/usr/share/OVMF/OVMF_VARS_4M.fd
  machine=(qemu-system-x86_64 -machine q35 -cpu max -smp "$SMP" -m "${RAM_MB}M" -nodefaults
           -display none -serial stdio -no-reboot -drive "format=raw,file=$img"
           -device isa-debug-exit,iobase=0xf4,iosize=0x04)
fi

scripts/mkesp.sh "$img" "$efi" "$KERNEL" "$cmdline" || exit 1
cp "$fw_vars" "$vars"

qemu=("${machine[@]}"
      -drive "if=pflash,format=raw,readonly=on,file=$fw_code"
      -drive "if=pflash,format=raw,file=$vars" ${QEMU_EXTRA:-})
# Prefix of every QEMU launch (or of the timeout around it, which passes the
# signal on): SIGTERM when this script dies.
with_me=(setpriv --pdeathsig TERM)


# From the kernel's first line on, byte for byte: a prompt has no newline.
from_banner() {
  local line
  while IFS= read -r line; do
    case $line in loader:*|"hostmem kernel"*) printf '%s\n' "$line"; exec cat ;; esac
  done
}

# debug: the same boot, stopped for gdb.  Firmware output (its screen
# escapes included) stays in the log; the kernel's pass code is success.
if [ "$mode" = debug ]; then
  echo "QEMU is waiting for gdb on localhost:1234. In another terminal:"
  if [ "$ARCH" = aarch64 ]; then echo "  gdb-multiarch -x scripts/gdbinit-aarch64"
  else echo "  gdb -x scripts/gdbinit"; fi
  "${with_me[@]}" "${qemu[@]}" -s -S < /dev/null 2>&1 | tee "$log" | from_banner
  rc=${PIPESTATUS[0]}
  [ $rc = 33 ] && { echo "qemu: kernel exited normally (log: $log)"; exit 0; }
  echo "qemu: exit status $rc (log: $log)"
  exit 1
fi

# SCRIPT: the firmware polls the serial port while it boots and would eat
# early input, so the file is typed only once the console's first prompt is
# in the log; the Ctrl-D after it is the end of input, which quits.
run_script() {
  local fifo=$BUILD/console-$tag.fifo pid
  rm -f "$fifo" && mkfifo "$fifo" && : > "$log" || return 1
  "${with_me[@]}" timeout "$TIMEOUT" "${qemu[@]}" < "$fifo" > "$log" 2>&1 &
  pid=$!
  exec 3> "$fifo"
  rm -f "$fifo"
  ( while kill -0 $pid 2> /dev/null && ! grep -aqs 'hm> ' "$log"; do sleep 0.1; done
    cat "$SCRIPT"; [ -z "$(tail -c 1 "$SCRIPT")" ] || echo; printf '\004' ) >&3 2> /dev/null &
  exec 3>&-
  [ "${QUIET:-0}" = 1 ] ||
    tail -s 0.1 -n +1 -f --pid=$pid "$log" | sed -u -n '/^loader: \|^hostmem kernel/,$p' | tr -d '\r'
  wait $pid
}

# A terminal can go away under QEMU (a closed window, a dropped ssh): the
# hangup goes only to the session leader, often make, which then waits for
# its children instead of ending them, and QEMU would read end-of-file and
# run on.  So the watcher ends QEMU once fd 3 (the terminal QEMU reads) is
# no longer one, and ends itself with this script.
watch_tty() {   # PIDFILE
  local pid
  while sleep 0.5 && kill -0 $$ 2> /dev/null; do
    pid=$(cat "$1" 2> /dev/null) || continue
    [ -t 3 ] || { kill -TERM "$pid" 2> /dev/null; return; }
  done
}

start=$(date +%s.%N)
if [ "$console" = tty ]; then
  # QEMU puts the terminal in raw mode itself (-serial stdio on a tty) and
  # restores it when it exits; no timeout: a person is typing.  Ctrl-C is
  # QEMU's (it ends cleanly); the rest of the pipeline lives to show that.
  trap '' INT
  pidfile=$BUILD/qemu-$tag.pid
  rm -f "$pidfile"
  { watch_tty "$pidfile" & } 3<&0
  watcher=$!
  "${with_me[@]}" "${qemu[@]}" -pidfile "$pidfile" 2>&1 | tee "$log" | from_banner
  rc=${PIPESTATUS[0]}
  kill $watcher 2> /dev/null
  trap - INT
  if [ $rc = 0 ] && grep -aq 'terminating on signal' "$log"; then
    echo "qemu: stopped by a signal (Ctrl-C) (log: $log)"; exit 0
  fi
elif [ "$console" = script ]; then
  run_script
  rc=$?
elif [ "${QUIET:-0}" = 1 ]; then
  "${with_me[@]}" timeout "$TIMEOUT" "${qemu[@]}" < /dev/null > "$log" 2>&1
  rc=$?
else
  # Firmware output before the kernel is kept in the log, not shown.
  "${with_me[@]}" timeout "$TIMEOUT" "${qemu[@]}" < /dev/null 2>&1 | tee "$log" |
    sed -u -n '/^loader: \|^hostmem kernel/,$p' | tr -d '\r'
  rc=${PIPESTATUS[0]}
fi
secs=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')

symbolize() {   # the backtrace addresses of a panic, as file:line
  grep -oE '#[0-9]+ 0x[0-9a-f]{16}' "$log" | awk '{ print $2 }' |
    addr2line -f -p -e "$KERNEL" 2>/dev/null | sed 's/^/    /'
}

case $rc in
  33) echo "qemu: kernel exited normally in ${secs}s (log: $log)"; exit 0 ;;
  35) echo "qemu: FAILED: self tests failed (log: $log)" ;;
  37) echo "qemu: FAILED: kernel panic (log: $log); backtrace:"; symbolize ;;
  39) echo "qemu: FAILED: the loader refused to boot: $(grep -a 'loader:' "$log" | tail -n 1 | tr -d '\r')" ;;
  124) echo "qemu: FAILED: hang: no exit after ${TIMEOUT}s; last serial lines:"
       tail -n 15 "$log" | tr -d '\r' | sed 's/^/    /' ;;
  0)  echo "qemu: FAILED: QEMU exited 0 without the kernel's exit code: a triple fault" \
           "or reset (rerun with -d int,cpu_reset -D build/qemu.log)"
      tail -n 5 "$log" | tr -d '\r' | sed 's/^/    /' ;;
  *)  echo "qemu: FAILED: QEMU exited with status $rc (log: $log)" ;;
esac
exit 1
