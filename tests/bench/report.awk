# report.awk - the benchmark report, from three inputs (run.sh passes them):
#   host-time.csv  kind,op,live,impl,value,note   (bench_host time)
#   host-ir.csv    op,live,instructions per op     (the callgrind dumps)
#   kernel.txt     "bench: NAME VALUE UNIT"         (the kernel's serial log)
# Prints the table; writes out/results.csv, out/results.json and out/plot.dat
# (what plot.gp draws).  Each target is judged here, never in `make test`.

BEGIN {
	FS = ","
	nops = split("reserve_release reserve_release_256g commit_decommit_1 commit_decommit_1_cold " \
	             "commit_decommit_64 query protect first_touch", ops, " ")
	label["reserve_release"] = "reserve + release 64 KiB"
	label["reserve_release_256g"] = "reserve + release 256 GiB"
	label["commit_decommit_1"] = "commit + decommit 1 page"
	label["commit_decommit_1_cold"] = "  same, the only page of its table"
	label["commit_decommit_64"] = "commit + decommit 64 pages"
	label["query"] = "VirtualQuery (Linux: mincore)"
	label["protect"] = "VirtualProtect 1 page"
	label["first_touch"] = "first touch, per page"
	nlv = split("1 1000 100000 1000000", lv, " ")
}

FILENAME ~ /host-time/ && $1 == "ns" {
	ns[$2, $3, $4] = $5
	if ($4 == "linux")
		llive[$3] = ($6 ~ /capped/) ? capped($6) : $3
}
FILENAME ~ /host-time/ && $1 == "mem" { mem[$2] = $5 }
FILENAME ~ /host-time/ && $1 == "smp" { smp[$2] = $5 }
FILENAME ~ /host-ir/ { ir[$1, $2] = $3 }
FILENAME ~ /kernel-aarch64/ {
	split($0, w, " "); if (w[1] == "bench:" && w[3] ~ /^[0-9]+$/) ka[w[2]] = w[3]
	next
}
FILENAME ~ /kernel/ { split($0, w, " "); if (w[1] == "bench:" && w[3] ~ /^[0-9]+$/) k[w[2]] = w[3] }

function capped(note,    n) { n = note; sub(/.*: /, "", n); sub(/ live.*/, "", n); return n }
function num(x) { return x == "" ? "-" : x }
function ratio(a, b) { return (a == "" || b == "" || b == 0) ? "" : sprintf("%.2f", a / b) }
function human(n) { return n >= 1000000 ? (n / 1000000) "M" : n >= 1000 ? (n / 1000) "k" : n }

function host_table(    i, j, op, l) {
	print "== hosted twin: cost per operation, hostmem next to the Linux way"
	printf "%-38s %6s %11s %10s %9s %12s %8s\n", "operation", "live", "hostmem ns",
	       "Linux ns", "hm/Linux", "hostmem insn", "Linux live"
	for (i = 1; i <= nops; i++) {
		op = ops[i]
		for (j = 1; j <= nlv; j++) {
			l = lv[j]
			printf "%-38s %6s %11s %10s %9s %12s %8s\n", (j == 1 ? label[op] : ""), human(l),
			       num(ns[op, l, "hostmem"]), num(ns[op, l, "linux"]),
			       num(ratio(ns[op, l, "hostmem"], ns[op, l, "linux"])),
			       num(ir[op, l] == "" ? "" : sprintf("%.0f", ir[op, l])),
			       (llive[l] == "" ? "-" : human(llive[l]))
		}
	}
}

# Kernel figures are counter ticks (x86-64: the TSC; AArch64: CNTVCT);
# under -icount one instruction is `scale` ticks, which the kernel's check
# loop of 2,000,004 instructions shows.  0 when it is not a whole number:
# -icount was not in effect.
function scale_of(a,    s) {
	s = a["tsc_check_2000002_insn"] / 2000004
	return (s >= 0.999 && (s - int(s + 0.5)) ^ 2 < 1e-6) ? int(s + 0.5) : 0
}

