package dev.hedge.profiles.armnn;

import dev.hedge.ir.Node;
import dev.hedge.kernels.util.FusedActivation;
import dev.hedge.ops.Op;
import dev.hedge.profiles.partition.GraphFacts;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.QuantParams;
import dev.hedge.runtime.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns Hedge nodes into Arm NN layers (NCHW throughout, so no permutes): Conv (grouped only when
 * depthwise), QLinearConv, Gemm / MatMul / QLinearMatMul with constant 2-D weights (FullyConnected), the
 * activations, Max/Average/Global pooling (QLinearAveragePool / QLinearGlobalAveragePool too), Add / Mul / Sub
 * of equal rank (QLinearAdd / QLinearMul too, fused Relu / Clip as an activation layer), Softmax on the last axis,
 * Reshape / Flatten, QuantizeLinear / DequantizeLinear; float32 and uint8 (QAsymmU8) activations, int8
 * symmetric per-tensor weights. {@link #unsupported} says why a
 * node is not translated, so the partitioner keeps it on the CPU.
 */
public final class ArmNnTranslator {

    // Arm NN ActivationFunction codes
    private static final int SIGMOID = 0;
    private static final int TANH = 1;
    private static final int RELU = 3;
    private static final int BOUNDED_RELU = 4;
    private static final int LEAKY_RELU = 6;
    private static final int HARD_SWISH = 11;

    private ArmNnTranslator() {
    }

    /** Null when the node translates, else why not (for the plan). */
    public static String unsupported(Node n, GraphFacts f) {
        try {
            check(n, f);
            return null;
        } catch (Unsupported e) {
            return e.getMessage();
        }
    }

    private static final class Unsupported extends RuntimeException {
        Unsupported(String m) {
            super(m, null, false, false);
        }
    }

    private static void require(boolean ok, String why) {
        if (!ok) {
            throw new Unsupported(why);
        }
    }

    private static void check(Node n, GraphFacts f) {
        for (int i = 1; i < n.outputs().size(); i++) {
            require(n.output(i).isEmpty(), "second output '" + n.output(i) + "' is used");
        }
        DType in = f.dtype(n.input(0));
        int[] inShape = f.shape(n.input(0));
        require(in != null && inShape != null, "input shape not known at load");
        require(f.shape(n.output(0)) != null, "output shape not known at load");
        // Arm NN tensors have at least one dimension (a product of two scalar scales lands here otherwise)
        require(f.shape(n.output(0)).length > 0, "scalar output");
        switch (n.op()) {
            case Conv:
                require(in == DType.FLOAT32, "Conv on " + in);
                checkConv(n, f, 1, inShape);
                activation(n);
                break;
            case QLinearConv:
                require(in == DType.UINT8, "QLinearConv on " + in + " (Arm NN takes uint8 activations)");
                checkConv(n, f, 3, inShape);
                checkQ8(n, f, 0, 6);
                checkWeights(n, f, 3, 4, 5);
                activation(n);
                break;
            case Gemm:
                require(in == DType.FLOAT32, "Gemm on " + in);
                require(inShape.length == 2, "Gemm input of rank " + inShape.length);
                require(n.intAttr("transA") == 0, "transA");
                require(n.floatAttr("alpha") == 1f, "alpha != 1");
                require(!n.hasInput(2) || n.floatAttr("beta") == 1f, "beta != 1");
                checkConstWeights(n, f, 1);
                if (n.hasInput(2)) {
                    checkBias(n, f, 2, f.shape(n.output(0))[1]);
                }
                activation(n);
                break;
            case MatMul:
                require(in == DType.FLOAT32, "MatMul on " + in);
                require(inShape.length == 2, "MatMul input of rank " + inShape.length);
                checkConstWeights(n, f, 1);
                activation(n);
                break;
            case QLinearMatMul:
                require(in == DType.UINT8, "QLinearMatMul on " + in);
                require(inShape.length == 2, "QLinearMatMul input of rank " + inShape.length);
                checkConstWeights(n, f, 3);
                checkQ8(n, f, 0, 6);
                checkWeights(n, f, 3, 4, 5);
                require(n.inputs().size() <= 8 || !n.hasInput(8)
                        || f.dtype(n.input(8)) == DType.INT32 && f.constant(n.input(8)) != null,
                        "bias is not a constant int32");
                activation(n);
                break;
            case Relu:
            case Sigmoid:
            case Tanh:
            case HardSwish:
            case LeakyRelu:
                require(in == DType.FLOAT32 || in == DType.UINT8 && n.op() == Op.Relu && f.quant(n.input(0)) != null,
                        n.op() + " on " + in);
                break;
            case Clip:
                require(in == DType.FLOAT32, "Clip on " + in);
                require(clipBound(n, f, 1, Float.NEGATIVE_INFINITY) != null && clipBound(n, f, 2,
                        Float.POSITIVE_INFINITY) != null, "min/max not constant");
                break;
            case MaxPool:
            case AveragePool:
            case QLinearAveragePool:
                if (n.op() == Op.QLinearAveragePool) {
                    require(in == DType.UINT8, n.op() + " on " + in);
                    checkQ8(n, f, 0, 3);
                } else {
                    require(in == DType.FLOAT32 || in == DType.UINT8 && n.op() == Op.MaxPool
                            && f.quant(n.input(0)) != null, n.op() + " on " + in);
                }
                require(inShape.length == 4, n.op() + " on rank " + inShape.length);
                require("NOTSET".equals(n.stringAttr("auto_pad")) || "VALID".equals(n.stringAttr("auto_pad")),
                        "auto_pad " + n.stringAttr("auto_pad"));
                require(n.intAttr("ceil_mode") == 0, "ceil_mode");
                long[] dil = n.intsAttr("dilations");
                require(dil == null || Arrays.stream(dil).allMatch(d -> d == 1), "dilations");
                require(n.op() != Op.MaxPool || n.intAttr("storage_order") == 0, "storage_order");
                break;
            case GlobalAveragePool:
            case GlobalMaxPool:
            case QLinearGlobalAveragePool:
                if (n.op() == Op.QLinearGlobalAveragePool) {
                    require(in == DType.UINT8, n.op() + " on " + in);
                    checkQ8(n, f, 0, 3);
                } else {
                    require(in == DType.FLOAT32 || in == DType.UINT8 && n.op() == Op.GlobalMaxPool
                            && f.quant(n.input(0)) != null, n.op() + " on " + in);
                }
                require(inShape.length == 4, n.op() + " on rank " + inShape.length);
                break;
            case QLinearAdd:
            case QLinearMul: {
                require(in == DType.UINT8, n.op() + " on " + in);
                checkQ8(n, f, 0, 6);
                require(f.dtype(n.input(3)) == DType.UINT8 && f.quant(n.input(3)) != null,
                        "B of " + f.dtype(n.input(3)) + " or its scale / zero point not a constant scalar");
                require(f.constant(n.input(0)) == null && f.constant(n.input(3)) == null, "a constant operand");
                int[] b = f.shape(n.input(3));
                require(b != null && b.length == inShape.length, n.op() + " of inputs of different rank");
                activation(n);
                break;
            }
            case Add:
            case Mul:
            case Sub:
                require(in == DType.FLOAT32 && f.dtype(n.input(1)) == DType.FLOAT32, n.op() + " on " + in);
                int[] b = f.shape(n.input(1));
                require(b != null && b.length == inShape.length, n.op() + " of inputs of different rank");
                break;
            case Softmax:
                require(in == DType.FLOAT32, "Softmax on " + in);
                long axis = n.intAttr("axis");
                require(axis == -1 || axis == inShape.length - 1, "Softmax axis " + axis + " is not the last");
                require(inShape.length == 2 || n.hasAttr("coerce_2d") && n.intAttr("coerce_2d") == 0
                        || !n.hasAttr("coerce_2d"), "coerce_2d on rank " + inShape.length);
                break;
            case Reshape:
            case Flatten:
                require(in == DType.FLOAT32 || in == DType.UINT8 && f.quant(n.input(0)) != null,
                        n.op() + " on " + in);
                break;
            case QuantizeLinear:
                require(in == DType.FLOAT32 && f.dtype(n.output(0)) == DType.UINT8, "QuantizeLinear to "
                        + f.dtype(n.output(0)));
                require(f.quant(n.output(0)) != null, "scale or zero point not a constant scalar");
                break;
            case DequantizeLinear:
                require(in == DType.UINT8 && f.dtype(n.output(0)) == DType.FLOAT32, "DequantizeLinear from " + in);
                require(f.quant(n.input(0)) != null, "scale or zero point not a constant scalar");
                break;
            default:
                throw new Unsupported("the Arm NN delegate does not translate " + n.op());
        }
    }

    private static void checkConv(Node n, GraphFacts f, int wi, int[] x) {
        require(x.length == 4, "2-D convolutions only (rank " + x.length + ")");
        checkConstWeights(n, f, wi);
        String pad = n.stringAttr("auto_pad");
        require("NOTSET".equals(pad) || "VALID".equals(pad), "auto_pad " + pad);
        int[] w = f.shape(n.input(wi));
        long group = n.intAttr("group");
        require(group == 1 || group == x[1] && w[1] == 1, "grouped (not depthwise) convolution, group " + group);
        int bi = n.op() == Op.QLinearConv ? 8 : 2;
        if (n.hasInput(bi)) {
            checkBias(n, f, bi, w[0]);
        }
    }

    private static void checkConstWeights(Node n, GraphFacts f, int wi) {
        Tensor w = f.constant(n.input(wi));
        require(w != null, "weights '" + n.input(wi) + "' are not a constant");
        require(w.rank() == (n.op() == Op.Conv || n.op() == Op.QLinearConv ? 4 : 2), "weights of rank " + w.rank());
    }

    private static void checkBias(Node n, GraphFacts f, int bi, int channels) {
        Tensor b = f.constant(n.input(bi));
        require(b != null, "bias '" + n.input(bi) + "' is not a constant");
        require(b.elementCount() == channels && (b.rank() == 1 || b.rank() == 2 && b.dim(0) == 1),
                "bias of shape " + Arrays.toString(b.shape()));
    }

    private static void checkQ8(Node n, GraphFacts f, int x, int y) {
        require(f.quant(n.input(x)) != null, "input scale / zero point not constant per-tensor");
        require(f.quant(n.output(0)) != null, "output scale / zero point not constant per-tensor");
        require(f.dtype(n.output(0)) == DType.UINT8, "output " + f.dtype(n.output(0)));
    }

    /**
     * int8 weights, symmetric, one scale: they go to Arm NN as QAsymmS8 with zero point 0. Arm NN 20.08's
     * layer-support rules abort the process (an assertion, not an exception) on QSymmS8 weights with a bias,
     * which is what per-channel weights need, so those stay on the CPU.
     */
    private static void checkWeights(Node n, GraphFacts f, int wi, int si, int zi) {
        Tensor w = f.constant(n.input(wi));
        require(w.dtype() == DType.INT8, "weights of " + w.dtype() + " (int8 symmetric only)");
        Tensor s = f.constant(n.input(si));
        require(s != null, "weight scale not constant");
        require(s.elementCount() == 1, "per-channel int8 weights (Arm NN 20.08 takes per-tensor int8 weights only)");
        Tensor z = n.hasInput(zi) ? f.constant(n.input(zi)) : null;
        require(!n.hasInput(zi) || z != null, "weight zero point not constant");
        if (z != null) {
            for (int i = 0; i < z.elementCount(); i++) {
                require(z.getLong(i) == 0, "asymmetric int8 weights (zero point " + z.getLong(i) + ")");
            }
        }
    }

    private static int[] activation(Node n) {
        FusedActivation a = FusedActivation.of(n);
        switch (a.kind()) {
            case NONE: return null;
            case RELU: return new int[] {RELU};
            case CLIP: return new int[] {BOUNDED_RELU};
            case SIGMOID: return new int[] {SIGMOID};
            case TANH: return new int[] {TANH};
            case LEAKY_RELU: return new int[] {LEAKY_RELU};
            case HARD_SWISH: return new int[] {HARD_SWISH};
            default: throw new Unsupported("fused " + a.kind());
        }
    }

    private static Float clipBound(Node n, GraphFacts f, int i, float dflt) {
        if (!n.hasInput(i)) {
            return dflt;
        }
        Tensor t = f.constant(n.input(i));
        return t == null || t.elementCount() != 1 ? null : t.getFloat(0);
    }

    /**
     * Builds and loads the network of one partition: {@code inputs} become network inputs in that order,
     * {@code outputs} network outputs. Throws {@link ArmNnException} (Arm NN's message) or
     * {@link IllegalArgumentException} (a node that does not translate after all).
     */
    static ArmNn.Network build(String devices, List<Node> nodes, List<String> inputs, List<String> outputs,
            GraphFacts f) {
        ArmNn.Network net = new ArmNn.Network(devices);
        try {
            Map<String, Integer> ids = new HashMap<>();
            for (String v : inputs) {
                QuantParams q = f.quant(v);
                ids.put(v, net.input(code(f.dtype(v), v), f.shape(v), q == null ? 0 : q.scale(),
                        q == null ? 0 : (int) q.zeroPoint()));
            }
            for (Node n : nodes) {
                String why = unsupported(n, f);
                if (why != null) {
                    throw new IllegalArgumentException(n.describe() + ": " + why);
                }
                ids.put(n.output(0), translate(net, n, f, ids));
            }
            for (String v : outputs) {
                net.output(ids.get(v));
            }
            net.finish();
            return net;
        } catch (RuntimeException e) {
            net.close();
            throw e;
        }
    }

    private static int code(DType d, String v) {
        int c = d == null ? -1 : ArmNn.dtype(d);
        if (c < 0) {
            throw new IllegalArgumentException("value '" + v + "' of " + d + " has no Arm NN type");
        }
        return c;
    }

    private static void out(ArmNn.Network net, GraphFacts f, String v) {
        QuantParams q = f.quant(v);
        DType d = f.dtype(v);
        net.nextOutput(code(d, v), f.shape(v), d == DType.FLOAT32 || q == null ? 0 : q.scale(),
                d == DType.FLOAT32 || q == null ? 0 : (int) q.zeroPoint());
    }

    private static int in(Map<String, Integer> ids, Node n, int i) {
        Integer id = ids.get(n.input(i));
        if (id == null) {
            throw new IllegalArgumentException(n.describe() + " reads '" + n.input(i) + "', not defined in the partition");
        }
        return id;
    }

    private static int translate(ArmNn.Network net, Node n, GraphFacts f, Map<String, Integer> ids) {
        String y = n.output(0);
        String what = n.describe();
        switch (n.op()) {
            case Conv:
            case QLinearConv: {
                boolean q = n.op() == Op.QLinearConv;
                int wi = q ? 3 : 1;
                int bi = q ? 8 : 2;
                Tensor w = f.constant(n.input(wi));
                int[] ws = w.shape();
                boolean depthwise = n.intAttr("group") > 1;
                float[] wScales = q ? f.constant(n.input(4)).toFloatArray() : null;
                int wType = q ? ArmNn.QASYMM_S8 : ArmNn.FLOAT32;
                if (depthwise) {
                    int c = (int) n.intAttr("group");
                    int mult = ws[0] / c;
                    net.stage(0, wType, new int[] {mult, c, ws[2], ws[3]}, depthwiseWeights(w, c, mult), wScales, 0, 0);
                } else {
                    net.stage(0, wType, ws, w.data(), wScales, 0, 0);
                }
                if (n.hasInput(bi)) {
                    Tensor b = f.constant(n.input(bi));
                    float[] bScales = null;
                    if (q) {
                        float xs = f.quant(n.input(0)).scale();
                        bScales = new float[wScales.length];
                        for (int i = 0; i < bScales.length; i++) {
                            bScales[i] = xs * wScales[i];
                        }
                    }
                    net.stage(1, q ? ArmNn.SIGNED32 : ArmNn.FLOAT32, new int[] {b.elementCount()}, b.data(), bScales,
                            0, 0);
                }
                long[] st = ints(n.intsAttr("strides"), 2, 1);
                long[] pads = ints(n.intsAttr("pads"), 4, 0);
                long[] dil = ints(n.intsAttr("dilations"), 2, 1);
                int[] ip = {(int) st[0], (int) st[1], (int) pads[0], (int) pads[1], (int) pads[2], (int) pads[3],
                        (int) dil[0], (int) dil[1]};
                out(net, f, y);
                int id = net.layer(depthwise ? ArmNn.DWCONV : ArmNn.CONV, new int[] {in(ids, n, 0)}, ip, null, what);
                return fused(net, n, f, id);
            }
            case Gemm:
            case MatMul:
            case QLinearMatMul: {
                boolean q = n.op() == Op.QLinearMatMul;
                int wi = q ? 3 : 1;
                Tensor w = f.constant(n.input(wi));
                boolean transposed = n.op() == Op.Gemm && n.intAttr("transB") != 0;
                float[] wScales = q ? f.constant(n.input(4)).toFloatArray() : null;
                if (q) {
                    // Arm NN 20.08's FullyConnected wants weights of the input's type: int8 w as uint8 w + 128
                    net.stage(0, ArmNn.QASYMM_U8, w.shape(), offsetBy128(w), wScales, 128, 0);
                } else {
                    net.stage(0, ArmNn.FLOAT32, w.shape(), w.data(), null, 0, 0);
                }
                int bi = n.op() == Op.Gemm ? 2 : q ? 8 : -1;
                if (bi >= 0 && n.hasInput(bi)) {
                    Tensor b = f.constant(n.input(bi));
                    float[] bs = q ? new float[] {f.quant(n.input(0)).scale() * wScales[0]} : null;
                    net.stage(1, q ? ArmNn.SIGNED32 : ArmNn.FLOAT32, new int[] {b.elementCount()}, b.data(), bs, 0, 0);
                }
                out(net, f, y);
                int id = net.layer(ArmNn.FC, new int[] {in(ids, n, 0)}, new int[] {transposed ? 1 : 0}, null, what);
                return fused(net, n, f, id);
            }
            case Relu:
                return act(net, f, y, in(ids, n, 0), RELU, 0, 0, what);
            case Sigmoid:
                return act(net, f, y, in(ids, n, 0), SIGMOID, 0, 0, what);
            case Tanh:
                return act(net, f, y, in(ids, n, 0), TANH, 1, 1, what);
            case HardSwish:
                return act(net, f, y, in(ids, n, 0), HARD_SWISH, 0, 0, what);
            case LeakyRelu:
                return act(net, f, y, in(ids, n, 0), LEAKY_RELU, n.floatAttr("alpha"), 0, what);
            case Clip:
                return act(net, f, y, in(ids, n, 0), BOUNDED_RELU, clipBound(n, f, 2, Float.MAX_VALUE),
                        clipBound(n, f, 1, -Float.MAX_VALUE), what);
            case MaxPool:
            case AveragePool:
            case QLinearAveragePool: {
                long[] k = n.intsAttr("kernel_shape");
                long[] st = ints(n.intsAttr("strides"), 2, 1);
                long[] pads = ints(n.intsAttr("pads"), 4, 0);
                boolean exclude = n.op() != Op.MaxPool && n.intAttr("count_include_pad") == 0;
                int[] ip = {n.op() == Op.MaxPool ? 0 : 1, (int) k[0], (int) k[1], (int) st[0], (int) st[1],
                        (int) pads[0], (int) pads[1], (int) pads[2], (int) pads[3], exclude ? 1 : 0};
                out(net, f, y);
                return net.layer(ArmNn.POOL, new int[] {in(ids, n, 0)}, ip, null, what);
            }
            case GlobalAveragePool:
            case GlobalMaxPool:
            case QLinearGlobalAveragePool: {
                int[] x = f.shape(n.input(0));
                int[] ip = {n.op() == Op.GlobalMaxPool ? 0 : 1, x[2], x[3], 1, 1, 0, 0, 0, 0, 1};
                out(net, f, y);
                return net.layer(ArmNn.POOL, new int[] {in(ids, n, 0)}, ip, null, what);
            }
            case Add:
            case Mul:
            case Sub: {
                int a = operand(net, f, ids, n, 0);
                int b = operand(net, f, ids, n, 1);
                out(net, f, y);
                return net.layer(n.op() == Op.Add ? ArmNn.ADD : n.op() == Op.Mul ? ArmNn.MUL : ArmNn.SUB,
                        new int[] {a, b}, null, null, what);
            }
            case QLinearAdd:
            case QLinearMul: {
                // the operands carry their own scales (the layers that made them set them): Arm NN requantizes
                out(net, f, y);
                int id = net.layer(n.op() == Op.QLinearAdd ? ArmNn.ADD : ArmNn.MUL,
                        new int[] {in(ids, n, 0), in(ids, n, 3)}, null, null, what);
                return fused(net, n, f, id);
            }
            case Softmax:
                out(net, f, y);
                return net.layer(ArmNn.SOFTMAX, new int[] {in(ids, n, 0)}, new int[] {-1}, new float[] {1f}, what);
            case Reshape:
            case Flatten:
                out(net, f, y);
                return net.layer(ArmNn.RESHAPE, new int[] {in(ids, n, 0)}, null, null, what);
            case QuantizeLinear:
                out(net, f, y);
                return net.layer(ArmNn.QUANTIZE, new int[] {in(ids, n, 0)}, null, null, what);
            case DequantizeLinear:
                out(net, f, y);
                return net.layer(ArmNn.DEQUANTIZE, new int[] {in(ids, n, 0)}, null, null, what);
            default:
                throw new IllegalArgumentException(what + ": not translated");
        }
    }

    /** A tensor of the partition, or a constant operand added as a constant layer. */
    private static int operand(ArmNn.Network net, GraphFacts f, Map<String, Integer> ids, Node n, int i) {
        Integer id = ids.get(n.input(i));
        if (id != null) {
            return id;
        }
        Tensor c = f.constant(n.input(i));
        if (c == null) {
            return in(ids, n, i);
        }
        net.stage(0, ArmNn.FLOAT32, c.rank() == 0 ? new int[] {1} : c.shape(), c.data(), null, 0, 0);
        int cid = net.layer(ArmNn.CONST, new int[0], null, null, n.describe() + " constant " + n.input(i));
        ids.put(n.input(i), cid);
        return cid;
    }

    private static int act(ArmNn.Network net, GraphFacts f, String y, int x, int fn, float a, float b, String what) {
        out(net, f, y);
        return net.layer(ArmNn.ACT, new int[] {x}, new int[] {fn}, new float[] {a, b}, what);
    }

    /** The fused activation as a layer of its own, on the output's type. */
    private static int fused(ArmNn.Network net, Node n, GraphFacts f, int id) {
        int[] fn = activation(n);
        if (fn == null) {
            return id;
        }
        FusedActivation a = FusedActivation.of(n);
        float pa = 0;
        float pb = 0;
        switch (fn[0]) {
            case BOUNDED_RELU: pa = a.beta(); pb = a.alpha(); break;
            case LEAKY_RELU: pa = a.alpha(); break;
            case TANH: pa = 1; pb = 1; break;
            default:
        }
        return act(net, f, n.output(0), id, fn[0], pa, pb, n.describe() + " fused " + a.kind());
    }

    private static long[] ints(long[] v, int n, long dflt) {
        if (v != null && v.length == n) {
            return v;
        }
        long[] r = new long[n];
        Arrays.fill(r, dflt);
        return r;
    }

    private static ByteBuffer offsetBy128(Tensor w) {
        ByteBuffer src = w.data();
        ByteBuffer dst = ByteBuffer.allocateDirect(w.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < w.byteSize(); i++) {
            dst.put(i, (byte) (src.get(i) + 128));
        }
        return dst;
    }

    /** ONNX depthwise weights [C*M, 1, kh, kw] (channel c, multiplier m at c*M + m) as Arm NN's [M, C, kh, kw]. */
    private static ByteBuffer depthwiseWeights(Tensor w, int c, int mult) {
        int plane = w.dim(2) * w.dim(3) * w.dtype().byteWidth();
        ByteBuffer src = w.data();
        ByteBuffer dst = ByteBuffer.allocateDirect(w.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
        for (int m = 0; m < mult; m++) {
            for (int ch = 0; ch < c; ch++) {
                int from = (ch * mult + m) * plane;
                for (int i = 0; i < plane; i++) {
                    dst.put((m * c + ch) * plane + i, src.get(from + i));
                }
            }
        }
        return dst;
    }
}
