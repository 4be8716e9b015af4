package dev.hedge.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hedge.converter.onnx.OnnxImporter;
import dev.hedge.ir.Attr;
import dev.hedge.ir.Graph;
import dev.hedge.ir.ModelDef;
import dev.hedge.ir.Node;
import dev.hedge.ir.ValueInfo;
import dev.hedge.ops.Op;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Model;
import dev.hedge.runtime.Tensor;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What inspect reports about a model, on imported (not converted) graphs. */
class InspectTest {

    @Test
    void histogramAndWeightsOfTheImportedExample() throws IOException {
        Model m = Model.of(OnnxImporter.importFile(CliTest.ONNX));
        ObjectNode o = InspectCommand.describe(m, "model.onnx", 80_840, "onnx", Map.of());
        // The numbers of examples/digits-cnn/README.md, which come from PyTorch and the onnx package.
        assertEquals(13, o.get("nodes").asInt());
        JsonNode ops = o.get("ops");
        assertEquals(3, ops.get("Conv").asInt());
        assertEquals(3, ops.get("BatchNormalization").asInt());
        assertEquals(3, ops.get("Relu").asInt());
        assertEquals(1, ops.get("MaxPool").asInt());
        assertEquals(1, ops.get("GlobalAveragePool").asInt());
        assertEquals(1, ops.get("Flatten").asInt());
        assertEquals(1, ops.get("Gemm").asInt());
        List<String> order = new java.util.ArrayList<>();
        ops.fieldNames().forEachRemaining(order::add);
        assertEquals(List.of("BatchNormalization", "Conv", "Relu", "Flatten", "Gemm", "GlobalAveragePool", "MaxPool"),
                order, "most frequent first, ties by name");
        JsonNode f32 = o.get("weights").get("FLOAT32");
        assertEquals(17, f32.get("tensors").asInt());
        assertEquals(19_450, f32.get("elements").asLong());
        assertEquals(19_450 * 4, f32.get("bytes").asLong());
        assertEquals(0, f32.get("encodedTensors").asInt());
        assertEquals(19_450 * 4, o.get("weightBytes").asLong());
        assertEquals("[\"N\",1,8,8]", o.get("inputs").get(0).get("dims").toString());
        assertEquals("pytorch 1.13.0", o.get("metadata").get("source.producer").asText());

        StringWriter text = new StringWriter();
        InspectCommand.printText(o, new PrintWriter(text, true));
        assertTrue(text.toString().contains("  pixels                   FLOAT32  [N,1,8,8]"), text.toString());
        assertTrue(text.toString().contains("  FLOAT32         77,800 bytes       19,450 values in 17 tensors"),
                text.toString());
    }

    @Test
    void countsSubgraphsAndEveryDtype() {
        Graph then = Graph.builder("then").addOutput(ValueInfo.of("t", DType.INT64, 2))
                .initializer("k", Tensor.of(new long[] {1, 2}, 2))
                .addNode(Node.of("neg", Op.Neg, List.of("k"), List.of("t"))).build();
        Graph otherwise = Graph.builder("else").addOutput(ValueInfo.of("e", DType.INT64, 2))
                .addNode(Node.of("abs", Op.Abs, List.of("k0"), List.of("e"))).build();
        Graph main = Graph.builder("main").addInput(ValueInfo.of("c", DType.BOOL))
                .addOutput(ValueInfo.of("y", DType.INT64, 2))
                .initializer("k0", Tensor.of(new long[] {3, 4}, 2))
                .initializer("h", Tensor.allocate(DType.FLOAT16, 3))
                .addNode(new Node("if", Op.If, List.of("c"), List.of("y"),
                        Map.of("then_branch", new Attr.GraphValue(then), "else_branch", new Attr.GraphValue(otherwise))))
                .build();
        ObjectNode o = InspectCommand.describe(Model.of(new ModelDef(main, Map.of(ModelDef.META_REPORT,
                "{\"passes\":[{\"pass\":\"fold\"}]}", "k", "v"))), "x.hedge", 1, "hedge", Map.of());
        assertEquals(3, o.get("nodes").asInt());
        assertEquals(1, o.get("ops").get("If").asInt());
        assertEquals(1, o.get("ops").get("Neg").asInt());
        assertEquals(1, o.get("ops").get("Abs").asInt());
        assertEquals(2, o.get("weights").get("INT64").get("tensors").asInt());
        assertEquals(32, o.get("weights").get("INT64").get("bytes").asLong());
        assertEquals(6, o.get("weights").get("FLOAT16").get("bytes").asLong());
        assertEquals(38, o.get("weightBytes").asLong());
        assertEquals("v", o.get("metadata").get("k").asText());
        assertFalse(o.get("metadata").has(ModelDef.META_REPORT), "the report is shown apart");
        assertEquals("fold", o.get("conversionReport").get("passes").get(0).get("pass").asText());
        assertEquals("[]", o.get("inputs").get(0).get("dims").toString());
    }
}