function kernel_scale(    s) {
	s = scale_of(k)
	if (s) { kunit = "insn"; return s }
	kunit = "ticks"
	return 1
}

# The same guest figures on AArch64 (mode=bench in the AArch64 kernel,
# -icount), beside x86-64's, in instructions.
function aarch64_table(    s, n, names2) {
	if (!("commit_touch_64MiB" in ka) || !(s = scale_of(ka)))
		return
	print ""
	print "== the same guest figures on AArch64 (QEMU -M virt -cpu max, -icount; CNTVCT check: " \
	      ka["tsc_check_2000002_insn"] / s " for 2,000,004), instructions"
	printf "%-52s %14s %14s\n", "", "x86-64", "AArch64"
	split("commit_touch_64MiB fill64_64MiB rep_stosq_64MiB touch_overhead_per_page " \
	      "reserve_release commit_decommit_1 commit_decommit_1_cold commit_decommit_64", names2, " ")
	ka["rep_stosq_64MiB"] = ka["dc_zva_64MiB"]   # the CPU's own clear, by x86's name
	for (n = 1; n in names2; n++) {
		kva[names2[n]] = ka[names2[n]] / s
		printf "%-52s %14d %14d\n", (names2[n] == "rep_stosq_64MiB" ? \
		       "  ... with the CPU's clear (rep stosq, DC ZVA)" : klabel[names2[n]]),
		       kv[names2[n]], kva[names2[n]]
	}
	printf "%-52s %14.2f %14.2f\n", "commit + first touch / write of mapped memory", guest_ratio,
	       kva["commit_touch_64MiB"] / kva["fill64_64MiB"]
	printf "%-52s %14.2f %14.2f\n", "  against the CPU's clear", rep_ratio,
	       kva["commit_touch_64MiB"] / kva["rep_stosq_64MiB"]
}

function kernel_table(    s, n) {
	if (!("commit_touch_64MiB" in k))
		return
	s = kernel_scale()
	print ""
	print "== kernel under QEMU (TCG, -icount): " (kunit == "insn" ? \
	      "the TSC counts instructions (check loop: " k["tsc_check_2000002_insn"] / s \
	      " for 2,000,004)" : "-icount not in effect: figures are TSC ticks")
	split("commit_touch_64MiB fill64_64MiB rep_stosq_64MiB release_64MiB " \
	      "touch_overhead_per_page reserve_release commit_decommit_1 " \
	      "commit_decommit_1_cold commit_decommit_64 reserve_release_100k " \
	      "commit_decommit_1_100k commit_decommit_1_cold_100k commit_decommit_64_100k", names, " ")
	klabel["commit_touch_64MiB"] = "commit + first touch of 64 MiB"
	klabel["fill64_64MiB"] = "the same 64 MiB written once mapped (8-byte stores)"
	klabel["rep_stosq_64MiB"] = "  ... with rep stosq"
	klabel["release_64MiB"] = "release of the 64 MiB"
	klabel["touch_overhead_per_page"] = "fault work per page ((touch - rep stosq) / pages)"
	klabel["reserve_release"] = "reserve + release 64 KiB, per op"
	klabel["commit_decommit_1"] = "commit + decommit 1 page, per op"
	klabel["commit_decommit_1_cold"] = "  same, the only page of its table"
	klabel["commit_decommit_64"] = "commit + decommit 64 pages, per op"
	klabel["reserve_release_100k"] = "reserve + release 64 KiB, 100k live"
	klabel["commit_decommit_1_100k"] = "commit + decommit 1 page, 100k live"
	klabel["commit_decommit_1_cold_100k"] = "  same, the only page of its table, 100k live"
	klabel["commit_decommit_64_100k"] = "commit + decommit 64 pages, 100k live"
	for (n = 1; n in names; n++) {
		kv[names[n]] = k[names[n]] / s
		printf "%-52s %14d %s\n", klabel[names[n]], kv[names[n]], kunit
	}
	guest_ratio = kv["commit_touch_64MiB"] / kv["fill64_64MiB"]
	printf "%-52s %14.2f\n", "commit + first touch / write of mapped memory", guest_ratio
	rep_ratio = kv["commit_touch_64MiB"] / kv["rep_stosq_64MiB"]
	printf "%-52s %14.2f\n", "  against rep stosq", rep_ratio
}

