package dev.hedge.kernels.ref;

import dev.hedge.kernels.KernelRegistry;
import dev.hedge.kernels.ref.reduce.ArgExtremeKernel;
import dev.hedge.kernels.ref.reduce.ReduceKernel;
import dev.hedge.kernels.ref.reduce.ReduceKernel.Kind;
import dev.hedge.kernels.ref.reduce.TopKKernel;
import dev.hedge.ops.Op;

/** Reductions, ArgMax/ArgMin and TopK. */
public final class ReduceKernels {

    private ReduceKernels() {
    }

    public static void register(KernelRegistry r) {
        reduce(r, Op.ReduceSum, Kind.SUM);
        reduce(r, Op.ReduceMean, Kind.MEAN);
        reduce(r, Op.ReduceMax, Kind.MAX);
        reduce(r, Op.ReduceMin, Kind.MIN);
        reduce(r, Op.ReduceProd, Kind.PROD);
        reduce(r, Op.ReduceL1, Kind.L1);
        reduce(r, Op.ReduceL2, Kind.L2);
        reduce(r, Op.ReduceSumSquare, Kind.SUM_SQUARE);
        reduce(r, Op.ReduceLogSum, Kind.LOG_SUM);
        reduce(r, Op.ReduceLogSumExp, Kind.LOG_SUM_EXP);
        r.register(Op.ArgMax, n -> new ArgExtremeKernel(n, true));
        r.register(Op.ArgMin, n -> new ArgExtremeKernel(n, false));
        r.register(Op.TopK, TopKKernel::new);
    }

    private static void reduce(KernelRegistry r, Op op, Kind kind) {
        r.register(op, n -> new ReduceKernel(n, kind));
    }
}
