package dev.hedge.kernels.ref.linalg;

import dev.hedge.ir.Node;
import dev.hedge.kernels.Kernel;
import dev.hedge.ops.Op;
import java.util.List;

/** Creates the Java reference kernels of this package; the kernel classes themselves stay package-private. */
public final class LinalgKernelFactory {

    /** The ops this package implements. */
    public static final List<Op> OPS = List.of(Op.Conv, Op.ConvTranspose, Op.Gemm, Op.MatMul, Op.MaxPool,
            Op.AveragePool, Op.GlobalAveragePool, Op.GlobalMaxPool);

    private LinalgKernelFactory() {
    }

    public static Kernel create(Node node) {
        switch (node.op()) {
            case Conv: return new ConvKernel(node);
            case ConvTranspose: return new ConvTransposeKernel(node);
            case Gemm: return new GemmKernel(node);
            case MatMul: return new MatMulKernel(node);
            case MaxPool: case AveragePool: case QLinearAveragePool: return new PoolKernel(node);
            case GlobalAveragePool: case GlobalMaxPool: return new GlobalPoolKernel(node);
            default: throw new IllegalArgumentException("no linalg kernel for " + node.describe());
        }
    }
}
