#!/usr/bin/env bash
# map-plot.sh IN PNG: draws the console's `map csv` (kernel/console/map.c) as a
# picture of the address space, like VMMap's: one bar per reservation.
#
# IN is a serial log (build/serial-*.log; the last `map csv` in it is drawn)
# or a file holding just the CSV.  Each reservation is a bar drawn to its own
# length (a 4 KiB page is visible in a 1 MiB and in a 1 GiB reservation
# alike); its regions are shaded by state: reserved only (grey), committed
# (light blue), guard (red hatching).  Resident pages fill a committed
# region from the bottom up, to their share of its pages: the CSV counts
# them per region, it does not say which pages they are.  Free space is not
# drawn; the title gives the totals.
#
# Prints "map-plot: R reservations, N regions -> PNG"; exits non-zero when IN
# has no map or gnuplot fails.  Needs gnuplot (pngcairo) and awk.
set -euo pipefail
in=${1:?usage: map-plot.sh LOG-or-CSV PNG}
png=${2:?usage: map-plot.sh LOG-or-CSV PNG}
header="row,base,size,state,type,protect,allocation_base,allocation_protect,committed_pages,resident_pages"

# The last CSV block: the header, then the rows that follow it.
csv=$(tr -d '\r' < "$in" | awk -v h="$header" '
  $0 == h { buf = $0; on = 1; next }
  on && /^(free|reservation|region),/ { buf = buf "\n" $0; next }
  { on = 0 }
  END { if (buf != "") print buf }')
[ -n "$csv" ] || { echo "map-plot: no \`map csv\` output in $in" >&2; exit 1; }

# The CSV becomes a gnuplot script: a rectangle per region, a tic per bar.
script=$(awk -F, -v out="$png" -v src="$(basename "$in")" '
  function hex(v,   s, d, i) {
    for (i = 0; i < 16; i++) { d = v % 16; s = substr("0123456789abcdef", d + 1, 1) s; v = (v - d) / 16 }
    return "0x" s
  }
  function amount(b,   u, units) {
    split("KiB MiB GiB TiB", units, " ")
    for (u = 1; u < 4 && b >= 1024 ^ (u + 1); u++) ;
    # tenths cut, not rounded, as the console prints them
    return sprintf(b % (1024 ^ u) ? "%.1f %s" : "%d %s", int(b * 10 / 1024 ^ u) / 10, units[u])
  }
  function rect(x1, y1, x2, y2, style) {
    printf "set object %d rect from %.6f,%.4f to %.6f,%.4f %s\n", ++obj, x1, y1, x2, y2, style
  }
  NR == 1 { next }
  $1 == "free" { freeb += $3; next }
  $1 == "reservation" {
    n++; rb = $2; rs = $3; committed += $9; resident += $10
    tics = tics sprintf("%s\"%s  %s\\n%d committed, %d resident\" %d", n > 1 ? ", " : "", hex($2), amount($3), $9, $10, n)
    next
  }
  $1 == "region" {
    regions++
    x1 = ($2 - rb) / rs; x2 = ($2 + $3 - rb) / rs; lo = n - 0.35; hi = n + 0.35
    if ($4 == "MEM_RESERVE") { rect(x1, lo, x2, hi, "fc rgb \"#d9d9d9\" fs solid 1 border lc rgb \"#777777\""); next }
    rect(x1, lo, x2, hi, "fc rgb \"#9ecae1\" fs solid 1 border lc rgb \"#3c6e8f\"")
    if ($10 > 0)
      rect(x1, hi - 0.7 * $10 / $9, x2, hi, "fc rgb \"#2166ac\" fs solid 1 noborder")
    rect(x1, lo, x2, hi, "fs empty border lc rgb \"#333333\"")   # the edges, over the fill
    if ($6 ~ /PAGE_GUARD/)
      rect(x1, lo, x2, hi, "fc rgb \"#d62728\" fs transparent pattern 4 border lc rgb \"#d62728\"")
  }
  END {
    print "set terminal pngcairo size 1200," (160 + 70 * (n ? n : 1)) " font \"sans,10\""
    print "set output \"" out "\""
    printf "set title \"hostmem address space (%s): %d reservation(s), %s committed, %s resident, %s free (not drawn)\"\n", \
      src, n, amount(committed * 4096), amount(resident * 4096), amount(freeb)
    print "set xrange [0:1]"
    print "set xtics (\"base\" 0, \"1/4\" 0.25, \"1/2\" 0.5, \"3/4\" 0.75, \"end\" 1)"
    print "set xlabel \"offset in the reservation (each bar drawn to its own size)\""
    print "set yrange [" (n ? n : 1) + 0.7 ":0.3]"
    print (n ? "set ytics (" tics ")" : "unset ytics")
    if (!n) print "set label \"no reservations\" at 0.5,1 center"
    print "set tics nomirror; set border 3; set key outside below horizontal"
    print "set style fill solid 1"
    print "plot NaN with boxes fc rgb \"#d9d9d9\" title \"reserved\", \\"
    print "     NaN with boxes fc rgb \"#9ecae1\" title \"committed, untouched\", \\"
    print "     NaN with boxes fc rgb \"#2166ac\" title \"resident (share of the pages, bottom up)\", \\"
    print "     NaN with boxes fc rgb \"#d62728\" fs pattern 4 title \"guard\""
    printf "# %d %d\n", n, regions
  }' <<<"$csv")

mkdir -p "$(dirname "$png")"
gnuplot <<<"$script"
read -r _ n regions <<<"$(tail -n 1 <<<"$script")"
echo "map-plot: $n reservation(s), $regions region(s) -> $png"
