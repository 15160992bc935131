#!/usr/bin/env bash
# readme.sh [--write | --check] [JSON]
#
# The README's performance figures are written from the last whole `make
# bench` run, never by hand, so they cannot drift from what was measured:
# run.sh keeps that run's results in tests/bench/results.json (committed)
# and this script turns them into the markdown between README.md's
# "bench:begin" and "bench:end" lines.
#
#   (no option)  print the markdown
#   --write      replace README.md's block with it (make bench does this)
#   --check      exit 1, saying so, when README.md's block is not what the
#                committed results give (a runner check in make test)
set -uo pipefail
mode=print
case ${1:-} in --write|--check) mode=${1#--}; shift ;; esac
json=${1:-tests/bench/results.json}
readme=README.md
begin='<!-- bench:begin: written by tests/bench/readme.sh from tests/bench/results.json -->'
end='<!-- bench:end -->'

markdown() {
  jq -r '
    def commas: (. | round | tostring) as $s
      | if ($s | length) <= 3 then $s else ((($s[:-3] | tonumber) | commas) + "," + $s[-3:]) end;
    def fixed(n): (. * pow(10; n) | round) / pow(10; n) | tostring;
    def opname: {
      reserve_release: "reserve + release 64 KiB",
      reserve_release_256g: "reserve + release 256 GiB",
      commit_decommit_1: "commit + decommit 1 page (table stays)",
      commit_decommit_1_cold: "the same, the only page of its page table",
      commit_decommit_64: "commit + decommit 64 pages",
      query: "VirtualQuery (Linux: mincore)",
      protect: "VirtualProtect 1 page",
      protect_1: "VirtualProtect 1 page",
      first_touch: "first touch per page (incl. the software MMU)" }[.] // .;
    . as $r
    | "Last whole `make bench`: \($r.run.date), code of commit \($r.run.commit); \($r.run.machine).",
      "",
      "Hosted twin: instructions per operation (callgrind) at 1, 1k, 100k and 1M live reservations;",
      "the last column is hostmem'"'"'s time over the Linux way'"'"'s at 100k (a user-space library",
      "against system calls, on this machine).",
      "",
      "| operation | 1 | 1k | 100k | 1M | hostmem / Linux time at 100k |",
      "|---|---|---|---|---|---|",
      ( ($r.host | map(.op) | reduce .[] as $o ([]; if any(.[]; . == $o) then . else . + [$o] end))[]
        | . as $op
        | [$r.host[] | select(.op == $op)] as $rows
        | "| \($op | opname) | "
          + ([$rows[] | (.hostmem_insn // 0 | commas)] | join(" | "))
          + " | \(($rows[] | select(.live == 100000) | (.hostmem_ns / .linux_ns) | fixed(2)) // "-") |" ),
      "",
      "Guest, under QEMU `-icount` (`-smp 1`), where the TSC counts instructions:",
      "",
      "| figure | instructions |",
      "|---|---|",
      "| commit + first touch of 64 MiB | \($r.kernel_insn.commit_touch_64MiB | commas) |",
      "| the same memory written once mapped (8-byte stores) | \($r.kernel_insn.fill64_64MiB | commas) |",
      "| the same with `rep stosq` | \($r.kernel_insn.rep_stosq_64MiB | commas) |",
      "| fault work per page ((touch - `rep stosq`) / pages) | \($r.kernel_insn.touch_overhead_per_page | commas) |",
      ( ["reserve_release", "reserve + release 64 KiB"],
        ["commit_decommit_1", "commit + decommit 1 page"],
        ["commit_decommit_1_cold", "the same, the only page of its page table"],
        ["commit_decommit_64", "commit + decommit 64 pages"]
        | . as [$key, $what]
        | "| \($what), 2 live reservations | \($r.kernel_insn[$key] | commas) |",
          (if $r.kernel_insn[$key + "_100k"] then
             "| \($what), 100k live | \($r.kernel_insn[$key + "_100k"] | commas) |" else empty end) ),
      "",
      "Commit + first touch over writing the mapped memory: \($r.kernel_insn.commit_touch_64MiB / $r.kernel_insn.fill64_64MiB | fixed(2)) (8-byte stores), \($r.kernel_insn.commit_touch_64MiB / $r.kernel_insn.rep_stosq_64MiB | fixed(2)) (`rep stosq`).",
      "",
      ( if ($r.kernel_aarch64_insn // {}) | length > 0 then
          "The same guest figures on AArch64 (`-M virt -cpu max`, `-icount`, `-smp 1`; the virtual",
          "counter counts instructions), beside x86-64'"'"'s:",
          "",
          "| figure | x86-64 | AArch64 |",
          "|---|---|---|",
          ( ["commit_touch_64MiB", "commit + first touch of 64 MiB"],
            ["fill64_64MiB", "the same memory written once mapped (8-byte stores)"],
            ["rep_stosq_64MiB", "the same with the CPU'"'"'s clear (`rep stosq`, `DC ZVA`)"],
            ["touch_overhead_per_page", "fault work per page"],
            ["reserve_release", "reserve + release 64 KiB"],
            ["commit_decommit_1", "commit + decommit 1 page"],
            ["commit_decommit_1_cold", "the same, the only page of its page table"],
            ["commit_decommit_64", "commit + decommit 64 pages"]
            | . as [$key, $what]
            | "| \($what) | \($r.kernel_insn[$key] | commas) | \($r.kernel_aarch64_insn[$key] | commas) |" ),
          "| commit + first touch over the CPU'"'"'s clear | \($r.kernel_insn.commit_touch_64MiB / $r.kernel_insn.rep_stosq_64MiB | fixed(2)) | \($r.kernel_aarch64_insn.commit_touch_64MiB / $r.kernel_aarch64_insn.rep_stosq_64MiB | fixed(2)) |",
          ""
        else empty end ),
      "Many CPUs, in the guest at `-smp 4` under multi-threaded TCG on 2 host cores (wall time,",
      "noisy: an IPI to a busy vCPU waits for its host thread):",
      "",
      "| figure | measured |",
      "|---|---|",
      ( $r.kernel_smp | to_entries | map(select(.key | test("^smp_cycle_ns_")))
        | sort_by(.key)[]
        | "| commit + touch + decommit of a page; other CPUs active: \(.key | capture("ns_(?<k>[0-9]+)_active").k) | \(.value | commas) ns |" ),
      ( $r.kernel_smp | to_entries | map(select(.key | test("^smp_cycle_insn_")))
        | sort_by(.key)[]
        | (.key | capture("insn_(?<k>[0-9]+)_active").k | tonumber) as $k
        | "| the same in instructions under `-icount`, all CPUs counted, at \($k + 1) CPUs (the others halted but in every shootdown) | \(.value | commas), the shootdown \(.value - $r.kernel_smp.smp_cycle_insn_0_active | commas) |" ),
      ( $r.kernel_smp | to_entries | map(select(.key | test("^smp_touch_pages_per_s_")))
        | sort_by(.key | capture("_(?<n>[0-9]+)_cpus").n | tonumber)[]
        | (.key | capture("_(?<n>[0-9]+)_cpus").n) as $n
        | "| first touches, 16 MiB per vCPU, disjoint reservations; vCPUs at once: \($n) | \(.value | commas) pages/s, \($r.kernel_smp["smp_touch_x1000_" + $n + "_cpus"] / 1000 | fixed(2)) x one |" ),
      "",
      "Boot to the first console prompt, wall time from starting QEMU (`-smp 4`; the firmware,",
      "the loader, the kernel and a record for every frame of RAM):",
      "",
      "| RAM | boot to prompt |",
      "|---|---|",
      ( ($r.boot_ms // {}) | to_entries | sort_by(.key | tonumber)[]
        | "| \(.key | tonumber | if . >= 1024 then "\(. / 1024) GiB" else "\(.) MiB" end) | \(.value | commas) ms |" ),
      "",
      "| target | measured | limit | |",
      "|---|---|---|---|",
      ( $r.targets[] | "| \(.what | ltrimstr("  ")) | \(.value) | \(.limit) | \(if .met then "met" else "**missed**" end) |" )
  ' "$json"
}

block() { printf '%s\n\n' "$begin"; markdown; printf '\n%s\n' "$end"; }

current() { awk -v b="$begin" -v e="$end" '$0 == b { on = 1 } on { print } $0 == e { on = 0 }' "$readme"; }

[ -r "$json" ] || { echo "readme.sh: no $json (run make bench)"; exit 1; }
case $mode in
  print) markdown ;;
  check)
    want=$(block) || exit 1
    have=$(current)
    [ -n "$have" ] || { echo "README.md has no bench:begin/bench:end block"; exit 1; }
    [ "$want" = "$have" ] || {
      echo "README.md's performance block is not what tests/bench/results.json gives:"
      diff <(echo "$have") <(echo "$want") | head -n 6
      exit 1
    } ;;
  write)
    grep -qxF "$begin" "$readme" || { echo "README.md has no bench:begin line"; exit 1; }
    new=$(mktemp) && block > "$new" || exit 1
    awk -v b="$begin" -v e="$end" -v f="$new" '
      $0 == b { while ((getline l < f) > 0) print l; skip = 1; next }
      skip && $0 == e { skip = 0; next }
      !skip { print }' "$readme" > "$readme.tmp" && mv "$readme.tmp" "$readme"
    rm -f "$new" ;;
esac
