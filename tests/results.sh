# results.sh: sourced by the test runners.  Every test, of every suite,
# leaves one record in $RESULTS (when set; run-all.sh sets it to
# build/test-results.tsv), and results_junit turns the records into JUnit
# XML (build/test-results.xml), which CI systems read.
#
# A record is one line, tab-separated:
#   SUITE  NAME  ok|fail  SECONDS  MESSAGE
# SUITE is the JUnit classname: a host test binary (test_alloc, ...),
# kernel, runner or console.  SECONDS is the test's own time: cmocka's for
# host tests, the kernel's (" # time=N ms" on its KTAP line), else the wall
# time since the suite's previous result (a console check that reads the
# transcript of a shared boot: the first one carries the boot).  MESSAGE:
# why it failed, newlines as "\n".

# The time now, in microseconds (bash 5).
results_now() { local t=${EPOCHREALTIME/[.,]/}; echo "$t"; }

# Seconds since the microsecond stamp $1, with three decimals.
results_since() {
  local us=$(( $(results_now) - $1 ))
  printf '%d.%03d' $((us / 1000000)) $((us % 1000000 / 1000))
}

# result_record SUITE NAME ok|fail SECONDS [MESSAGE]
result_record() {
  [ -n "${RESULTS:-}" ] || return 0
  local msg=${5:-}
  msg=${msg//$'\t'/ }
  msg=${msg//$'\r'/}
  msg=${msg//$'\n'/\\n}
  printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$msg" >> "$RESULTS"
}

# results_from_cmocka SUITE XML: a cmocka XML report (CMOCKA_XML_FILE) as TAP
# on standard output, as CMOCKA_MESSAGE_OUTPUT=TAP prints it, plus a record
# per test case.
results_from_cmocka() {
  awk -v suite="$1" -v out="${RESULTS:-}" '
    function emit(   i, m) {
      n++
      if (failed) {
        tap[n] = "not ok " n " - " name
        for (i = 1; i <= nmsg; i++) tap[n] = tap[n] "\n# " msg[i]
      } else tap[n] = "ok " n " - " name
      m = ""
      for (i = 1; i <= nmsg; i++) m = m (i > 1 ? "\\n" : "") msg[i]
      gsub(/\t/, " ", m)
      if (out != "")
        printf "%s\t%s\t%s\t%s\t%s\n", suite, name, failed ? "fail" : "ok", time, m >> out
    }
    /<testcase / {
      name = $0; sub(/.*name="/, "", name); sub(/".*/, "", name)
      time = $0; sub(/.*time="/, "", time); sub(/".*/, "", time)
      failed = 0; nmsg = 0; inmsg = 0; next
    }
    /<(failure|error)>/ {
      failed = 1; inmsg = 1; sub(/.*<!\[CDATA\[/, "")
    }
    inmsg {
      line = $0
      if (sub(/\]\]>.*/, "", line)) inmsg = 0
      msg[++nmsg] = line; next
    }
    /<\/testcase>/ { emit() }
    END { print "1.." n; for (i = 1; i <= n; i++) print tap[i] }
  ' "$2"
}

# results_junit RECORDS: the JUnit XML of every record, one <testsuite> per
# SUITE in the order they first ran, one <testcase> per record.
results_junit() {
  awk -F '\t' '
    function esc(s) {
      gsub(/&/, "\\&amp;", s); gsub(/</, "\\&lt;", s); gsub(/>/, "\\&gt;", s)
      gsub(/"/, "\\&quot;", s)
      gsub(/[\001-\010\013\014\016-\037\177]/, "", s)
      return s
    }
    NF >= 4 {
      if (!($1 in tests)) order[++nsuites] = $1
      k = ++tests[$1]; case_name[$1, k] = $2; case_ok[$1, k] = $3 == "ok"
      case_time[$1, k] = $4 + 0; case_msg[$1, k] = $5
      suite_time[$1] += $4; total_time += $4; total++
      if ($3 != "ok") { failures[$1]++; total_failures++ }
    }
    END {
      print "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
      printf "<testsuites name=\"hostmem make test\" tests=\"%d\" failures=\"%d\" errors=\"0\" time=\"%.3f\">\n",
             total, total_failures, total_time
      for (s = 1; s <= nsuites; s++) {
        su = order[s]
        printf "  <testsuite name=\"%s\" tests=\"%d\" failures=\"%d\" errors=\"0\" skipped=\"0\" time=\"%.3f\">\n",
               esc(su), tests[su], failures[su], suite_time[su]
        for (k = 1; k <= tests[su]; k++) {
          printf "    <testcase classname=\"%s\" name=\"%s\" time=\"%.3f\"", esc(su),
                 esc(case_name[su, k]), case_time[su, k]
          if (case_ok[su, k]) { print "/>"; continue }
          m = esc(case_msg[su, k]); first = m; sub(/\\n.*/, "", first)
          gsub(/\\n/, "\n", m)
          if (first == "") first = "failed"
          printf ">\n      <failure message=\"%s\">%s</failure>\n    </testcase>\n", first, m
        }
        print "  </testsuite>"
      }
      print "</testsuites>"
    }
  ' "$1"
}
