#!/usr/bin/env bash
# mkesp.sh IMAGE LOADER.EFI KERNEL.ELF CMDLINE
# Builds a FAT EFI system partition image holding the loader as the default
# boot program (\EFI\BOOT\ under its own name: BOOTX64.EFI, BOOTAA64.EFI),
# the kernel and its command line.
set -euo pipefail
img=$1 loader=$2 kernel=$3 cmdline=$4
tmp=$img.tmp
rm -f "$tmp"
truncate -s 16M "$tmp"
mkfs.fat -F 16 -n HOSTMEM "$tmp" >/dev/null 2>&1 || /sbin/mkfs.fat -F 16 -n HOSTMEM "$tmp" >/dev/null
export MTOOLS_SKIP_CHECK=1
mmd -i "$tmp" ::/EFI ::/EFI/BOOT
mcopy -i "$tmp" "$loader" "::/EFI/BOOT/$(basename "$loader")"
mcopy -i "$tmp" "$kernel" ::/kernel.elf
printf '%s' "$cmdline" > "$tmp.cmdline"
mcopy -i "$tmp" "$tmp.cmdline" ::/cmdline.txt
rm -f "$tmp.cmdline"
mv "$tmp" "$img"
