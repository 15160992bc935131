#!/usr/bin/env bash
# Installs the Debian packages the build and the tests need, only if one is
# missing; `install-deps.sh bench` adds those of `make bench`. As root it
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
)
# `install-deps.sh bench`: also what `make bench` needs (callgrind; gnuplot is above,
# for the map).
if [ "${1:-}" = bench ]; then
  need+=("valgrind:/usr/include/valgrind/callgrind.h")
fi
[ "${1:-}" = fuzz ] && need+=("clang-14:/usr/bin/clang-14" "libclang-rt-14-dev:/usr/lib/llvm-14/lib/clang/14.0.6/lib/linux/libclang_rt.fuzzer-x86_64.a")

missing=()
for entry in "${need[@]}"; do
  [ -e "${entry#*:}" ] || missing+=("${entry%%:*}")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}"
if [ "$(id -u)" = 0 ]; then
  run=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  run=(sudo)
else
  echo "install-deps: need root or sudo to run: apt-get install ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
"${run[@]}" apt-get update -qq
"${run[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
