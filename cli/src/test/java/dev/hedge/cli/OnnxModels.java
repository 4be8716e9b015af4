package dev.hedge.cli;

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
import dev.hedge.runtime.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Tiny ONNX files written by the tests themselves. */
final class OnnxModels {

    private OnnxModels() {
    }

    static ValueInfoProto floatValue(String name, long... dims) {
        TensorShapeProto.Builder s = TensorShapeProto.newBuilder();
        for (long d : dims) {
            s.addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(d));
        }
        return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder().setTensorType(
                TypeProto.Tensor.newBuilder().setElemType(TensorProto.DataType.FLOAT_VALUE).setShape(s))).build();
    }

    /** One node of {@code opType} from input "x" [n] to {@code outputName} [n], opset 13. */
    static Path singleNode(Path file, String opType, String nodeName, String outputName, int n,
            AttributeProto... attrs) throws IOException {
        ValueInfoProto out = floatValue(outputName, n);
        for (AttributeProto a : attrs) {
            if (a.getName().equals("to")) {
                out = out.toBuilder().setType(out.getType().toBuilder().setTensorType(
                        out.getType().getTensorType().toBuilder().setElemType((int) a.getI()))).build();
            }
        }
        GraphProto g = GraphProto.newBuilder().setName("g")
                .addInput(floatValue("x", n))
                .addOutput(out)
                .addNode(NodeProto.newBuilder().setName(nodeName).setOpType(opType).addInput("x").addOutput(outputName)
                        .addAllAttribute(java.util.List.of(attrs)))
                .build();
        ModelProto m = ModelProto.newBuilder().setIrVersion(8).setProducerName("cli-test")
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(13)).setGraph(g).build();
        Files.write(file, m.toByteArray());
        return file;
    }

    static AttributeProto intAttr(String name, long value) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INT).setI(value).build();
    }

    /** A float32 tensor as a serialized ONNX TensorProto (.pb), raw little-endian data. */
    static Path tensorProto(Path file, Tensor t) throws IOException {
        TensorProto.Builder p = TensorProto.newBuilder().setName("t").setDataType(TensorProto.DataType.FLOAT_VALUE);
        for (int d : t.shape()) {
            p.addDims(d);
        }
        byte[] raw = new byte[t.byteSize()];
        t.data().get(0, raw);
        p.setRawData(ByteString.copyFrom(raw));
        Files.write(file, p.build().toByteArray());
        return file;
    }
}
