# plot.gp - cost against live reservations, from dir/plot.dat (report.awk):
# left, hostmem's instructions per operation (callgrind); right, ns per
# operation, hostmem (solid) next to the Linux way (dashed).
# Usage: gnuplot -e "dir='build/bench'" tests/bench/plot.gp

names = "reserve+release reserve+release-256G commit+decommit-1 commit+decommit-1-cold commit+decommit-64 query protect first-touch"
data = dir . "/plot.dat"

set terminal pngcairo size 1400,600 font "sans,10"
set output dir . "/cost.png"
set multiplot layout 1,2 title "hostmem: cost against live reservations (hosted twin)"
set logscale xy
set xrange [0.5:2000000]
set xlabel "live reservations"
set format x "10^{%T}"
set grid
set key outside bottom center horizontal maxcols 4 font ",9"

set title "hostmem: instructions per operation"
set ylabel "instructions"
# The issue's targets as lines: 800 (reserve+release at 100k), 600
# (commit+decommit, VirtualProtect), 400 (VirtualQuery).
plot for [i=0:7] data using 1:(column(2 + 3 * i)) with linespoints lw 2 pt 7 title word(names, i + 1), \
     800 with lines dt 3 lc "black" title "target 800", \
     600 with lines dt 3 lc "gray40" title "target 600", \
     400 with lines dt 3 lc "gray70" title "target 400"

set title "ns per operation: hostmem (solid), Linux way (dashed)"
set ylabel "ns"
plot for [i=0:7] data using 1:(column(3 + 3 * i)) with linespoints lw 2 pt 7 lc i + 1 title word(names, i + 1), \
     for [i=0:7] data using 1:(column(4 + 3 * i)) with linespoints lw 2 dt 2 pt 6 lc i + 1 notitle
unset multiplot
