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
#   QUANTIZE_ARGS="..."  converter options that make the int8 variant of every model (default: static int8,
#                        "--quantize int8"), SPARSE_ARGS those of the int8+sparse one (default: 80 % of the
#                        weights pruned in 1x4 blocks, the sparse kernels' shape, then int8); each is converted
#                        with the hedge CLI (HEDGE_CLI, default ./hedge) and measured against the fp32 ONNX
#                        Runtime. Set one to "" to skip that variant. Calibration data: the model's calib.npy
#                        when it has one, else CALIB_SAMPLES (default 8) random samples (dev.hedge.bench.CalibData);
#                        the figures are about speed, not accuracy
#   OUT=bench/target/results   where results go; REPORT=docs/performance.md   the report written
#
# Kernel costs are measured afresh in every run (OUT/kernel-costs.properties, passed to every JVM with
# -Dhedge.kernelCosts), so the plans and the report's cost table do not depend on an older cache.
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
QUANTIZE_ARGS=${QUANTIZE_ARGS-"--quantize int8"}
SPARSE_ARGS=${SPARSE_ARGS-"--quantize int8 --sparsity 0.8 --prune-block 1x4 --no-reconstruct"}
CALIB_SAMPLES=${CALIB_SAMPLES:-8}

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
KERNEL_COSTS="$OUT/kernel-costs.properties"
JAVA=(java --enable-native-access=ALL-UNNAMED -Xss4m "-Dhedge.kernelCosts=$KERNEL_COSTS" -cp "$CP")
export HEDGE_JAVA_OPTS="${HEDGE_JAVA_OPTS:-} -Dhedge.kernelCosts=$KERNEL_COSTS"
if [ -n "$QUANTIZE_ARGS$SPARSE_ARGS" ]; then
    # the converter runs from the CLI jar: built from this tree, like the classes above
    mvn -q -B -o -f "$ROOT/pom.xml" -pl cli -am -DskipTests package
fi

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
# WARMUP and ITERATIONS: the small models take microseconds, and the JIT needs thousands of runs to settle (at 400
# warm-up runs digits-cnn int8 measured 0.72-0.76x ONNX Runtime, at 3000 0.66x).
MODELS=(
    "digits-cnn|cnn|$ROOT/examples/digits-cnn/model.onnx|400|"
    "mobilenetv2-style|cnn|$OUT/models/mobilenetv2-style.onnx|1|"
    "resnet-style|cnn|$OUT/models/resnet-style.onnx|1|"
    "digits-mlp|mlp|$SHARED/models/digits-mlp/model.onnx|400|"
    "silero-vad|rnn|$SHARED/models/silero-vad/silero_vad_v5.onnx|100|--input-shape input=1,512 --input-shape state=2,1,128 --input-fill sr=16000"
)

: > "$OUT/runs.tsv"
: > "$OUT/conversions.txt"

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

# calibration NAME ONNX EXTRA...: converter options naming calibration data for the model
calibration() {
    local name=$1 onnx=$2
    shift 2
    if [ -f "$(dirname "$onnx")/calib.npy" ]; then
        echo "--calib $(dirname "$onnx")/calib.npy"
    else
        "${JAVA[@]}" dev.hedge.bench.CalibData "$onnx" "$OUT/calib/$name" "$CALIB_SAMPLES" "$@" \
            2> "$OUT/calib-$name.log"
    fi
}

# variant NAME ONNX SUFFIX ARGS CALIB: converts with the hedge CLI, prints the file made (nothing on failure)
variant() {
    local onnx=$2 suffix=$3 args=$4 calib=$5
    local out="$OUT/models/$1.$suffix.hedge"
    local cmd="hedge convert $(printable "$onnx") -o $(printable "$out") $args $(printable "$calib")"
    echo "   $cmd" >&2
    echo "$cmd" >> "$OUT/conversions.txt"
    # shellcheck disable=SC2086
    if "$HEDGE_CLI" convert "$onnx" -o "$out" $args $calib > "$OUT/models/$1.$suffix.log" 2>&1; then
        echo "$out"
    else
        echo "   conversion failed: $(grep -m1 '^error' "$OUT/models/$1.$suffix.log" || tail -1 "$OUT/models/$1.$suffix.log")" >&2
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
    calib=""
    if [ -n "$QUANTIZE_ARGS$SPARSE_ARGS" ]; then
        # shellcheck disable=SC2086
        calib=$(calibration "$name" "$onnx" $extra) || echo "   no calibration data, see $OUT/calib-$name.log"
    fi
    if [ -n "$QUANTIZE_ARGS" ] && [ -n "$calib" ]; then
        q=$(variant "$name" "$onnx" int8 "$QUANTIZE_ARGS" "$calib")
        for t in $THREADS; do
            # shellcheck disable=SC2086
            [ -n "$q" ] && bench "$name" "$kind" int8 "$t" "$q" "$onnx" "$scale" $extra
        done
    fi
    if [ -n "$SPARSE_ARGS" ] && [ -n "$calib" ]; then
        s=$(variant "$name" "$onnx" int8-sparse "$SPARSE_ARGS" "$calib")
        for t in $THREADS; do
            # shellcheck disable=SC2086
            [ -n "$s" ] && bench "$name" "$kind" int8+sparse "$t" "$s" "$onnx" "$scale" $extra
        done
    fi
done

echo "== kernel rates (one thread, CPU time; dense against 80 %-sparse int8 layers)"
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