# A kernel figure printed in thousandths.
function kfix(name) { return (name in k) ? sprintf("%.2f", k[name] / 1000) : "-" }

function memory_table() {
	print ""
	print "== memory (measured from the manager's counters)"
	printf "%-52s %8s %8s\n", "", "twin", "kernel"
	printf "%-52s %8s %8s\n", "metadata bytes per frame", num(mem["meta_bytes_per_frame"]),
	       kfix("meta_bytes_per_frame_x1000")
	printf "%-52s %8s %8s\n", "metadata bytes per reservation (node + slab)",
	       num(mem["meta_bytes_per_resv"]),
	       kfix("meta_bytes_per_resv_x1000")
	printf "%-52s %8s %8s\n", "page-table pages before the first operation",
	       num(mem["tables_baseline"]), num(k["tables_baseline"])
	printf "%-52s %8s %8s\n", "page-table pages after releasing everything",
	       num(mem["tables_after_release"]), num(k["tables_after_release"])
	printf "%-52s %8s %8s\n", "metadata frames after releasing everything",
	       num(mem["meta_frames_after_release"]), num(k["meta_frames_after_release"])
}

# One target: what, the figure, the limit, met?  Kept for the JSON too.
function target(what, value, limit, cmp,    met) {
	if (value == "")
		return
	met = (cmp == "<=") ? (value + 0 <= limit + 0) : (cmp == ">=") ? (value + 0 >= limit + 0) : \
	      (value + 0 == limit + 0)
	nt++
	tw[nt] = what; tv[nt] = value; tl[nt] = cmp " " limit; tm[nt] = met
	printf "%-58s %10s %12s  %s\n", what, value, cmp " " limit, met ? "met" : "MISSED"
}

function worst(op,    j, m) {
	for (j = 1; j <= nlv; j++)
		if ((op SUBSEP lv[j]) in ir && ir[op, lv[j]] > m)
			m = ir[op, lv[j]]
	return m == "" ? "" : sprintf("%.0f", m)
}

# The largest ratio of op a's instructions to op b's over the live counts.
function worst_ratio(a, b,    j, m, r) {
	for (j = 1; j <= nlv; j++)
		if ((a SUBSEP lv[j]) in ir && (b SUBSEP lv[j]) in ir && ir[b, lv[j]] > 0) {
			r = ir[a, lv[j]] / ir[b, lv[j]]
			if (m == "" || r > m)
				m = r
		}
	return m == "" ? "" : sprintf("%.2f", m)
}

# The many-CPU figures (kernel, -smp 4, wall time): one page's commit, first
# touch and decommit with k other CPUs active, and what the IPIs add.
function smp_section(    j, n, base, s) {
	if (!("smp_cycle_ns_0_active" in k))
		return
	print ""
	print "== many CPUs (kernel, -smp 4, ns, not -icount): commit + touch + decommit of a page"
	base = k["smp_cycle_ns_0_active"]
	for (j = 0; ("smp_cycle_ns_" j "_active") in k; j++)
		printf "  %d other CPUs active %44d ns   shootdown adds %d ns\n", j,
		       k["smp_cycle_ns_" j "_active"], k["smp_cycle_ns_" j "_active"] - base
	if ("smp_cycle_ticks_0_active" in k) {
		# Under -icount the TSC counts every CPU's instructions; the others
		# are halted but in every shootdown, so they add what it costs them.
		s = kernel_scale()
		print "  the same in instructions (-icount, all CPUs counted; the others halted but active):"
		for (j = 0; ("smp_cycle_ticks_" j "_active") in k; j++) {
			k["smp_cycle_insn_" j "_active"] = int(k["smp_cycle_ticks_" j "_active"] / s)
			delete k["smp_cycle_ticks_" j "_active"]
			printf "  %d CPUs %49d insn  shootdown adds %d insn\n", j + 1,
			       k["smp_cycle_insn_" j "_active"],
			       k["smp_cycle_insn_" j "_active"] - k["smp_cycle_insn_0_active"]
		}
	}
	print "  first touches of 16 MiB per CPU, disjoint reservations, all CPUs at once:"
	for (n = 1; ("smp_touch_pages_per_s_" n "_cpus") in k; n *= 2)
		printf "  %d vCPUs %49d pages/s  %.2f x 1 vCPU\n", n,
		       k["smp_touch_pages_per_s_" n "_cpus"], k["smp_touch_x1000_" n "_cpus"] / 1000
}

