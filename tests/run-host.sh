#!/usr/bin/env bash
# run-host.sh TEST... : runs each cmocka test binary and prints its results
# as TAP, then the tally as its last line: "host: N passed, N failed".
# cmocka writes an XML report (it has each test's time) that is printed as
# TAP and, when RESULTS is set, recorded (tests/results.sh).
#
# A binary's standard error is what the manager logged (hostmem: ...) and
# what the sanitizers report.  When every test of the binary passed, those
# lines are about the errors its tests provoke on purpose (each test checks
# the outcome), so they are kept in build/host-logs/NAME.stderr and counted
# in one "# expected:" line; when one failed, they are shown whole.
set -uo pipefail
. "$(dirname "$0")/results.sh"
BUILD=${BUILD:-build}
logs=$BUILD/host-logs
mkdir -p "$BUILD/host/xml" "$logs" || exit 1
pass=0 fail=0
# A test's name is its path under build/host/ without "tests/": test_alloc,
# x86_64/test_mmu, aarch64/test_alloc (the twin in the AArch64 format).  An
# argument TAG:VAR=VALUE runs the binaries after it with VAR=VALUE in their
# environment and TAG/ before their names (no-hafdbs:HM_SIM_NO_HAFDBS=1).
tag= env=()
for t in "$@"; do
  if [[ $t == *:*=* ]]; then tag=${t%%:*}/ env=("${t#*:}"); continue; fi
  name=$tag${t#"$BUILD"/host/} name=${name/tests\//}
  err=$logs/${name//\//-}.stderr
  xml=$BUILD/host/xml/${name//\//-}.xml
  printf '# %s\n' "$name"       # before it runs: a long one shows what is running
  rm -f "$xml"                  # cmocka does not overwrite it
  start=$(results_now)
  out=$(env "${env[@]}" CMOCKA_MESSAGE_OUTPUT=XML CMOCKA_XML_FILE=$xml "$t" 2> "$err"); rc=$?
  [ -z "$out" ] || printf '%s\n' "$out"
  if [ -s "$xml" ]; then tap=$(results_from_cmocka "$name" "$xml"); else tap=; fi
  [ -z "$tap" ] || printf '%s\n' "$tap"
  p=$(grep -cE '^ok ' <<<"$tap"); f=$(grep -cE '^not ok ' <<<"$tap")
  if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then
    echo "not ok - $name exited with status $rc"; f=1
    result_record "$name" "exit_status" fail "$(results_since "$start")" \
      "$name exited with status $rc: $(tail -n 5 "$err")"
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
