package dev.hedge.format;

import dev.hedge.ir.Attr;
import dev.hedge.ir.Codebook;
import dev.hedge.ir.Dim;
import dev.hedge.ir.Graph;
import dev.hedge.ir.ModelDef;
import dev.hedge.ir.Node;
import dev.hedge.ir.Sparse;
import dev.hedge.ir.ValueInfo;
import dev.hedge.ops.Op;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.QuantParams;
import dev.hedge.runtime.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/** Synthetic models for the format tests. */
final class SampleModels {

    private SampleModels() {
    }

    /**
     * A model using every format feature: every dtype, scalars, empty tensors, dynamic dims with and without
     * names, unknown rank and unknown dtype, per-tensor / per-axis / blocked quantization, CSR, block-CSR,
     * packed 4-bit sparse values, codebooks (one palette and per-axis), sparse + codebook, encoded and plain
     * TENSOR attributes, every attribute kind, an If whose then-branch holds a Loop (captures two levels
     * deep), subgraph initializers and value infos, duplicate payloads, and metadata.
     *
     * <p>Graph indices: 0 main, 1 then_g, 2 body, 3 else_g.
     */
    static ModelDef full() {
        Random r = new Random(7);
        Graph.Builder m = Graph.builder("main");
        m.addInput(new ValueInfo("x", DType.FLOAT32, List.of(Dim.dynamic("N"), Dim.of(3), Dim.dynamic(null))));
        m.addInput(ValueInfo.of("cond", DType.BOOL));
        m.addInput(new ValueInfo("u", null, null));
        m.addInput(ValueInfo.of("M", DType.INT64));
        for (DType dt : DType.values()) {
            m.initializer("c_" + dt.name().toLowerCase(), random(dt, r, 3, 5));
        }
        m.initializer("scalar", Tensor.scalar(2.5f));
        m.initializer("empty", Tensor.allocate(DType.INT64, 0, 3));
        m.initializer("dup_a", Tensor.of(new float[] {1, 2, 3, 4}, 4));
        m.initializer("dup_b", Tensor.of(new float[] {1, 2, 3, 4}, 2, 2));
        m.initializer("q_tensor", random(DType.INT8, r, 4).withQuant(QuantParams.perTensor(0.5f, -3)));
        m.initializer("q_axis", random(DType.UINT8, r, 3, 2)
                .withQuant(QuantParams.perAxis(new float[] {0.1f, 0.2f, 0.3f}, new long[] {1, 2, 255}, 0)));
        m.initializer("q_block", random(DType.INT4, r, 2, 8)
                .withQuant(new QuantParams(new float[] {1f, 2f, 3f, 4f}, new long[] {-8, 7, 0, 1}, 1, 4)));
        m.initializer("q_neg_axis", random(DType.INT32, r, 2, 3)
                .withQuant(QuantParams.perAxis(new float[] {1f, 2f, 3f}, null, -1)));
        m.initializer("s_csr", csr(DType.FLOAT32, new int[] {4, 6}, 1, 1, DType.INT32,
                new int[] {0, 2, 2, 3, 5}, new int[] {1, 4, 0, 2, 5}, null, r));
        m.initializer("s_bcsr", csr(DType.INT8, new int[] {4, 6}, 2, 3, DType.INT16,
                new int[] {0, 1, 3}, new int[] {1, 0, 1}, null, r));
        m.initializer("s_int4", csr(DType.INT4, new int[] {2, 8}, 1, 1, DType.UINT8,
                new int[] {0, 3, 4}, new int[] {0, 5, 7, 6}, null, r).withQuant(QuantParams.perTensor(0.25f, 0)));
        m.initializer("cb", codebook(new int[] {3, 5}, 3, -1, r));
        m.initializer("cb_axis", codebook(new int[] {2, 5}, 2, 0, r));
        m.initializer("s_cb", csr(DType.FLOAT32, new int[] {4, 4}, 1, 1, DType.UINT16,
                new int[] {0, 1, 1, 3, 4}, new int[] {3, 0, 2, 1}, new Codebook(palette(64, r), 4, 1), r));
        m.valueInfo(ValueInfo.of("big", DType.FLOAT32, 5, 7));
        m.valueInfo(new ValueInfo("h", DType.FLOAT32, List.of(Dim.dynamic("N"), Dim.of(2))));
        m.valueInfo(new ValueInfo("c0", DType.FLOAT32, null));

        Map<String, Attr> conv = new LinkedHashMap<>();
        conv.put("auto_pad", new Attr.Str("SAME_UPPER"));
        conv.put("dilations", new Attr.Ints(new long[] {1, 1}));
        conv.put("group", new Attr.Int(2));
        conv.put("kernel_shape", new Attr.Ints(new long[] {3, Long.MIN_VALUE}));
        conv.put("strides", new Attr.Ints(new long[0]));
        conv.put("fused_activation", new Attr.Str(""));
        conv.put("fused_alpha", new Attr.Float(-0.0f));
        conv.put("fused_beta", new Attr.Float(Float.NaN));
        m.addNode(new Node("conv1", Op.Conv, List.of("x", "c_float32"), List.of("c0"), conv));
        m.addNode(Node.of("nœud ✓", Op.Relu, List.of("c0"), List.of("h")));
        Map<String, Attr> lstm = new LinkedHashMap<>();
        lstm.put("activations", new Attr.Strs(List.of("Sigmoid", "Tanh", "")));
        lstm.put("activation_alpha", new Attr.Floats(new float[] {0.5f, 1e-30f, Float.NEGATIVE_INFINITY}));
        lstm.put("activation_beta", new Attr.Floats(new float[0]));
        lstm.put("hidden_size", new Attr.Int(5));
        lstm.put("layout", new Attr.Int(0));
        lstm.put("direction", new Attr.Str("bidirectional"));
        lstm.put("clip", new Attr.Float(3.5f));
        m.addNode(new Node("lstm", Op.LSTM, List.of("h", "c_float16", "c_float64", "", "", "c_bfloat16"),
                List.of("", "lstm_h"), lstm));
        m.addNode(new Node("cos", Op.ConstantOfShape, List.of("c_int64"), List.of("cos_out"),
                Map.of("value", new Attr.TensorValue(Tensor.of(new float[] {0.25f}, 1)))));
        m.addNode(new Node("cos_cb", Op.ConstantOfShape, List.of("c_int64"), List.of("cos_cb_out"),
                Map.of("value", new Attr.TensorValue(codebook(new int[] {1}, 1, -1, r)))));
        Map<String, Attr> ifAttrs = new LinkedHashMap<>();
        ifAttrs.put("then_branch", new Attr.GraphValue(thenGraph()));
        ifAttrs.put("else_branch", new Attr.GraphValue(elseGraph()));
        m.addNode(new Node("if", Op.If, List.of("cond"), List.of("if_out"), ifAttrs));
        m.addNode(new Node("concat", Op.Concat, List.of("lstm_h", "if_out"), List.of("cat"),
                Map.of("axis", new Attr.Int(-1))));
        m.addNode(new Node("einsum", Op.Einsum, List.of("cat"), List.of("ein"),
                Map.of("equation", new Attr.Str("ij->ji"))));
        m.addOutput(new ValueInfo("ein", DType.FLOAT32, List.of(Dim.dynamic("N"), Dim.of(10))));
        m.addOutput(new ValueInfo("cos_out", null, null));
        m.addOutput(ValueInfo.of("c_float32", DType.FLOAT32, 3, 5));

        Map<String, String> meta = new LinkedHashMap<>();
        meta.put(ModelDef.META_PRODUCER, "hedge-test");
        meta.put(ModelDef.META_SOURCE_DIGEST, "abc123");
        meta.put("note", "naïve ✓ 日本語 \uD83D\uDE00");
        meta.put("empty", "");
        meta.put("absent", null);
        return new ModelDef(m.build(), meta);
    }