# Boot to the first console prompt (wall time, from starting QEMU).
function boot_section(    i, n, sizes) {
	if (!("boot_ms_256" in k))
		return
	print ""
	print "== boot to the first console prompt (wall time, -smp 4)"
	split("256 4096 16384", sizes, " ")
	for (i = 1; i in sizes; i++)
		if (("boot_ms_" sizes[i]) in k)
			printf "  %6d MiB of RAM %37d ms\n", sizes[i], k["boot_ms_" sizes[i]]
}

function targets(    rr, rr1m, growth) {
	print ""
	print "== targets"
	rr = ir["reserve_release", 100000]; rr1m = ir["reserve_release", 1000000]
	target("reserve+release at 100k live, insn", (rr == "" ? "" : sprintf("%.0f", rr)), 800, "<=")
	growth = (rr == "" || rr1m == "") ? "" : sprintf("%.2f", rr1m / rr)
	target("reserve+release at 1M live / at 100k", growth, 1.3, "<=")
	target("reserve+release of 256 GiB / of 64 KiB (worst live count)",
	       worst_ratio("reserve_release_256g", "reserve_release"), 1.2, "<=")
	target("page-table pages for a 256 GiB reservation's first commit", mem["tables_first_commit_256g"], 3, "<=")
	target("commit+decommit 1 page, insn (worst over live counts)", worst("commit_decommit_1"), 600, "<=")
	target("  same, the only page of its page table", worst("commit_decommit_1_cold"), 600, "<=")
	if (guest_ratio != "")
		target("guest commit+first touch / rep stosq over the mapped memory", sprintf("%.2f", rep_ratio), 1.3, "<=")
	if (guest_ratio != "")
		target("guest fault work per page (zeroing excluded), insn", kv["touch_overhead_per_page"], 300, "<=")
	if ("first_touch_2_threads_speedup" in smp)
		target("first touches, 2 threads / 1 (twin, throughput; machine's memset: " \
		       smp["memset_2_threads_speedup"] ")", smp["first_touch_2_threads_speedup"], 1.6, ">=")
	target("VirtualQuery of one page, insn (worst)", worst("query"), 400, "<=")
	target("VirtualProtect of one page, insn (worst)", worst("protect"), 600, "<=")
	target("metadata bytes per frame (twin)", mem["meta_bytes_per_frame"], 16, "<=")
	target("metadata bytes per reservation (twin)", mem["meta_bytes_per_resv"], 64, "<=")
	if ("meta_bytes_per_resv_x1000" in k)
		target("metadata bytes per reservation (kernel)",
		       sprintf("%.2f", k["meta_bytes_per_resv_x1000"] / 1000), 64, "<=")
	target("page-table pages after release (twin), baseline " mem["tables_baseline"],
	       mem["tables_after_release"], mem["tables_baseline"], "==")
	if ("tables_after_release" in k)
		target("page-table pages after release (kernel), baseline " k["tables_baseline"],
		       k["tables_after_release"], k["tables_baseline"], "==")
}

