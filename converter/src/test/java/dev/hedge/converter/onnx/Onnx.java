package dev.hedge.converter.onnx;

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

/** Small builders for ONNX protos in tests. */
public final class Onnx {

    public static final int FLOAT = 1;
    public static final int UINT8 = 2;
    public static final int INT8 = 3;
    public static final int INT32 = 6;
    public static final int INT64 = 7;
    public static final int BOOL = 9;
    public static final int FLOAT16 = 10;
    public static final int DOUBLE = 11;

    private Onnx() {
    }

    public static ModelProto model(int opset, GraphProto g) {
        return ModelProto.newBuilder().setIrVersion(8).setProducerName("test").setProducerVersion("1")
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(opset)).setGraph(g).build();
    }

    /** A tensor value info; a dim is a size, -1 (dynamic, unnamed) or a String (dynamic, named). */
    public static ValueInfoProto valueInfo(String name, int elemType, Object... dims) {
        TensorShapeProto.Builder s = TensorShapeProto.newBuilder();
        for (Object d : dims) {
            TensorShapeProto.Dimension.Builder db = TensorShapeProto.Dimension.newBuilder();
            if (d instanceof String p) {
                db.setDimParam(p);
            } else if (((Number) d).longValue() >= 0) {
                db.setDimValue(((Number) d).longValue());
            }
            s.addDim(db);
        }
        return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder()
                .setTensorType(TypeProto.Tensor.newBuilder().setElemType(elemType).setShape(s))).build();
    }

    public static NodeProto node(String name, String op, String[] inputs, String[] outputs, AttributeProto... attrs) {
        NodeProto.Builder b = NodeProto.newBuilder().setName(name).setOpType(op);
        for (String i : inputs) {
            b.addInput(i);
        }
        for (String o : outputs) {
            b.addOutput(o);
        }
        for (AttributeProto a : attrs) {
            b.addAttribute(a);
        }
        return b.build();
    }

    public static String[] in(String... names) {
        return names;
    }

    public static String[] out(String... names) {
        return names;
    }

    public static AttributeProto attr(String name, long v) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INT).setI(v).build();
    }

    public static AttributeProto attr(String name, float v) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.FLOAT).setF(v).build();
    }

    public static AttributeProto attr(String name, String v) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.STRING)
                .setS(ByteString.copyFromUtf8(v)).build();
    }

    public static AttributeProto ints(String name, long... v) {
        AttributeProto.Builder b = AttributeProto.newBuilder().setName(name)
                .setType(AttributeProto.AttributeType.INTS);
        for (long x : v) {
            b.addInts(x);
        }
        return b.build();
    }

    public static AttributeProto floats(String name, float... v) {
        AttributeProto.Builder b = AttributeProto.newBuilder().setName(name)
                .setType(AttributeProto.AttributeType.FLOATS);
        for (float x : v) {
            b.addFloats(x);
        }
        return b.build();
    }

    public static AttributeProto graph(String name, GraphProto g) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.GRAPH).setG(g).build();
    }

    public static AttributeProto tensor(String name, TensorProto t) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.TENSOR).setT(t).build();
    }

    /** A float tensor with raw little-endian data. */
    public static TensorProto floatsRaw(String name, long[] dims, float... v) {
        ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float x : v) {
            b.putFloat(x);
        }
        b.flip();
        return TensorProto.newBuilder().setName(name).setDataType(FLOAT).addAllDims(boxed(dims))
                .setRawData(ByteString.copyFrom(b)).build();
    }

    /** A float tensor in the typed {@code float_data} field. */
    public static TensorProto floatsTyped(String name, long[] dims, float... v) {
        TensorProto.Builder b = TensorProto.newBuilder().setName(name).setDataType(FLOAT).addAllDims(boxed(dims));
        for (float x : v) {
            b.addFloatData(x);
        }
        return b.build();
    }

    public static TensorProto int64s(String name, long[] dims, long... v) {
        TensorProto.Builder b = TensorProto.newBuilder().setName(name).setDataType(INT64).addAllDims(boxed(dims));
        for (long x : v) {
            b.addInt64Data(x);
        }
        return b.build();
    }

    public static long[] dims(long... d) {
        return d;
    }

    static java.util.List<Long> boxed(long[] d) {
        java.util.List<Long> l = new java.util.ArrayList<>();
        for (long x : d) {
            l.add(x);
        }
        return l;
    }

    /** A graph builder shortcut. */
    public static GraphProto.Builder graphBuilder(String name) {
        return GraphProto.newBuilder().setName(name);
    }
}
