#!/usr/bin/env bash
# Times the native int8 kernels (single thread): dense GEMM per instruction set, sparse vs dense FC and 1x1 conv.
# Needs a prior build: mvn -q -o -pl runtime -am test-compile
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
jar=$HOME/.m2/repository/org/bytedeco/javacpp/1.5.13/javacpp-1.5.13.jar
exec java -cp "$here/target/classes:$here/target/test-classes:$jar" dev.hedge.kernels.cpu.NativeBench "$@"
