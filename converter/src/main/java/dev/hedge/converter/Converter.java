package dev.hedge.converter;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hedge.converter.onnx.OnnxImporter;
import dev.hedge.converter.passes.FixInputShapes;
import dev.hedge.converter.passes.PassManager;
import dev.hedge.converter.quantize.QdqFusion;
import dev.hedge.ir.Graph;
import dev.hedge.ir.ModelDef;
import dev.hedge.ir.Node;
import dev.hedge.ops.Op;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The conversion pipeline behind {@code hedge convert}: import, clean-up passes, and for already-quantized
 * (QDQ) models the fusion into integer ops. Writing the result is {@link dev.hedge.format.HedgeWriter}'s job;
 * compression (pruning, quantization, evaluation, the report) is {@link Compressor}'s, which writes its result
 * itself since every figure it reports comes from the written file.
 */
public final class Converter {

    private static final ObjectMapper JSON = new ObjectMapper();

    private Converter() {
    }

    /**
     * @param optimize run the graph clean-up passes (folding, fusion, elimination) and shape inference
     * @param inputShapes concrete shapes for inputs (may be empty); the converted model is specialized to
     *     them (it then accepts exactly those shapes), which lets shape inference and folding know every
     *     dimension. Applied with or without {@code optimize}.
     */
    public record Options(boolean optimize, Map<String, int[]> inputShapes) {
        public Options {
            inputShapes = inputShapes == null ? Map.of() : Map.copyOf(inputShapes);
        }

        public static Options defaults() {
            return new Options(true, Map.of());
        }
    }

    /** What one pass did: node counts before and after, and a short note. */
    public record PassReport(String pass, int nodesBefore, int nodesAfter, String note) {
    }

    /**
     * The converted model, what each pass did, and the node counts (subgraph nodes included) after import
     * and at the end.
     */
    public record Result(ModelDef model, List<PassReport> passes, int nodesBefore, int nodesAfter) {
    }

    /** Imports an ONNX file and converts it. */
    public static Result convert(Path onnx, Options options) throws IOException {
        return convert(OnnxImporter.importFile(onnx), options);
    }

    /** Converts an imported model; records the options in its metadata ({@link ModelDef#META_OPTIONS}). */
    public static Result convert(ModelDef imported, Options options) {
        int before = imported.graph().deepNodeCount();
        ModelDef model = imported;
        List<PassReport> reports = List.of();
        if (options.optimize()) {
            PassManager.Outcome o = PassManager.optimize(model.graph(), options.inputShapes());
            model = model.withGraph(o.graph());
            reports = o.reports();
            if (hasQdq(model.graph())) {
                // an already-quantized (QDQ) model: its own scales become integer ops
                PassManager.Outcome q = PassManager.run(model.graph(), List.of(new QdqFusion()));
                model = model.withGraph(q.graph());
                List<PassReport> all = new ArrayList<>(reports);
                all.addAll(q.reports());
                reports = all;
            }
        } else if (!options.inputShapes().isEmpty()) {
            PassManager.Outcome o = PassManager.run(model.graph(),
                    List.of(new FixInputShapes(options.inputShapes())));
            model = model.withGraph(o.graph());
            reports = o.reports();
        }
        model = model.withMetadata(ModelDef.META_OPTIONS, optionsJson(options));
        return new Result(model, reports, before, model.graph().deepNodeCount());
    }

    /** Whether the graph (or a subgraph) has a DequantizeLinear feeding a layer: the QDQ form. */
    private static boolean hasQdq(Graph g) {
        for (Node n : g.nodes()) {
            if (n.op() == Op.DequantizeLinear) {
                return true;
            }
            for (Graph s : n.subgraphs()) {
                if (hasQdq(s)) {
                    return true;
                }
            }
        }
        return false;
    }

    /** {"optimize":true,"input_shapes":{"x":[1,3,224,224]}}, keys sorted so equal options give equal text. */
    static String optionsJson(Options options) {
        ObjectNode root = JSON.createObjectNode();
        root.put("optimize", options.optimize());
        ObjectNode shapes = root.putObject("input_shapes");
        for (Map.Entry<String, int[]> e : new TreeMap<>(options.inputShapes()).entrySet()) {
            var arr = shapes.putArray(e.getKey());
            for (int d : e.getValue()) {
                arr.add(d);
            }
        }
        try {
            return JSON.writeValueAsString(root);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
