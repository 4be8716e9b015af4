#!/usr/bin/env bash
# Runs the ONNX conformance suite and prints the pass table and every failure.
#   tests/run-conformance.sh [OPS]      e.g. tests/run-conformance.sh Conv,MaxPool
# Needs a prior build (mvn -q -o -DskipTests -pl tests -am package, or mvn verify).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
shared=${HEDGE_SHARED:-$root/../shared}
cp=$(cd "$here" && mvn -q -o dependency:build-classpath -Dmdep.outputFile=/dev/stdout)
classes="$root/schema/target/classes:$root/runtime/target/classes:$root/converter/target/classes:$here/target/classes"
exec java -Xss8m -cp "$classes:$cp" dev.hedge.tests.conformance.ConformanceRunner "$shared/conformance" - ${1:-}
