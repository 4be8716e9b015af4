package dev.hedge.openblas;

import dev.hedge.ir.Node;
import dev.hedge.kernels.Backend;
import dev.hedge.kernels.Capability;
import dev.hedge.kernels.Kernel;
import dev.hedge.kernels.KernelBenchmark;
import dev.hedge.kernels.PrepareContext.ValueType;
import dev.hedge.ops.Op;
import dev.hedge.plan.StepBenchmarks;
import dev.hedge.runtime.DType;
import java.util.List;

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
        return SGEMM.equals(kernelClass) ? StepBenchmarks.gemm(this) : null;
    }
}