    private static Graph thenGraph() {
        Graph.Builder b = Graph.builder("then_g");
        b.initializer("t_one", Tensor.scalar(1f));
        b.valueInfo(new ValueInfo("t0", null, List.of(Dim.of(2), Dim.dynamic("K"))));
        b.addNode(Node.of("t_add", Op.Add, List.of("x", "h"), List.of("t0")));
        b.addNode(new Node("t_loop", Op.Loop, List.of("M", "", "t0"), List.of("loop_out"),
                Map.of("body", new Attr.GraphValue(bodyGraph()))));
        b.addOutput(new ValueInfo("loop_out", DType.FLOAT32, null));
        return b.build();
    }

    private static Graph bodyGraph() {
        Graph.Builder b = Graph.builder("body");
        b.addInput(ValueInfo.of("iter", DType.INT64));
        b.addInput(ValueInfo.of("cond_in", DType.BOOL));
        b.addInput(new ValueInfo("carried", DType.FLOAT32, null));
        b.addNode(Node.of("b_mul", Op.Mul, List.of("carried", "h"), List.of("m0")));
        b.addNode(Node.of("b_add", Op.Add, List.of("m0", "t_one"), List.of("carried_out")));
        b.addNode(Node.of("b_id", Op.Identity, List.of("cond_in"), List.of("cond_out")));
        b.addOutput(ValueInfo.of("cond_out", DType.BOOL));
        b.addOutput(new ValueInfo("carried_out", DType.FLOAT32, null));
        return b.build();
    }

