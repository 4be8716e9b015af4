#!/usr/bin/env bash
# Regenerates docs/performance.md: builds the bench module, generates the benchmark CNNs, runs
# `hedge bench` against ONNX Runtime for every model and thread count, runs the JMH kernel benchmarks
# and writes the report. Needs only Java 17+ and Maven (offline); no Python.
#
#   bench/run-benchmarks.sh
#
# Settings (environment):
#   THREADS="1 2"        thread counts to measure
#   ITERATIONS=50        timed runs per model and engine; WARMUP=10 untimed runs first
#   HEDGE_SHARED=...     the shared directory with models/ (default ../shared next to the repository)
#   JMH=1                run the JMH kernel benchmarks (0 to skip); JMH_ARGS extra JMH options
#   QUANTIZE_ARGS="..."  converter options that make an int8 model (and SPARSE_ARGS an int8+sparse one): when
#                        set, every model is also converted that way with the hedge CLI (HEDGE_CLI, default
#                        ./hedge) and measured as an extra variant against the fp32 ONNX Runtime
#   OUT=bench/target/results   where results go; REPORT=docs/performance.md   the report written
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${HEDGE_SHARED:-$ROOT/../shared}
OUT=${OUT:-$ROOT/bench/target/results}
REPORT=${REPORT:-$ROOT/docs/performance.md}
THREADS=${THREADS:-"1 2"}
ITERATIONS=${ITERATIONS:-50}
WARMUP=${WARMUP:-10}
JMH=${JMH:-1}
JMH_ARGS=${JMH_ARGS:-}
HEDGE_CLI=${HEDGE_CLI:-$ROOT/hedge}

# OpenBLAS chooses its kernels for the CPU unless OPENBLAS_CORETYPE names them; a machine-wide setting for
# an older CPU (this one's environment has OPENBLAS_CORETYPE=Haswell) halves sgemm speed on AVX-512 CPUs.
# Measure what a default installation gets; BENCH_OPENBLAS_CORETYPE=NAME measures a given kernel set.
CORETYPE_BEFORE=${OPENBLAS_CORETYPE:-}
if [ -n "${BENCH_OPENBLAS_CORETYPE:-}" ]; then
    export OPENBLAS_CORETYPE=$BENCH_OPENBLAS_CORETYPE
else
    unset OPENBLAS_CORETYPE
fi

rm -rf "$OUT"
mkdir -p "$OUT/models"

echo "== building (offline)"
# test-compile: the JMH benchmarks are test sources of the bench module
mvn -q -B -o -f "$ROOT/pom.xml" -pl bench -am -DskipTests test-compile dependency:build-classpath \
    -Dmdep.outputFile="$OUT/classpath.txt"
CP="$ROOT/bench/target/classes:$ROOT/bench/target/test-classes:$(cat "$OUT/classpath.txt")"
JAVA=(java --enable-native-access=ALL-UNNAMED -Xss4m -cp "$CP")

{
    echo "date=$(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
    echo "java=$(java -version 2>&1 | head -1)"
    echo "load_before=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo n/a)"
    echo "openblas=kernels ${OPENBLAS_CORETYPE:-detected by OpenBLAS} (OPENBLAS_CORETYPE in the calling environment: ${CORETYPE_BEFORE:-unset})"
} > "$OUT/env.txt"

echo "== generating the benchmark CNNs"
"${JAVA[@]}" dev.hedge.bench.models.BenchModels "$OUT/models"

# name | kind (cnn, mlp, rnn) | ONNX file | runs scale | extra hedge bench options. Runs scale multiplies
# WARMUP and ITERATIONS: the small models take microseconds, and the JIT needs thousands of runs to settle.
MODELS=(
    "digits-cnn|cnn|$ROOT/examples/digits-cnn/model.onnx|40|"
    "mobilenetv2-style|cnn|$OUT/models/mobilenetv2-style.onnx|1|"
    "resnet-style|cnn|$OUT/models/resnet-style.onnx|1|"
    "digits-mlp|mlp|$SHARED/models/digits-mlp/model.onnx|40|"
    "silero-vad|rnn|$SHARED/models/silero-vad/silero_vad_v5.onnx|20|--input-shape input=1,512 --input-shape state=2,1,128 --input-fill sr=16000"
)

: > "$OUT/runs.tsv"

