#!/usr/bin/env bash
# run-host.sh TEST... : runs each cmocka test binary with TAP output and prints
# the tally as its last line: "host: N passed, N failed".
set -uo pipefail
pass=0 fail=0
for t in "$@"; do
  printf '# %s\n' "$(basename "$t")"       # before it runs: a long one shows what is running
  out=$(CMOCKA_MESSAGE_OUTPUT=TAP "$t" 2>&1); rc=$?
  printf '%s\n' "$out"
  p=$(grep -cE '^ok ' <<<"$out"); f=$(grep -cE '^not ok ' <<<"$out")
  if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then
    echo "not ok - $(basename "$t") exited with status $rc"; f=1
  fi
  pass=$((pass + p)); fail=$((fail + f))
done
echo "host: $pass passed, $fail failed"
[ $fail -eq 0 ]