    private static Graph elseGraph() {
        Graph.Builder b = Graph.builder("else_g");
        b.initializer("e_c", Tensor.of(new float[] {3f}, 1));
        b.addNode(Node.of("e_add", Op.Add, List.of("x", "e_c"), List.of("e0")));
        b.addOutput(new ValueInfo("e0", DType.FLOAT32, null));
        return b.build();
    }

    /** A dense tensor of random bytes (any bit pattern, NaNs included). */
    static Tensor random(DType dt, Random r, int... shape) {
        Tensor t = Tensor.allocate(dt, shape);
        byte[] b = new byte[t.byteSize()];
        r.nextBytes(b);
        if (dt == DType.BOOL) {
            for (int i = 0; i < b.length; i++) {
                b[i] &= 1;
            }
        }
        t.data().put(0, b);
        return t;
    }

    static float[] palette(int n, Random r) {
        float[] p = new float[n];
        for (int i = 0; i < n; i++) {
            p[i] = (float) r.nextGaussian();
        }
        return p;
    }

    static ByteBuffer indices(DType type, int[] values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * type.byteWidth()).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < values.length; i++) {
            switch (type) {
                case INT32: b.putInt(i * 4, values[i]); break;
                case INT16: case UINT16: b.putShort(i * 2, (short) values[i]); break;
                case UINT8: b.put(i, (byte) values[i]); break;
                default: throw new IllegalArgumentException(type.name());
            }
        }
        return b;
    }

    /** A sparse tensor with the given structure and random stored values (codebook indices when {@code cb}). */
    static Tensor csr(DType dt, int[] shape, int br, int bc, DType indexType, int[] rowPtr, int[] colIdx,
            Codebook cb, Random r) {
        int nnz = colIdx.length;
        int values = nnz * br * bc;
        byte[] payload = new byte[(int) (cb != null ? (values * (long) cb.indexBits() + 7) / 8
                : dt.byteSize(values))];
        r.nextBytes(payload);
        Sparse s = new Sparse(br == 1 && bc == 1 ? Sparse.Format.CSR : Sparse.Format.BLOCK_CSR, br, bc, indexType,
                indices(indexType, rowPtr), indices(indexType, colIdx), nnz);
        return Tensor.encoded(dt, shape, ByteBuffer.wrap(payload), null, s, cb);
    }

    /** A FLOAT32 codebook tensor with random indices and palette. */
    static Tensor codebook(int[] shape, int bits, int axis, Random r) {
        int n = Tensor.elementCount(shape);
        byte[] payload = new byte[(n * bits + 7) / 8];
        r.nextBytes(payload);
        int palettes = axis >= 0 ? shape[axis] : 1;
        Codebook cb = new Codebook(palette((1 << bits) * palettes, r), bits, axis);
        return Tensor.encoded(DType.FLOAT32, shape, ByteBuffer.wrap(payload), null, null, cb);
    }
}
