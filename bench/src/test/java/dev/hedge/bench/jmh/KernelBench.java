package dev.hedge.bench.jmh;

import dev.hedge.bench.Backends;
import dev.hedge.bench.KernelCases;
import dev.hedge.plan.Frame;
import dev.hedge.plan.Plan;
import dev.hedge.runtime.Model;
import dev.hedge.runtime.Tensor;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One kernel (a single-node model, {@link KernelCases}) on one backend and thread count, run through its
 * execution frame as a session would. {@code bench/run-benchmarks.sh} turns the times into GFLOP/s / GOPS
 * and shares of this CPU's peak ({@link dev.hedge.bench.Report}).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED"})
public class KernelBench {

    @Param({"matmul-512", "conv3x3-64x56", "conv1x1-96x28x576", "conv7x7s2-3x224", "conv3x3-256x14",
        "fc-1280x1000"})
    public String kernel;

    @Param({"openblas", "java"})
    public String backend;

    @Param({"1"})
    public int threads;

    private Model model;
    private Frame frame;
    private List<Tensor> inputs;

    @Setup(Level.Trial)
    public void setUp() {
        KernelCases.Case c = KernelCases.get(kernel);
        model = Model.of(c.model(), Backends.options(backend, threads));
        Plan p = model.plan(List.of(c.input().shape()));
        String ran = p.describe().get(0).backend();
        if (!backend.startsWith(ran) && !backend.endsWith(ran)) {
            throw new IllegalStateException(kernel + ": the " + backend + " backend did not take the node ("
                    + ran + " did): " + p.explain());
        }
        frame = p.newFrame();
        inputs = List.of(c.input());
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        model.close();
    }

    @Benchmark
    public List<Tensor> run() {
        return frame.run(inputs);
    }
}
