package dev.hedge.converter;

import static dev.hedge.converter.onnx.Onnx.FLOAT;
import static dev.hedge.converter.onnx.Onnx.dims;
import static dev.hedge.converter.onnx.Onnx.floatsRaw;
import static dev.hedge.converter.onnx.Onnx.graphBuilder;
import static dev.hedge.converter.onnx.Onnx.in;
import static dev.hedge.converter.onnx.Onnx.model;
import static dev.hedge.converter.onnx.Onnx.node;
import static dev.hedge.converter.onnx.Onnx.out;
import static dev.hedge.converter.onnx.Onnx.valueInfo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.GraphProto;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.hedge.ir.ModelDef;
import dev.hedge.ops.Op;
import dev.hedge.runtime.InvalidInputException;
import dev.hedge.runtime.UnsupportedModelException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConverterTest {

    /** x -> Conv -> BatchNormalization -> Relu -> Identity -> y, opset 13, dynamic batch. */
    private static Path writeModel(Path dir) throws Exception {
        float[] w = new float[2 * 3 * 1 * 1];
        for (int i = 0; i < w.length; i++) {
            w[i] = i * 0.1f - 0.2f;
        }
        GraphProto g = graphBuilder("g").addInput(valueInfo("x", FLOAT, "N", 3, 4, 4))
                .addInitializer(floatsRaw("w", dims(2, 3, 1, 1), w))
                .addInitializer(floatsRaw("s", dims(2), 1, 2)).addInitializer(floatsRaw("b", dims(2), 0, 1))
                .addInitializer(floatsRaw("m", dims(2), 0.5f, 0)).addInitializer(floatsRaw("v", dims(2), 1, 4))
                .addNode(node("conv", "Conv", in("x", "w"), out("c")))
                .addNode(node("bn", "BatchNormalization", in("c", "s", "b", "m", "v"), out("n")))
                .addNode(node("relu", "Relu", in("n"), out("r")))
                .addNode(node("id", "Identity", in("r"), out("y")))
                .addOutput(valueInfo("y", FLOAT, "N", 2, 4, 4)).build();
        Path p = dir.resolve("tiny.onnx");
        Files.write(p, model(13, g).toByteArray());
        return p;
    }

    @Test
    void convertsImportsOptimizesAndRecordsTheOptions(@TempDir Path dir) throws Exception {
        Path onnx = writeModel(dir);
        Converter.Result r = Converter.convert(onnx, new Converter.Options(true, Map.of("x", new int[] {1, 3, 4, 4})));
        assertEquals(4, r.nodesBefore());
        assertEquals(1, r.nodesAfter());
        ModelDef m = r.model();
        assertEquals(Op.Conv, m.graph().nodes().get(0).op());
        assertEquals("Relu", m.graph().nodes().get(0).stringAttr("fused_activation"));
        assertEquals("y", m.graph().nodes().get(0).output(0));
        assertEquals("tiny.onnx", m.metadata().get(ModelDef.META_SOURCE_NAME));
        assertEquals(64, m.metadata().get(ModelDef.META_SOURCE_DIGEST).length());
        JsonNode opts = new ObjectMapper().readTree(m.metadata().get(ModelDef.META_OPTIONS));
        assertTrue(opts.get("optimize").asBoolean());
        assertEquals("[1,3,4,4]", opts.get("input_shapes").get("x").toString());
        List<String> passes = r.passes().stream().map(Converter.PassReport::pass).toList();
        assertEquals(List.of("fix-input-shapes", "identity-elimination", "constant-folding", "batchnorm-folding",
                "activation-fusion", "dead-node-elimination", "shape-inference"), passes);
        assertEquals(r.nodesBefore(), r.passes().get(0).nodesBefore());
        assertEquals(r.nodesAfter(), r.passes().get(r.passes().size() - 1).nodesAfter());
    }

    @Test
    void theConvertedModelSurvivesTheHedgeFormat(@TempDir Path dir) throws Exception {
        Converter.Result r = Converter.convert(writeModel(dir), new Converter.Options(true, Map.of()));
        Path file = dir.resolve("tiny.hedge");
        dev.hedge.format.HedgeWriter.write(r.model(), file);
        try (dev.hedge.runtime.Model loaded = dev.hedge.runtime.Model.load(file)) {
            ModelDef back = loaded.definition();
            assertEquals(r.model().graph().nodes(), back.graph().nodes());
            assertEquals(r.model().graph().inputs(), back.graph().inputs());
            assertEquals(r.model().metadata().get(ModelDef.META_OPTIONS), back.metadata().get(ModelDef.META_OPTIONS));
            assertEquals(r.model().metadata().get(ModelDef.META_SOURCE_DIGEST),
                    back.metadata().get(ModelDef.META_SOURCE_DIGEST));
            assertEquals(r.model().graph().initializers().keySet(), back.graph().initializers().keySet());
        }
    }

    @Test
    void withoutOptimizeTheGraphIsAsImported(@TempDir Path dir) throws Exception {
        Path onnx = writeModel(dir);
        Converter.Result r = Converter.convert(onnx, new Converter.Options(false, Map.of()));
        assertEquals(4, r.nodesAfter());
        assertTrue(r.passes().isEmpty());
        assertEquals("{\"optimize\":false,\"input_shapes\":{}}", r.model().metadata().get(ModelDef.META_OPTIONS));
        assertEquals(Converter.Options.defaults(), new Converter.Options(true, null));
    }

    @Test
    void badShapesAndUnsupportedModelsAreReported(@TempDir Path dir) throws Exception {
        Path onnx = writeModel(dir);
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> Converter.convert(onnx, new Converter.Options(true, Map.of("images", new int[] {1}))));
        assertTrue(e.getMessage().contains("'images'"), e.getMessage());
        GraphProto g = graphBuilder("g").addInput(valueInfo("x", FLOAT, 2))
                .addNode(node("weird", "NotAnOnnxOp", in("x"), out("y"))).addOutput(valueInfo("y", FLOAT, 2)).build();
        Path bad = dir.resolve("bad.onnx");
        Files.write(bad, model(13, g).toByteArray());
        UnsupportedModelException u = assertThrows(UnsupportedModelException.class,
                () -> Converter.convert(bad, Converter.Options.defaults()));
        assertTrue(u.getMessage().contains("node 'weird' (op NotAnOnnxOp"), u.getMessage());
    }
}
