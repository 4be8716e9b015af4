#!/usr/bin/env bash
# Runs the ONNX conformance suite (ConformanceTest) and prints the pass table and every failure.
#   tests/run-conformance.sh [OPS]      e.g. tests/run-conformance.sh Conv,MaxPool
# Report: tests/target/conformance/report.md, failures.txt. Data: $HEDGE_SHARED (default ../shared).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
shared=${HEDGE_SHARED:-$root/../shared}
cd "$root"
mvn -q -B -o -pl tests -am test -Dtest=ConformanceTest -Dsurefire.failIfNoSpecifiedTests=false \
    -Dhedge.shared="$shared" -Dhedge.ops="${1:-}" -DtrimStackTrace=true