# a command as the report shows it: paths relative to the repository or to $HEDGE_SHARED
printable() {
    local c=${1//$OUT\//bench\/target\/results\/}
    c=${c//$SHARED\//\$HEDGE_SHARED\/}
    echo "${c//$ROOT\//}"
}

# bench NAME KIND VARIANT THREADS MODEL_FILE ORIGINAL_ONNX SCALE EXTRA...
bench() {
    local name=$1 kind=$2 variant=$3 threads=$4 model=$5 onnx=$6 scale=$7
    shift 7
    local base="$name.$variant.t$threads"
    local cmd=(hedge bench "$model" --threads "$threads" --warmup $((WARMUP * scale))
        --iterations $((ITERATIONS * scale)) --profile-ops --compare-onnxruntime "$onnx" --json "$@")
    echo "   ${cmd[*]}"
    if "${JAVA[@]}" dev.hedge.bench.BenchCommand "${cmd[@]:2}" > "$OUT/$base.json" 2> "$OUT/$base.err"; then
        rm -f "$OUT/$base.err"
    else
        rm -f "$OUT/$base.json"
        echo "   failed: $(grep -m1 '^error:' "$OUT/$base.err" || tail -1 "$OUT/$base.err")"
    fi
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$kind" "$variant" "$threads" "$base.json" \
        "$(printable "${cmd[*]}")" >> "$OUT/runs.tsv"
}

# variant NAME ONNX SUFFIX ARGS: converts with the hedge CLI (when compression options are given)
variant() {
    local onnx=$2 suffix=$3 args=$4
    local out="$OUT/models/$1.$suffix.hedge"
    # shellcheck disable=SC2086
    if "$HEDGE_CLI" convert "$onnx" -o "$out" $args > "$OUT/models/$1.$suffix.log" 2>&1; then
        echo "$out"
    fi
}

echo "== models"
for entry in "${MODELS[@]}"; do
    IFS='|' read -r name kind onnx scale extra <<< "$entry"
    if [ ! -f "$onnx" ]; then
        echo "-- $name: $onnx not found, skipped"
        continue
    fi
    echo "-- $name"
    for t in $THREADS; do
        # shellcheck disable=SC2086
        bench "$name" "$kind" fp32 "$t" "$onnx" "$onnx" "$scale" $extra
    done
    if [ -n "${QUANTIZE_ARGS:-}" ]; then
        q=$(variant "$name" "$onnx" int8 "$QUANTIZE_ARGS")
        for t in $THREADS; do
            # shellcheck disable=SC2086
            [ -n "$q" ] && bench "$name" "$kind" int8 "$t" "$q" "$onnx" "$scale" $extra
        done
    fi
    if [ -n "${SPARSE_ARGS:-}" ]; then
        s=$(variant "$name" "$onnx" int8-sparse "$SPARSE_ARGS")
        for t in $THREADS; do
            # shellcheck disable=SC2086
            [ -n "$s" ] && bench "$name" "$kind" int8+sparse "$t" "$s" "$onnx" "$scale" $extra
        done
    fi
done

echo "== kernel rates (one thread, CPU time)"
"${JAVA[@]}" dev.hedge.bench.KernelRates "$OUT/kernel-rates.json" 2> "$OUT/kernel-rates.log" \
    || echo "   failed, see $OUT/kernel-rates.log"

if [ "$JMH" = 1 ]; then
    echo "== JMH kernel benchmarks"
    JMH_CMD=(org.openjdk.jmh.Main KernelBench -p threads="$(echo "$THREADS" | tr ' ' ',')" -rf json
        -rff "$OUT/jmh.json" $JMH_ARGS)
    # int8 kernels join when the native backend is in the build
    if "${JAVA[@]}" dev.hedge.bench.Backends native > /dev/null 2>&1; then
        JMH_CMD+=(-p backend=openblas,java,native
            -p kernel=matmul-512,conv3x3-64x56,conv1x1-96x28x576,conv7x7s2-3x224,conv3x3-256x14,fc-1280x1000,qmatmul-512,qconv3x3-64x56)
    fi
    echo "   java -cp ... ${JMH_CMD[*]}"
    "${JAVA[@]}" "${JMH_CMD[@]}" > "$OUT/jmh.log" 2>&1 || echo "   JMH failed, see $OUT/jmh.log"
fi

echo "load_after=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo n/a)" >> "$OUT/env.txt"
"${JAVA[@]}" dev.hedge.bench.Report "$OUT" "$REPORT"
echo "== wrote $REPORT"
