package dev.hedge.bench.models;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import com.google.protobuf.ByteString;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;

/**
 * A small ONNX graph builder for benchmark models: layers as PyTorch exports them (Conv, BatchNormalization,
 * Relu / Clip, Add, pooling, Gemm), random weights from a fixed seed.
 */
final class OnnxGraph {

    static final int OPSET = 13;

    private final GraphProto.Builder g = GraphProto.newBuilder();
    private final Random random;
    private int counter;

    OnnxGraph(String name, long seed) {
        g.setName(name);
        random = new Random(seed);
    }

    private String fresh(String prefix) {
        return prefix + "_" + (counter++);
    }

    void input(String name, long... dims) {
        g.addInput(value(name, dims));
    }

    void output(String name, long... dims) {
        g.addOutput(value(name, dims));
    }

    private static ValueInfoProto value(String name, long... dims) {
        TensorShapeProto.Builder s = TensorShapeProto.newBuilder();
        for (long d : dims) {
            s.addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(d));
        }
        return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder().setTensorType(
                TypeProto.Tensor.newBuilder().setElemType(TensorProto.DataType.FLOAT.getNumber()).setShape(s)))
                .build();
    }

    /** A float initializer of normal values with standard deviation {@code std} around {@code mean}. */
    String weight(String prefix, double mean, double std, long... dims) {
        int n = 1;
        for (long d : dims) {
            n *= (int) d;
        }
        ByteBuffer b = ByteBuffer.allocate(4 * n).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) {
            b.putFloat(4 * i, (float) (mean + std * random.nextGaussian()));
        }
        return constant(prefix, b, dims);
    }

    String scalar(String prefix, float v) {
        ByteBuffer b = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(0, v);
        return constant(prefix, b);
    }

    private String constant(String prefix, ByteBuffer data, long... dims) {
        String name = fresh(prefix);
        TensorProto.Builder t = TensorProto.newBuilder().setName(name)
                .setDataType(TensorProto.DataType.FLOAT.getNumber()).setRawData(ByteString.copyFrom(data.array()));
        for (long d : dims) {
            t.addDims(d);
        }
        g.addInitializer(t);
        return name;
    }

    String node(String op, String[] inputs, AttributeProto... attrs) {
        String out = fresh(op.toLowerCase());
        NodeProto.Builder n = NodeProto.newBuilder().setOpType(op).setName(out + "_node").addOutput(out);
        for (String i : inputs) {
            n.addInput(i);
        }
        for (AttributeProto a : attrs) {
            n.addAttribute(a);
        }
        g.addNode(n);
        return out;
    }

    static AttributeProto ints(String name, long... v) {
        AttributeProto.Builder a = AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INTS);
        for (long x : v) {
            a.addInts(x);
        }
        return a.build();
    }

    static AttributeProto i(String name, long v) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INT).setI(v).build();
    }

    static AttributeProto f(String name, float v) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.FLOAT).setF(v).build();
    }

    /** Conv without bias (a BatchNormalization follows), He-initialised. */
    String conv(String x, int cin, int cout, int k, int stride, int group) {
        String w = weight("w", 0, Math.sqrt(2.0 / (cin / group * k * k)), cout, cin / group, k, k);
        int p = k / 2;
        return node("Conv", new String[] {x, w}, ints("kernel_shape", k, k), ints("strides", stride, stride),
                ints("pads", p, p, p, p), i("group", group));
    }

    String batchNorm(String x, int c) {
        return node("BatchNormalization", new String[] {x, weight("gamma", 1, 0.1, c), weight("beta", 0, 0.1, c),
            weight("mean", 0, 0.1, c), weight("var", 1, 0, c)}, f("epsilon", 1e-5f));
    }

    String relu(String x) {
        return node("Relu", new String[] {x});
    }

    String relu6(String x) {
        return node("Clip", new String[] {x, scalar("zero", 0f), scalar("six", 6f)});
    }

    String add(String a, String b) {
        return node("Add", new String[] {a, b});
    }

    String maxPool(String x, int k, int stride, int pad) {
        return node("MaxPool", new String[] {x}, ints("kernel_shape", k, k), ints("strides", stride, stride),
                ints("pads", pad, pad, pad, pad));
    }

    String globalAveragePool(String x) {
        return node("GlobalAveragePool", new String[] {x});
    }

    String flatten(String x) {
        return node("Flatten", new String[] {x}, i("axis", 1));
    }

    /** A fully-connected layer as PyTorch exports it: Gemm with transposed weights [out, in]. */
    String linear(String x, int in, int out) {
        return node("Gemm", new String[] {x, weight("fc_w", 0, Math.sqrt(1.0 / in), out, in),
            weight("fc_b", 0, 0.01, out)}, i("transB", 1));
    }

    /** Renames the last node's output (to give the graph output a stable name). */
    void rename(String from, String to) {
        for (int i = 0; i < g.getNodeCount(); i++) {
            NodeProto n = g.getNode(i);
            if (n.getOutput(0).equals(from)) {
                g.setNode(i, n.toBuilder().setOutput(0, to));
            }
        }
    }

    ModelProto model() {
        return ModelProto.newBuilder().setIrVersion(8).setProducerName("hedge-bench").setGraph(g)
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(OPSET)).build();
    }
}
