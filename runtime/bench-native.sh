#!/usr/bin/env bash
# Times the native int8 kernels (single thread): dense GEMM per instruction set, sparse vs dense FC and 1x1 conv.
# Needs a prior build: mvn -q -o -pl runtime -am test-compile
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
m2=$HOME/.m2/repository
cp="$here/target/classes:$here/target/test-classes:$here/../schema/target/classes"
cp="$cp:$m2/org/bytedeco/javacpp/1.5.13/javacpp-1.5.13.jar:$m2/com/google/flatbuffers/flatbuffers-java/2.0.8/flatbuffers-java-2.0.8.jar"
cp="$cp:$m2/org/slf4j/slf4j-api/2.0.20/slf4j-api-2.0.20.jar"
exec java -cp "$cp" dev.hedge.kernels.cpu.NativeBench "$@"
