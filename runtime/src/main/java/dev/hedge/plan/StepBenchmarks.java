package dev.hedge.plan;

import dev.hedge.format.Decoding;
import dev.hedge.ir.Graph;
import dev.hedge.ir.Node;
import dev.hedge.ir.ValueInfo;
import dev.hedge.kernels.Backend;
import dev.hedge.kernels.KernelBenchmark;
import dev.hedge.kernels.PrepareContext.ValueType;
import dev.hedge.kernels.ref.RefBackend;
import dev.hedge.ops.Op;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * Workloads for {@link dev.hedge.kernels.KernelCosts} that need a plan: a kernel of a one-node plan called bare
 * (as a frame calls it, without the frame's dispatch, which {@link #STEP} prices on its own), the per-step cost
 * of a frame, and the Java reference's elementwise kernels.
 */
public final class StepBenchmarks {

    /**
     * Kernel class of a frame's per-step cost (work = steps): what every step pays on top of its kernel. An
     * estimate of a whole graph adds it once per step.
     */
    public static final String STEP = "plan.step";
    /**
     * Kernel class of the Java reference's elementwise kernels (Cast, Mul, Add, activations, quantize,
     * dequantize; work = elements), which have no class in the planner (nothing competes with them): the
     * converter prices with it the float steps an int8 layer adds.
     */
    public static final String JAVA_ELTWISE = "java.eltwise";

    /** Work of {@code KernelCosts}'s small problem. */
    private static final long SMALL = 4096;

    private StepBenchmarks() {
    }

    /** A benchmark for {@link #STEP} or {@link #JAVA_ELTWISE}; null for other classes. */
    public static KernelBenchmark of(String kernelClass) {
        if (STEP.equals(kernelClass)) {
            return StepBenchmarks::steps;
        }
        if (JAVA_ELTWISE.equals(kernelClass)) {
            return StepBenchmarks::javaMul;
        }
        return null;
    }

    /**
     * The one node of {@code g} planned on {@code backend} alone, its kernel called bare on {@code input}; fails
     * when the backend does not take the node.
     */
    public static KernelBenchmark.Problem bare(Backend backend, Graph g, Tensor input, long work, long weights,
            long rows) {
        Planner planner = new Planner(List.of(backend), 1, Decoding::densify);
        Plan plan = planner.plan(g, List.of(new ValueType(input.dtype(), input.shape())));
        String ran = plan.describe().get(0).backend();
        if (plan.steps.length != 1 || !ran.equals(backend.name())) {
            throw new IllegalStateException("benchmark " + g.nodes().get(0).describe() + " planned on " + ran);
        }
        Frame f = plan.newFrame();
        f.run(List.of(input));
        Runnable call = f.stepCall(0);
        return new KernelBenchmark.Problem() {
            @Override
            public long work() {
                return work;
            }

            @Override
            public long weights() {
                return weights;
            }

            @Override
            public long rows() {
                return rows;
            }

            @Override
            public void run() {
                call.run();
            }
        };
    }

    /**
     * A float32 Gemm {@code x[m, k] * w[n, k]^T} with constant weights (a fully connected layer) through
     * {@code backend}'s kernel, called bare: square problems for the per-multiply-add cost, one row for the
     * per-weight one.
     */
    public static KernelBenchmark gemm(Backend backend) {
        return KernelBenchmark.of(work -> {
            int s = (int) Math.max(1, Math.round(Math.cbrt((double) work)));
            return gemm(backend, s, s);
        }, weights -> gemm(backend, 1, (int) Math.max(1, Math.round(Math.sqrt((double) weights)))));
    }

    private static KernelBenchmark.Problem gemm(Backend backend, int m, int s) {
        java.util.Random r = new java.util.Random(5);
        float[] w = new float[s * s];
        float[] x = new float[m * s];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) r.nextGaussian();
        }
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) r.nextGaussian();
        }
        Graph g = Graph.builder("bench")
                .addInput(ValueInfo.of("x", DType.FLOAT32, m, s))
                .initializer("w", Tensor.of(w, s, s))
                .addNode(new Node("gemm", Op.Gemm, List.of("x", "w"), List.of("y"),
                        java.util.Map.of("transB", new dev.hedge.ir.Attr.Int(1))))
                .addOutput(new ValueInfo("y", null, null))
                .build();
        return bare(backend, g, Tensor.of(x, m, s), (long) m * s * s, (long) s * s, m);
    }

    /** A chain of Relu steps on one element run through a frame: the small problem 4 steps, the large 512. */
    private static KernelBenchmark.Problem steps(long work) {
        int n = work <= SMALL ? 4 : 512;
        Graph.Builder b = Graph.builder("bench").addInput(ValueInfo.of("v0", DType.FLOAT32, 1));
        for (int i = 0; i < n; i++) {
            b.addNode(Node.of("r" + i, Op.Relu, List.of("v" + i), List.of("v" + (i + 1))));
        }
        b.addOutput(new ValueInfo("v" + n, null, null));
        Plan plan = new Planner(List.of(RefBackend.INSTANCE), 1, Decoding::densify)
                .plan(b.build(), List.of(new ValueType(DType.FLOAT32, new int[] {1})));
        Frame f = plan.newFrame();
        List<Tensor> in = new ArrayList<>(List.of(Tensor.of(new float[] {0.5f}, 1)));
        return new KernelBenchmark.Problem() {
            @Override
            public long work() {
                return n;
            }

            @Override
            public void run() {
                f.run(in);
            }
        };
    }

    /**
     * The reference Mul by a per-channel scale over [1, 16, p] (work = elements), as the converter's rescale step
     * after an int8 layer with a float output (its Cast costs about twice as much per element, its Add and
     * activation as much or less); the small problem a layer's worth of outputs (16), where the per-call cost shows.
     */
    private static KernelBenchmark.Problem javaMul(long work) {
        int c = 16;
        int p = (int) (work <= SMALL ? 1 : Math.min(work, 1 << 16) / c);
        float[] x = new float[c * p];
        float[] scale = new float[c];
        for (int i = 0; i < x.length; i++) {
            x[i] = (i % 17) * 0.25f - 2;
        }
        for (int i = 0; i < c; i++) {
            scale[i] = 0.01f + i * 1e-3f;
        }
        Graph g = Graph.builder("bench")
                .addInput(ValueInfo.of("x", DType.FLOAT32, 1, c, p))
                .initializer("s", Tensor.of(scale, c, 1))
                .addNode(Node.of("mul", Op.Mul, List.of("x", "s"), List.of("y")))
                .addOutput(new ValueInfo("y", null, null))
                .build();
        return bare(RefBackend.INSTANCE, g, Tensor.of(x, 1, c, p), (long) c * p, 0, 0);
    }
}
