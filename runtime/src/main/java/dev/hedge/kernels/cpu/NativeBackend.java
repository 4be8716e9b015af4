package dev.hedge.kernels.cpu;

import dev.hedge.ir.Node;
import dev.hedge.kernels.Backend;
import dev.hedge.kernels.Capability;
import dev.hedge.kernels.Kernel;
import dev.hedge.kernels.KernelBenchmark;
import dev.hedge.kernels.Offer;
import dev.hedge.kernels.PrepareContext.ValueType;
import dev.hedge.kernels.util.FusedActivation;
import dev.hedge.ops.Op;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * C++ kernels (JavaCPP) for the quantized ops and for sparse weights: int8 GEMM (AVX-512 VNNI, AVX2, NEON
 * dotprod / NEON, scalar), depthwise convolution, 8-bit max pooling and sparse GEMM. It offers a kernel only
 * for nodes it runs exactly as the Java reference does and returns null for everything else, so it is
 * always used ahead of the reference backend, never instead of it.
 *
 * <p>The instruction set is chosen once from the running CPU (see {@link #isa()}); the library is built with
 * portable base flags and each wider ISA lives in functions compiled for it.
 *
 * <p>Kernel classes (their costs are measured per host, {@link dev.hedge.kernels.KernelCosts}), each suffixed
 * with the instruction set, e.g. {@code native.s8gemm.avx2}: {@code s8gemm} (dense int8 GEMM, 1x1 convolutions
 * included), {@code s8conv} (dense int8 convolutions through an im2col panel), {@code
 * sparse.s8} and {@code sparse.f32} (sparse weights, compared with the dense fp32 kernels of the other
 * backends at the weights' density), {@code conv.f32} (dense fp32 Conv, weighed against OpenBLAS and Java),
 * {@code dwconv.s8}, {@code dwconv.f32}, {@code maxpool.8}, {@code pool.f32}, {@code eltwise.f32}, {@code qdq},
 * {@code eltwise.8} (QLinearAdd / QLinearMul), {@code gavgpool.8} (QLinearGlobalAveragePool) and {@code avgpool.8}
 * (QLinearAveragePool)
 * (direct kernels, not measured by the planner: the reference backend's counterparts have no class either, so
 * priority decides; {@code dwconv.s8}, {@code dwconv.f32}, {@code qdq}, {@code eltwise.8} and {@code gavgpool.8}
 * have benchmarks all the same, for the converter's speed check, which weighs an int8 layer against its float
 * form). {@code s8gemm}, {@code s8conv}, {@code dwconv.s8}, {@code conv.f32}, {@code pool.f32}, {@code
 * eltwise.f32} and, on AVX-512 VNNI, {@code sparse.s8} split work over the intra-op threads.
 * LSTMs with int8 weight-only W and R run on {@link LstmQ8Kernel} (AVX-512; no measured class), which reads the
 * weights as stored.
 */
public final class NativeBackend implements Backend {

    private static final int BEST = bestIsa();

    private final int isa;
    private final String s8gemm;
    private final String s8conv;
    private final String sparseS8;
    private final String sparseF32;
    private final String dwconvS8;
    private final String dwconvF32;
    private final String maxpool8;
    private final String qdq;
    private final String poolF32;
    private final String convF32;
    private final String eltwiseF32;
    private final String eltwise8;
    private final String gavgpool8;
    private final String avgpool8;
    private final List<Capability> capabilities;

    /** The backend for the best instruction set of this CPU; check {@link #isAvailable()} first. */
    public NativeBackend() {
        this(BEST);
    }

    private NativeBackend(int isa) {
        if (!isAvailable()) {
            throw new IllegalStateException("native kernels unavailable: " + unavailableReason());
        }
        Native.checkIsa(isa);
        this.isa = isa;
        String suffix = "." + Native.ISA_NAMES[isa];
        s8gemm = "native.s8gemm" + suffix;
        s8conv = "native.s8conv" + suffix;
        sparseS8 = "native.sparse.s8" + suffix;
        sparseF32 = "native.sparse.f32" + suffix;
        dwconvS8 = "native.dwconv.s8" + suffix;
        dwconvF32 = "native.dwconv.f32" + suffix;
        maxpool8 = "native.maxpool.8" + suffix;
        qdq = "native.qdq" + suffix;
        poolF32 = "native.pool.f32" + suffix;
        convF32 = "native.conv.f32" + suffix;
        eltwiseF32 = "native.eltwise.f32" + suffix;
        eltwise8 = "native.eltwise.8" + suffix;
        gavgpool8 = "native.gavgpool.8" + suffix;
        avgpool8 = "native.avgpool.8" + suffix;
        List<Capability> c = new ArrayList<>();
        // the dense int8 GEMM, convolution and depthwise kernels split their tiles over the intra-op threads
        for (Op op : new Op[] {Op.QLinearMatMul, Op.MatMulInteger, Op.QLinearConv, Op.ConvInteger}) {
            c.add(int8Parallel(op, s8gemm));
        }
        c.add(int8Parallel(Op.QLinearConv, s8conv));
        c.add(int8Parallel(Op.ConvInteger, s8conv));
        c.add(int8Parallel(Op.QLinearConv, dwconvS8));
        c.add(int8Parallel(Op.ConvInteger, dwconvS8));
        c.add(int8(Op.MaxPool, maxpool8));
        c.add(int8(Op.QuantizeLinear, qdq));
        c.add(int8(Op.DequantizeLinear, qdq));
        c.add(Capability.of(Op.QLinearAdd, eltwise8).withPrecision(Capability.Precision.INT8));
        c.add(Capability.of(Op.QLinearMul, eltwise8).withPrecision(Capability.Precision.INT8));
        c.add(int8(Op.QLinearGlobalAveragePool, gavgpool8));
        c.add(int8(Op.QLinearAveragePool, avgpool8));
        for (Op op : new Op[] {Op.MaxPool, Op.AveragePool, Op.GlobalMaxPool, Op.GlobalAveragePool}) {
            c.add(Capability.of(op, poolF32, DType.FLOAT32));
        }
        c.add(Capability.of(Op.Conv, dwconvF32, DType.FLOAT32, DType.FLOAT32).serial());
        c.add(Capability.of(Op.Conv, convF32, DType.FLOAT32, DType.FLOAT32));
        c.add(Capability.of(Op.Add, eltwiseF32, DType.FLOAT32, DType.FLOAT32));
        // the sparse int8 k4 kernel (AVX-512) splits its output rows; the int16-pair one runs a layer at once
        for (Op op : new Op[] {Op.QLinearConv, Op.QLinearMatMul}) {
            c.add((isa == Native.ISA_AVX512 ? int8Parallel(op, sparseS8) : int8(op, sparseS8)).sparse());
        }
        for (Op op : new Op[] {Op.Conv, Op.Gemm, Op.MatMul}) {
            c.add(Capability.of(op, sparseF32, DType.FLOAT32).serial().sparse());
        }
        capabilities = List.copyOf(c);
    }

    /** 8-bit inputs of either signedness, checked by {@link #create}; hence no dtype in the capability. */
    private static Capability int8(Op op, String kernelClass) {
        return int8Parallel(op, kernelClass).serial();
    }

    /** {@link #int8} for a kernel that splits its work over the intra-op threads. */
    private static Capability int8Parallel(Op op, String kernelClass) {
        return Capability.of(op, kernelClass).withPrecision(Capability.Precision.INT8);
    }

    /**
     * A backend restricted to one instruction set ({@code scalar}, {@code avx2}, {@code avx512-vnni},
     * {@code neon}, {@code neon-dotprod}); for tests and benchmarks of each code path.
     */
    public static NativeBackend withIsa(String name) {
        for (int i = 0; i < Native.ISA_NAMES.length; i++) {
            if (Native.ISA_NAMES[i].equals(name)) {
                return new NativeBackend(i);
            }
        }
        throw new IllegalArgumentException("unknown instruction set '" + name + "'");
    }

    /** Whether the library loaded and this CPU has a vector instruction set the kernels use. */
    public static boolean isAvailable() {
        return unavailableReason() == null;
    }

    /** Why {@link #isAvailable()} is false, or null when it is true. */
    public static String unavailableReason() {
        Throwable t = Native.loadError();
        if (t != null) {
            return "native library did not load (" + t + "); built without a C++ compiler, or not built for "
                    + System.getProperty("os.name") + "/" + System.getProperty("os.arch");
        }
        if (BEST == Native.ISA_SCALAR) {
            return "CPU has neither AVX2+FMA nor NEON; only the portable scalar path would run";
        }
        return null;
    }

    /** Instruction sets this CPU runs, e.g. [scalar, avx2, avx512-vnni]; empty when the library did not load. */
    public static List<String> supportedIsas() {
        java.util.ArrayList<String> l = new java.util.ArrayList<>();
        for (int i = 0; i < Native.ISA_NAMES.length; i++) {
            if ((Native.isaMask() & (1 << i)) != 0) {
                l.add(Native.ISA_NAMES[i]);
            }
        }
        return l;
    }

    private static int bestIsa() {
        int m = Native.isaMask();
        for (int isa : new int[] {Native.ISA_AVX512, Native.ISA_NEON_DOT, Native.ISA_AVX2, Native.ISA_NEON}) {
            if ((m & (1 << isa)) != 0) {
                return isa;
            }
        }
        return Native.ISA_SCALAR;
    }

    public String isa() {
        return Native.ISA_NAMES[isa];
    }

    int isaIndex() {
        return isa;
    }

    @Override
    public String name() {
        return "native";
    }

    @Override
    public List<Capability> capabilities() {
        return capabilities;
    }

    /**
     * At most two offers: the sparse kernel when the weights are sparse-encoded (it reads them as stored),
     * and the dense kernel of {@link #create}. Each is made only if this backend runs the node exactly.
     */
    @Override
    public List<Offer> offers(Node node, List<ValueType> inputs, List<Tensor> constants) {
        List<Offer> l = new ArrayList<>(2);
        Tensor w = Capability.weightConstant(node, constants);
        if (w != null && w.sparse() != null) {
            for (Capability c : capabilities) {
                if (c.weights() == Capability.Weights.SPARSE && c.matches(node, inputs, constants)
                        && createSparse(node, inputs, w) != null) {
                    l.add(Offer.of(this, c, Backend.density(w), () -> createSparse(node, inputs, w)));
                    break;
                }
            }
        }
        if (node.op() == Op.LSTM && LstmQ8Kernel.declines(node, inputs, constants, isa) == null) {
            // reads W and R as stored: int8 with their scales (no measured class: backend priority decides)
            l.add(new Offer(this, null, Capability.Precision.INT8, false, 1, true, () -> new LstmQ8Kernel(node, isa)));
        }
        if (create(node, inputs) != null) {
            String cls = denseClass(node, inputs);
            for (Capability c : capabilities) {
                if (c.kernelClass().equals(cls) && c.matches(node, inputs, constants)) {
                    l.add(Offer.of(this, c, 1, () -> create(node, inputs)));
                    break;
                }
            }
        }
        return l;
    }

    /** The class of the dense kernel {@link #create} makes for a node it takes. */
    private String denseClass(Node node, List<ValueType> inputs) {
        switch (node.op()) {
            case QLinearConv:
                return depthwise(node, inputs, 3) ? dwconvS8 : pointwise(node, inputs, 3) ? s8gemm : s8conv;
            case ConvInteger:
                return depthwise(node, inputs, 1) ? dwconvS8 : pointwise(node, inputs, 1) ? s8gemm : s8conv;
            case Conv:
                return depthwiseF32(node, inputs) ? dwconvF32 : convF32;
            case MaxPool:
                return type(inputs, 0) == DType.FLOAT32 ? poolF32 : maxpool8;
            case AveragePool:
            case GlobalMaxPool:
            case GlobalAveragePool:
                return poolF32;
            case Add:
                return eltwiseF32;
            case QLinearAdd:
            case QLinearMul:
                return eltwise8;
            case QLinearGlobalAveragePool:
                return gavgpool8;
            case QLinearAveragePool:
                return avgpool8;
            case QuantizeLinear:
            case DequantizeLinear:
                return qdq;
            default:
                return s8gemm;
        }
    }

    /**
     * A 1x1 kernel without stride, padding or groups: the image is the GEMM's panel as it stands. Other
     * convolutions gather an im2col panel per call, which costs per multiply-add several times what a product
     * does: they are the {@code s8conv} class.
     */
    private static boolean pointwise(Node node, List<ValueType> in, int wIn) {
        int[] w = wIn < in.size() && in.get(wIn) != null ? in.get(wIn).shape() : null;
        if (w == null || node.intAttr("group") != 1) {
            return false;
        }
        for (int d = 2; d < w.length; d++) {
            if (w[d] != 1) {
                return false;
            }
        }
        for (String a : new String[] {"strides", "pads"}) {
            if (node.hasAttr(a)) {
                for (long v : node.intsAttr(a)) {
                    if (v != (a.equals("strides") ? 1 : 0)) {
                        return false;
                    }
                }
            }
        }
        return !node.hasAttr("auto_pad") || node.stringAttr("auto_pad").equals("NOTSET")
                || node.stringAttr("auto_pad").equals("VALID");
    }

    /** As the kernels decide: group = channels, one input channel per group. */
    private static boolean depthwise(Node node, List<ValueType> in, int wIn) {
        int[] x = in.get(0) != null ? in.get(0).shape() : null;
        int[] w = wIn < in.size() && in.get(wIn) != null ? in.get(wIn).shape() : null;
        return x != null && w != null && x.length > 1 && w.length > 1 && w[1] == 1 && node.intAttr("group") == x[1]
                && x[1] > 1;
    }

    @Override
    public KernelBenchmark benchmark(String kernelClass) {
        if (kernelClass.equals(s8gemm)) {
            return NativeBenchmarks.s8gemm(this);
        }
        if (kernelClass.equals(s8conv)) {
            return NativeBenchmarks.s8conv(this);
        }
        if (kernelClass.equals(dwconvS8) || kernelClass.equals(dwconvF32)) {
            return NativeBenchmarks.dwconv(this, kernelClass.equals(dwconvS8));
        }
        if (kernelClass.equals(sparseS8)) {
            return NativeBenchmarks.sparseS8(this);
        }
        if (kernelClass.equals(sparseF32)) {
            return NativeBenchmarks.sparseF32(this);
        }
        if (kernelClass.equals(convF32)) {
            return NativeBenchmarks.convF32(this);
        }
        if (kernelClass.equals(qdq)) {
            return NativeBenchmarks.quantize(this);
        }
        if (kernelClass.equals(eltwise8)) {
            return NativeBenchmarks.qelt(this);
        }
        if (kernelClass.equals(gavgpool8)) {
            return NativeBenchmarks.qpool(this);
        }
        return null;
    }

    @Override
    public Kernel create(Node node, List<ValueType> inputs) {
        if (hasEmptyInput(inputs)) {
            return null;
        }
        switch (node.op()) {
            case QLinearMatMul:
                return qlinearMatMul(node, inputs) ? new QMatMulKernel(node, isa, false) : null;
            case MatMulInteger:
                return bytes(inputs, 0, 1) && zpCount(inputs, 3, dim(inputs, 1, -1)) ? new QMatMulKernel(node, isa, false) : null;
            case QLinearConv:
                return qlinearConv(node, inputs) ? new QConvKernel(node, isa, false) : null;
            case ConvInteger:
                return bytes(inputs, 0, 1) && spatial(inputs, 0) && zpCount(inputs, 2, 1)
                        && zpCount(inputs, 3, dim(inputs, 1, 0)) ? new QConvKernel(node, isa, false) : null;
            case Conv:
                if (depthwiseF32(node, inputs)) {
                    return new DepthwiseF32Kernel(node, isa);
                }
                return denseF32Conv(node, inputs) ? new ConvF32Kernel(node, isa) : null;
            case MaxPool:
                if (floats(inputs, 0)) {
                    return spatial(inputs, 0) && noIndices(node) ? new PoolF32Kernel(node, isa) : null;
                }
                return bytes(inputs, 0) && spatial(inputs, 0) && noIndices(node) ? new MaxPool8Kernel(node, isa) : null;
            case AveragePool:
                return floats(inputs, 0) && spatial(inputs, 0) ? new PoolF32Kernel(node, isa) : null;
            case GlobalMaxPool:
            case GlobalAveragePool:
                return floats(inputs, 0) && rankAtLeast(inputs, 0, 3) ? new PoolF32Kernel(node, isa) : null;
            case Add:
                return floats(inputs, 0, 1) && sameShape(inputs, 0, 1) ? new AddF32Kernel(node, isa) : null;
            case QLinearAdd:
            case QLinearMul:
                return bytes(inputs, 0, 3) && perTensor(inputs, 1, 2, 4, 5, 6, 7)
                        && QEltKernel.Layout.of(shape(inputs, 0), shape(inputs, 3)) != null && fusable(node)
                        ? new QEltKernel(node, isa) : null;
            case QLinearGlobalAveragePool:
                return bytes(inputs, 0) && perTensor(inputs, 1, 2, 3, 4) && rankAtLeast(inputs, 0, 3)
                        ? new QGlobalAvgKernel(node, isa) : null;
            case QLinearAveragePool:
                return bytes(inputs, 0) && perTensor(inputs, 1, 2, 3, 4) && spatial(inputs, 0)
                        ? new QAvgPoolKernel(node) : null;
            case QuantizeLinear:
            case DequantizeLinear:
                return QdqKernel.takes(node, type(inputs, 0), shape(inputs, 1), type(inputs, 1), type(inputs, 2),
                        shape(inputs, 2)) ? new QdqKernel(node, isa) : null;
            default:
                return null;
        }
    }

    /**
     * A kernel for sparse-encoded constant weights {@code w}, read as stored: QLinearConv (ungrouped),
     * QLinearMatMul (2-D B) and float32 Conv (ungrouped), Gemm (no transA, alpha = beta = 1, per-column C) and
     * MatMul (2-D B); else null. The weights are re-laid out at prepare into the sparse kernels' format;
     * nothing dense is kept.
     */
    private Kernel createSparse(Node node, List<ValueType> inputs, Tensor w) {
        if (hasEmptyInput(inputs)) {
            return null;
        }
        Op op = node.op();
        switch (op) {
            case QLinearConv:
                return node.intAttr("group") == 1 && qlinearConv(node, inputs) ? new QConvKernel(node, isa, true) : null;
            case QLinearMatMul:
                return w.rank() == 2 && qlinearMatMul(node, inputs) ? new QMatMulKernel(node, isa, true) : null;
            case Conv:
                return w.dtype() == DType.FLOAT32 && type(inputs, 0) == DType.FLOAT32 && spatial(inputs, 0)
                        && node.intAttr("group") == 1 && fusedKnown(node) ? new SparseF32Kernel(node, isa) : null;
            case Gemm: {
                long n = node.intAttr("transB") != 0 ? w.dim(0) : w.dim(1);
                boolean c = inputs.size() < 3 || inputs.get(2) == null
                        || (type(inputs, 2) == DType.FLOAT32 && perChannel(inputs, 2, n) && rankAtMost(inputs, 2, 2));
                return w.dtype() == DType.FLOAT32 && w.rank() == 2 && type(inputs, 0) == DType.FLOAT32
                        && rankIs(inputs, 0, 2) && node.intAttr("transA") == 0 && node.floatAttr("alpha") == 1f
                        && node.floatAttr("beta") == 1f && c && fusedKnown(node) ? new SparseF32Kernel(node, isa) : null;
            }
            case MatMul:
                return w.dtype() == DType.FLOAT32 && w.rank() == 2 && type(inputs, 0) == DType.FLOAT32
                        && fusedKnown(node) ? new SparseF32Kernel(node, isa) : null;
            default:
                return null;
        }
    }

    /** Scales / zero points of one element each; omitted optional ones pass. */
    private static boolean perTensor(List<ValueType> in, int... idx) {
        for (int i : idx) {
            if (i < in.size() && in.get(i) != null && count(in, i) != 1) {
                return false;
            }
        }
        return true;
    }

    private static boolean sameShape(List<ValueType> in, int i, int j) {
        int[] a = i < in.size() && in.get(i) != null ? in.get(i).shape() : null;
        int[] b = j < in.size() && in.get(j) != null ? in.get(j).shape() : null;
        return a != null && java.util.Arrays.equals(a, b);
    }

    private static boolean noIndices(Node node) {
        return node.outputs().size() < 2 || node.output(1).isEmpty();
    }

    private static boolean rankAtLeast(List<ValueType> in, int i, int rank) {
        int[] s = i < in.size() && in.get(i) != null ? in.get(i).shape() : null;
        return s != null && s.length >= rank;
    }

    private static boolean fusedKnown(Node node) {
        try {
            FusedActivation.of(node);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    private static boolean rankIs(List<ValueType> in, int i, int rank) {
        int[] s = i < in.size() && in.get(i) != null ? in.get(i).shape() : null;
        return s != null && s.length == rank;
    }

    private static boolean rankAtMost(List<ValueType> in, int i, int rank) {
        int[] s = i < in.size() && in.get(i) != null ? in.get(i).shape() : null;
        return s != null && s.length <= rank && (s.length < 2 || s[0] == 1);
    }

    /** Float32 Conv of 1-D / 2-D windows whose activation the native GEMM applies (weights must be constant). */
    private static boolean denseF32Conv(Node node, List<ValueType> in) {
        int[] x = in.get(0) != null ? in.get(0).shape() : null;
        int[] w = in.size() > 1 && in.get(1) != null ? in.get(1).shape() : null;
        if (!floats(in, 0, 1) || !spatial(in, 0) || w == null || w.length != x.length
                || (in.size() > 2 && in.get(2) != null && type(in, 2) != DType.FLOAT32)) {
            return false;
        }
        try {
            return ConvF32Kernel.nativeActivation(FusedActivation.of(node));
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /** Float32 Conv with group = channels and one input channel per group. */
    private static boolean depthwiseF32(Node node, List<ValueType> in) {
        int[] x = in.get(0) != null ? in.get(0).shape() : null;
        int[] w = in.size() > 1 && in.get(1) != null ? in.get(1).shape() : null;
        return floats(in, 0, 1) && spatial(in, 0) && w != null && w.length == x.length && w[1] == 1
                && node.intAttr("group") == x[1] && x[1] > 1 && w[0] % x[1] == 0 && fusedKnown(node)
                && (in.size() < 3 || in.get(2) == null || type(in, 2) == DType.FLOAT32);
    }

    private static boolean floats(List<ValueType> in, int... idx) {
        for (int i : idx) {
            if (type(in, i) != DType.FLOAT32) {
                return false;
            }
        }
        return true;
    }

    private static boolean qlinearMatMul(Node node, List<ValueType> in) {
        long n = dim(in, 3, -1);
        return bytes(in, 0, 3, 7) && floats(in, 1, 4, 6) && fusable(node) && count(in, 1) == 1 && count(in, 2) == 1 && count(in, 6) == 1
                && count(in, 7) == 1 && perChannel(in, 4, n) && perChannel(in, 5, n)
                && (in.size() < 9 || in.get(8) == null || type(in, 8) == DType.INT32);
    }

    private static boolean qlinearConv(Node node, List<ValueType> in) {
        long cout = dim(in, 3, 0);
        return bytes(in, 0, 3, 7) && floats(in, 1, 4, 6) && spatial(in, 0) && fusable(node) && count(in, 1) == 1 && count(in, 2) == 1
                && count(in, 6) == 1 && count(in, 7) == 1 && perChannel(in, 4, cout) && perChannel(in, 5, cout);
    }

    private static boolean fusable(Node node) {
        try {
            return Requant.fusable(FusedActivation.of(node));
        } catch (IllegalArgumentException e) {
            return false; // the reference backend reports the bad attribute
        }
    }

    private static int[] shape(List<ValueType> in, int i) {
        return i < in.size() && in.get(i) != null ? in.get(i).shape() : null;
    }

    private static DType type(List<ValueType> in, int i) {
        return i < in.size() && in.get(i) != null ? in.get(i).dtype() : null;
    }

    private static boolean bytes(List<ValueType> in, int... idx) {
        for (int i : idx) {
            DType t = type(in, i);
            if (t != DType.UINT8 && t != DType.INT8) {
                return false;
            }
        }
        return true;
    }

    /** NCHW with 1 or 2 spatial axes. */
    private static boolean spatial(List<ValueType> in, int i) {
        int[] s = i < in.size() && in.get(i) != null ? in.get(i).shape() : null;
        return s != null && (s.length == 3 || s.length == 4);
    }

    private static long count(List<ValueType> in, int i) {
        return QuantInputs.count(in, i);
    }

    /** Dimension {@code axis} (negative: from the end) of input i, or -2 when unknown. */
    private static long dim(List<ValueType> in, int i, int axis) {
        int[] s = i < in.size() && in.get(i) != null ? in.get(i).shape() : null;
        if (s == null || s.length == 0) {
            return -2;
        }
        int a = axis < 0 ? s.length + axis : axis;
        return a >= 0 && a < s.length ? s[a] : -2;
    }

    private static boolean perChannel(List<ValueType> in, int i, long channels) {
        long c = count(in, i);
        return c == 1 || (c > 1 && c == channels);
    }

    /** An optional zero point: omitted, or one value, or one per channel. */
    private static boolean zpCount(List<ValueType> in, int i, long channels) {
        return i >= in.size() || in.get(i) == null || perChannel(in, i, channels);
    }

    private static boolean hasEmptyInput(List<ValueType> in) {
        for (ValueType t : in) {
            if (t != null && t.shape() != null && Tensor.elementCount(t.shape()) == 0) {
                return true;
            }
        }
        return false;
    }
}
