#!/usr/bin/env bash
# Installs the Debian packages the build and the tests need, only if one is
# missing; `install-deps.sh bench` adds those of `make bench`.  The AArch64
# kernel's cross tools and firmware are in the list too, and GNU-EFI for
# arm64 is unpacked under build/aarch64/gnu-efi (see the end: Debian's arm64
# gnu-efi cannot be installed beside the amd64 one). As root it
# calls apt-get; otherwise sudo; otherwise it says what to install and fails.
set -euo pipefail

# package : a file that proves it is installed
need=(
  "gcc:/usr/bin/gcc"
  "make:/usr/bin/make"
  "binutils:/usr/bin/objcopy"
  "gnu-efi:/usr/lib/crt0-efi-x86_64.o"
  "qemu-system-x86:/usr/bin/qemu-system-x86_64"
  "ovmf:/usr/share/OVMF/OVMF_CODE_4M.fd"
  "mtools:/usr/bin/mcopy"
  "dosfstools:/sbin/mkfs.fat"
  "libcmocka-dev:/usr/include/cmocka.h"
  "gdb:/usr/bin/gdb"
  "iproute2:/usr/bin/ss"
  "gnuplot-nox:/usr/bin/gnuplot"
  "jq:/usr/bin/jq"
  "util-linux:/usr/bin/setpriv"
  "bsdutils:/usr/bin/script"
  "pkgconf:/usr/bin/pkg-config"
  "libxml2-utils:/usr/bin/xmllint"
  "gcc-aarch64-linux-gnu:/usr/bin/aarch64-linux-gnu-gcc"
  "binutils-aarch64-linux-gnu:/usr/bin/aarch64-linux-gnu-ld"
  "qemu-system-arm:/usr/bin/qemu-system-aarch64"
  "qemu-efi-aarch64:/usr/share/AAVMF/AAVMF_CODE.fd"
  "gdb-multiarch:/usr/bin/gdb-multiarch"
)
# `install-deps.sh bench`: also what `make bench` needs (callgrind; gnuplot is above,
# for the map).
if [ "${1:-}" = bench ]; then
  need+=("valgrind:/usr/include/valgrind/callgrind.h")
fi
[ "${1:-}" = fuzz ] && need+=("clang-14:/usr/bin/clang-14" "libclang-rt-14-dev:/usr/lib/llvm-14/lib/clang/14.0.6/lib/linux/libclang_rt.fuzzer-x86_64.a")

# GNU-EFI for arm64: fetched by name from the Debian archive and unpacked,
# never installed (it would replace the amd64 one).  The arm64 architecture
# is known to apt only for the download.
GNU_EFI_ARM64=build/aarch64/gnu-efi   # relative: make runs this from the top of the tree

missing=()
for entry in "${need[@]}"; do
  [ -e "${entry#*:}" ] || missing+=("${entry%%:*}")
done
arm_efi_missing=0
[ -e "$GNU_EFI_ARM64/usr/lib/crt0-efi-aarch64.o" ] || arm_efi_missing=1
[ ${#missing[@]} -eq 0 ] && [ $arm_efi_missing = 0 ] && exit 0

if [ "$(id -u)" = 0 ]; then
  run=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  run=(sudo)
else
  echo "install-deps: need root or sudo to run: apt-get install ${missing[*]}" \
       "${arm_efi_missing/1/and apt-get download gnu-efi:arm64}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive

if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  "${run[@]}" apt-get update -qq
  "${run[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

fetch_gnu_efi_arm64() {
  local tmp
  tmp=$(mktemp -d)
  chmod 0755 "$tmp"   # apt fetches as _apt
  echo "install-deps: fetching gnu-efi:arm64 into $GNU_EFI_ARM64"
  "${run[@]}" dpkg --add-architecture arm64
  "${run[@]}" apt-get update -qq
  ( cd "$tmp" && apt-get download -qq gnu-efi:arm64 ) || status=1
  "${run[@]}" dpkg --remove-architecture arm64
  "${run[@]}" apt-get update -qq
  [ "${status:-0}" = 0 ] || { rm -rf "$tmp"; echo "install-deps: apt-get download gnu-efi:arm64 failed" >&2; return 1; }
  mkdir -p "$GNU_EFI_ARM64"
  dpkg-deb -x "$tmp"/gnu-efi_*_arm64.deb "$GNU_EFI_ARM64"
  rm -rf "$tmp"
}
[ $arm_efi_missing = 0 ] || fetch_gnu_efi_arm64
