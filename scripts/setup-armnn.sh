#!/usr/bin/env bash
# Installs what the Arm NN delegate and its tests (mvn -Parmnn) need: Debian's Arm NN 20.08 headers and
# library, and its reference backend CpuRef (on arm64 Debian also ships the CpuAcc/GpuAcc backends:
# libarmnn-cpuacc-backend22, libarmnn-gpuacc-backend22). Debian bookworm or later; run as root or with sudo.
set -euo pipefail
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq libarmnn-dev libarmnn-cpuref-backend22
echo "Arm NN installed: build and test with  mvn -B -Parmnn -pl device-profiles -am verify"
