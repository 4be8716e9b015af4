package dev.hedge.openblas;

import dev.hedge.ir.Node;
import dev.hedge.kernels.Backend;
import dev.hedge.kernels.Capability;
import dev.hedge.kernels.Kernel;
import dev.hedge.kernels.KernelBenchmark;
import dev.hedge.kernels.PrepareContext.ValueType;
import dev.hedge.ops.Op;
import dev.hedge.runtime.DType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Random;

/**
 * fp32 Conv (1-D, 2-D), Gemm and MatMul through OpenBLAS {@code cblas_sgemm} on direct buffers. Use it with
 * {@code RuntimeOptions.defaults().withBackend(OpenBlasBackend.create())}; nodes it does not take
 * (depthwise and 3-D convolutions, other dtypes) run on the Java backend.
 *
 * <p>OpenBLAS picks its kernels for the CPU when it loads, unless the environment variable
 * {@code OPENBLAS_CORETYPE} names them: a value for an older CPU (e.g. {@code Haswell} on an AVX-512 machine)
 * halves sgemm speed (measured, see docs/performance.md).
 */
public final class OpenBlasBackend implements Backend {

    /** Kernel class of every kernel here: their time is OpenBLAS sgemm time. */
    public static final String SGEMM = "openblas.sgemm";

    private static final List<Capability> CAPABILITIES = List.of(
            Capability.of(Op.Conv, SGEMM, DType.FLOAT32, DType.FLOAT32),
            Capability.of(Op.Gemm, SGEMM, DType.FLOAT32, DType.FLOAT32),
            Capability.of(Op.MatMul, SGEMM, DType.FLOAT32, DType.FLOAT32));

    private OpenBlasBackend() {
    }

    /** Loads OpenBLAS (extracting it on first use) and sets it to one thread per caller. */
    public static OpenBlasBackend create() {
        Blas.load();
        return new OpenBlasBackend();
    }

    @Override
    public String name() {
        return "openblas";
    }

    @Override
    public List<Capability> capabilities() {
        return CAPABILITIES;
    }

    @Override
    public Kernel create(Node node, List<ValueType> inputs) {
        switch (node.op()) {
            case Conv:
                return isDepthwise(node, inputs) ? null : new BlasConvKernel(node);
            case Gemm:
                return new BlasGemmKernel(node);
            case MatMul:
                return new BlasMatMulKernel(node);
            default:
                return null;
        }
    }

    /** One input channel per group: a direct kernel beats a GEMM with a one-channel inner dimension. */
    private static boolean isDepthwise(Node node, List<ValueType> inputs) {
        ValueType w = inputs.size() > 1 ? inputs.get(1) : null;
        return w != null && w.shape() != null && w.shape().length > 1 && w.shape()[1] == 1
                && node.intAttr("group") > 1;
    }

    @Override
    public KernelBenchmark benchmark(String kernelClass) {
        return SGEMM.equals(kernelClass) ? OpenBlasBackend::sgemmProblem : null;
    }

    /** A square product of about {@code work} multiply-adds, single-threaded as the kernels call it. */
    static KernelBenchmark.Problem sgemmProblem(long work) {
        int s = (int) Math.max(1, Math.round(Math.cbrt(work)));
        ByteBuffer a = random(s * s, 1);
        ByteBuffer b = random(s * s, 2);
        ByteBuffer c = ByteBuffer.allocateDirect(4 * s * s).order(ByteOrder.LITTLE_ENDIAN);
        long pa = Blas.address(a);
        long pb = Blas.address(b);
        long pc = Blas.address(c);
        return new KernelBenchmark.Problem() {
            /** Keeps the buffers (and so the addresses) alive while the problem is. */
            final ByteBuffer[] keep = {a, b, c};

            @Override
            public long work() {
                return (long) s * s * s;
            }

            @Override
            public void run() {
                Blas.sgemm(false, false, s, s, s, 1f, pa, s, pb, s, 0f, pc, s);
            }
        };
    }

    private static ByteBuffer random(int n, long seed) {
        ByteBuffer b = ByteBuffer.allocateDirect(4 * n).order(ByteOrder.LITTLE_ENDIAN);
        Random r = new Random(seed);
        for (int i = 0; i < n; i++) {
            b.putFloat(4 * i, (float) r.nextGaussian());
        }
        return b;
    }
}
