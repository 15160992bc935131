#!/usr/bin/env bash
# run-host.sh TEST... : runs each cmocka test binary with TAP output and prints
# the tally as its last line: "host: N passed, N failed".
#
# A binary's standard error is what the manager logged (hostmem: ...) and
# what the sanitizers report.  When every test of the binary passed, those
# lines are about the errors its tests provoke on purpose (each test checks
# the outcome), so they are kept in build/host-logs/NAME.stderr and counted
# in one "# expected:" line; when one failed, they are shown whole.
set -uo pipefail
logs=${BUILD:-build}/host-logs
mkdir -p "$logs"
pass=0 fail=0
for t in "$@"; do
  name=$(basename "$t") err=$logs/$(basename "$t").stderr
  printf '# %s\n' "$name"                  # before it runs: a long one shows what is running
  out=$(CMOCKA_MESSAGE_OUTPUT=TAP "$t" 2> "$err"); rc=$?
  printf '%s\n' "$out"
  p=$(grep -cE '^ok ' <<<"$out"); f=$(grep -cE '^not ok ' <<<"$out")
  if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then
    echo "not ok - $name exited with status $rc"; f=1
  fi
  lines=$(wc -l < "$err")
  if [ "$f" -ne 0 ]; then
    cat "$err"
  elif [ "$lines" -gt 0 ]; then
    echo "# expected: $lines line(s) logged about errors these tests provoke ($err)"
  fi
  pass=$((pass + p)); fail=$((fail + f))
done
echo "host: $pass passed, $fail failed"
[ $fail -eq 0 ]