function write_csv(    f, i, j, op, l) {
	f = out "/results.csv"
	print "op,live,hostmem_ns,linux_ns,hostmem_over_linux,hostmem_insn,linux_live" > f
	for (i = 1; i <= nops; i++)
		for (j = 1; j <= nlv; j++) {
			op = ops[i]; l = lv[j]
			print op "," l "," ns[op, l, "hostmem"] "," ns[op, l, "linux"] "," \
			      ratio(ns[op, l, "hostmem"], ns[op, l, "linux"]) "," ir[op, l] "," llive[l] > f
		}
	for (n in kv)
		print "kernel_" n ",,,,," kv[n] "," > f
	close(f)
}

function jnum(x) { return x == "" ? "null" : x }
function nan(x) { return x == "" ? "NaN" : x }

function write_json(    f, i, j, op, l, sep, n) {
	f = out "/results.json"
	printf "{\n  \"run\": {\"date\": \"%s\", \"commit\": \"%s\", \"machine\": \"%s\"},\n", \
	       run_date, run_commit, run_machine > f
	print "  \"host\": [" > f
	sep = ""
	for (i = 1; i <= nops; i++)
		for (j = 1; j <= nlv; j++) {
			op = ops[i]; l = lv[j]
			printf "%s    {\"op\": \"%s\", \"live\": %s, \"hostmem_ns\": %s, \"linux_ns\": %s, " \
			       "\"hostmem_insn\": %s, \"linux_live\": %s}", sep, op, l,
			       jnum(ns[op, l, "hostmem"]), jnum(ns[op, l, "linux"]), jnum(ir[op, l]),
			       jnum(llive[l]) > f
			sep = ",\n"
		}
	printf "\n  ],\n  \"kernel_%s\": {", (kunit == "" ? "ticks" : kunit) > f
	sep = ""
	for (n in kv) { printf "%s\"%s\": %s", sep, n, kv[n] > f; sep = ", " }
	printf "},\n  \"kernel_aarch64_insn\": {" > f
	sep = ""
	for (n in kva) { printf "%s\"%s\": %s", sep, n, kva[n] > f; sep = ", " }
	printf "},\n  \"kernel_smp\": {" > f
	sep = ""
	for (n in k)
		if (n ~ /^smp_/) { printf "%s\"%s\": %s", sep, n, k[n] > f; sep = ", " }
	printf "},\n  \"boot_ms\": {" > f
	sep = ""
	for (n in k)
		if (n ~ /^boot_ms_/) { printf "%s\"%s\": %s", sep, substr(n, 9), k[n] > f; sep = ", " }
	printf "},\n  \"memory\": {" > f
	sep = ""
	for (n in mem) { printf "%s\"%s\": %s", sep, n, mem[n] > f; sep = ", " }
	printf "},\n  \"targets\": [" > f
	for (i = 1; i <= nt; i++)
		printf "%s\n    {\"what\": \"%s\", \"value\": %s, \"limit\": \"%s\", \"met\": %s}",
		       (i > 1 ? "," : ""), tw[i], tv[i], tl[i], (tm[i] ? "true" : "false") > f
	print "\n  ]\n}" > f
	close(f)
}

# One row per live count: live, then instructions, hostmem ns, Linux ns per op.
function write_plot(    f, i, j, op, l) {
	f = out "/plot.dat"
	for (j = 1; j <= nlv; j++) {
		l = lv[j]
		printf "%s", l > f
		for (i = 1; i <= nops; i++) {
			op = ops[i]
			printf " %s %s %s", nan(ir[op, l]), nan(ns[op, l, "hostmem"]),
			       nan(ns[op, l, "linux"]) > f
		}
		printf "\n" > f
	}
	close(f)
}

END {
	host_table()
	kernel_table()
	aarch64_table()
	memory_table()
	smp_section()
	boot_section()
	targets()
	write_csv()
	write_json()
	write_plot()
	print ""
	print "results: " out "/results.csv, " out "/results.json, " out "/table.txt"
}
