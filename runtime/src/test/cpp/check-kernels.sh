#!/usr/bin/env bash
# Checks the native kernels outside Maven:
#  1. selftest.cpp (every kernel against scalar references) built for this machine and run on each ISA it has;
#  2. for linux-arm64 with aarch64-linux-gnu-g++ (Debian g++-aarch64-linux-gnu): the selftest, and the full
#     JNI library source as JavaCPP generates it, compiled with JavaCPP's linux-arm64 flags; the selftest is
#     run under qemu-aarch64 (Debian qemu-user) when present, once on a CPU with dotprod (-cpu max) and once
#     without (-cpu cortex-a53).
# Needs runtime/target/classes (mvn -q -o -pl runtime -am process-classes) for the JNI source.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
runtime=$(cd "$here/../../.." && pwd)
inc="$runtime/src/main/cpp"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

echo "== host ($(uname -m)): selftest"
g++ -std=c++17 -O3 -Wall -Werror -I"$inc" "$here/selftest.cpp" -o "$out/selftest"
"$out/selftest"

if ! command -v aarch64-linux-gnu-g++ >/dev/null; then
    echo "== arm64: aarch64-linux-gnu-g++ not installed (apt-get install g++-aarch64-linux-gnu); skipped"
    exit 0
fi
echo "== arm64: selftest cross-compiled ($(aarch64-linux-gnu-g++ --version | head -1))"
aarch64-linux-gnu-g++ -std=c++17 -O3 -Wall -Werror -I"$inc" "$here/selftest.cpp" -o "$out/selftest-arm64"
sdots=$(aarch64-linux-gnu-objdump -d "$out/selftest-arm64" | grep -c $'\tsdot' || true)
if [ "$sdots" -gt 0 ]; then
    echo "   $sdots sdot instructions (dotprod path compiled)"
else
    echo "   no sdot instruction in the arm64 build" >&2
    exit 1
fi

echo "== arm64: JNI library (JavaCPP-generated source, linux-arm64 flags)"
jar=$HOME/.m2/repository/org/bytedeco/javacpp/1.5.13/javacpp-1.5.13.jar
java -cp "$jar:$runtime/target/classes" org.bytedeco.javacpp.tools.Builder -nocompile -d "$out/jni" \
    -properties linux-arm64 dev.hedge.kernels.cpu.NativeKernels >/dev/null
jdk=$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")
aarch64-linux-gnu-g++ -std=c++17 -O3 -s -Wall -fPIC -pthread -shared -mno-outline-atomics -I"$inc" \
    -I"$jdk/include" -I"$jdk/include/linux" "$out"/jni/*.cpp -o "$out/libjniNativeKernels.so"
file "$out/libjniNativeKernels.so" | sed 's/^.*: /   /'

if command -v qemu-aarch64 >/dev/null; then
    echo "== arm64 under qemu-aarch64 -cpu max (NEON + dotprod)"
    qemu-aarch64 -cpu max -L /usr/aarch64-linux-gnu "$out/selftest-arm64"
    echo "== arm64 under qemu-aarch64 -cpu cortex-a53 (NEON, no dotprod)"
    qemu-aarch64 -cpu cortex-a53 -L /usr/aarch64-linux-gnu "$out/selftest-arm64"
else
    echo "== qemu-aarch64 not installed (apt-get install qemu-user); arm64 build not run"
fi
