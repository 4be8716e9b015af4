package dev.hedge.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hedge.ir.Dim;
import dev.hedge.ir.Graph;
import dev.hedge.converter.report.CompressionReport;
import dev.hedge.ir.ModelDef;
import dev.hedge.ir.Node;
import dev.hedge.ir.ValueInfo;
import dev.hedge.plan.Plan;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Model;
import dev.hedge.runtime.Tensor;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "inspect", mixinStandardHelpOptions = true,
        description = "Describe a model: inputs and outputs, op histogram, weight bytes by dtype, metadata "
                + "(with the conversion report), the planned activation memory, and which backend runs each "
                + "node and why.")
final class InspectCommand implements Callable<Integer> {

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "MODEL", description = "A .hedge file, or an .onnx file (converted in memory).")
    Path modelPath;

    @Option(names = "--json", description = "Print JSON instead of text.")
    boolean json;

    @Option(names = "--input-shape", paramLabel = "NAME=DIMS",
            description = "Shape to plan with for an input (default: dynamic dimensions as 1). Repeatable.")
    Map<String, String> inputShapes;

    @Mixin
    BackendOptions backends = new BackendOptions();

    @Override
    public Integer call() throws Exception {
        Map<String, int[]> shapes = ModelFiles.parseShapes(spec.commandLine(), inputShapes);
        BackendOptions.Resolved runtime = backends.resolve();
        ModelFiles.Opened opened = ModelFiles.open(modelPath, shapes, true, runtime.options());
        ObjectNode info = describe(opened.model(), modelPath.toString(), Files.size(modelPath),
                opened.conversion() != null ? "onnx (converted in memory)" : "hedge", shapes);
        ObjectNode b = (ObjectNode) info.get("plan");
        b.put("backendSource", runtime.source());
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            out.println(JSON.writeValueAsString(info));
        } else {
            printText(info, out);
        }
        out.flush();
        return Errors.OK;
    }

    static ObjectNode describe(Model model, String file, long fileBytes, String format, Map<String, int[]> shapes) {
        ObjectNode o = JSON.createObjectNode();
        o.put("file", file);
        o.put("format", format);
        o.put("fileBytes", fileBytes);
        o.set("inputs", values(model.inputs()));
        o.set("outputs", values(model.outputs()));

        Map<String, Integer> ops = new TreeMap<>();
        Map<DType, long[]> weights = new TreeMap<>();
        walk(model.graph(), ops, weights);
        List<Map.Entry<String, Integer>> hist = new ArrayList<>(ops.entrySet());
        hist.sort((a, b) -> b.getValue() - a.getValue());
        ObjectNode h = o.putObject("ops");
        hist.forEach(e -> h.put(e.getKey(), e.getValue()));
        o.put("nodes", model.graph().deepNodeCount());

        ObjectNode w = o.putObject("weights");
        long total = 0;
        for (Map.Entry<DType, long[]> e : weights.entrySet()) {
            ObjectNode d = w.putObject(e.getKey().name());
            d.put("tensors", e.getValue()[0]);
            d.put("elements", e.getValue()[1]);
            d.put("bytes", e.getValue()[2]);
            d.put("encodedTensors", e.getValue()[3]);
            total += e.getValue()[2];
        }
        o.put("weightBytes", total);

        o.set("plan", plan(model, shapes));

        ObjectNode meta = o.putObject("metadata");
        for (Map.Entry<String, String> e : model.metadata().entrySet()) {
            if (!e.getKey().equals(ModelDef.META_REPORT)) {
                meta.put(e.getKey(), e.getValue());
            }
        }
        String report = model.metadata().get(ModelDef.META_REPORT);
        if (report != null) {
            o.set("conversionReport", parsedOrText(report));
        }
        return o;
    }

    private static ArrayNode values(List<ValueInfo> vs) {
        ArrayNode a = JSON.createArrayNode();
        for (ValueInfo v : vs) {
            ObjectNode n = a.addObject();
            n.put("name", v.name());
            n.put("dtype", v.dtype() == null ? null : v.dtype().name());
            if (v.dims() == null) {
                n.putNull("dims");
            } else {
                ArrayNode d = n.putArray("dims");
                for (Dim dim : v.dims()) {
                    if (dim.isFixed()) {
                        d.add(dim.value());
                    } else {
                        d.add(dim.toString());
                    }
                }
            }
        }
        return a;
    }

    /** Counts ops and weights in a graph and its subgraphs; weights[dtype] = {tensors, elements, bytes, encoded}. */
    private static void walk(Graph g, Map<String, Integer> ops, Map<DType, long[]> weights) {
        for (Tensor t : g.initializers().values()) {
            long[] s = weights.computeIfAbsent(t.dtype(), k -> new long[4]);
            s[0]++;
            s[1] += t.elementCount();
            s[2] += t.byteSize();
            s[3] += t.isEncoded() ? 1 : 0;
        }
        for (Node n : g.nodes()) {
            ops.merge(n.op().name(), 1, Integer::sum);
            for (Graph sub : n.subgraphs()) {
                walk(sub, ops, weights);
            }
        }
    }

    private static ObjectNode plan(Model model, Map<String, int[]> shapes) {
        ObjectNode p = JSON.createObjectNode();
        try {
            List<int[]> in = model.defaultInputShapes(shapes);
            ObjectNode s = p.putObject("inputShapes");
            for (int i = 0; i < in.size(); i++) {
                ArrayNode a = s.putArray(model.inputs().get(i).name());
                Arrays.stream(in.get(i)).forEach(a::add);
            }
            ArrayNode order = p.putArray("backends");
            model.options().backends().forEach(b -> order.add(b.name()));
            order.add("java");
            p.put("threads", model.threads());
            ArrayNode unavailable = p.putArray("unavailable");
            model.options().unavailable().forEach(unavailable::add);
            Plan plan = model.plan(in);
            p.put("arenaBytes", plan.arenaBytes());
            p.put("arenaBytesWithSubgraphs", plan.totalArenaBytes());
            p.put("unsharedBytes", plan.unsharedBytes());
            p.put("packedWeightBytes", plan.packedBytes());
            p.put("steps", plan.stepCount());
            ArrayNode nodes = p.putArray("nodes");
            for (Plan.StepInfo st : plan.describe()) {
                ObjectNode n = nodes.addObject();
                n.put("node", st.node());
                n.put("op", st.op());
                n.put("backend", st.backend());
                n.put("kernelClass", st.kernelClass());
                n.put("reason", st.reason());
                if (!Double.isNaN(st.estimateNanos())) {
                    n.put("estimateMicros", st.estimateNanos() / 1e3);
                }
            }
        } catch (RuntimeException e) {
            // Inspecting must still work for a model this build cannot plan; the reason is part of the answer.
            p.put("error", Errors.oneLine(Errors.message(e)));
        }
        return p;
    }

    private static JsonNode parsedOrText(String s) {
        try {
            JsonNode n = JSON.readTree(s);
            if (n != null && n.isContainerNode()) {
                return n;
            }
        } catch (JsonProcessingException e) {
            // not JSON: shown as text
        }
        return JSON.getNodeFactory().textNode(s);
    }

    static void printText(ObjectNode o, PrintWriter out) throws JsonProcessingException {
        out.printf(Locale.ROOT, "%s: %s, %s%n", o.get("file").asText(), o.get("format").asText(),
                ModelFiles.bytes(o.get("fileBytes").asLong()));
        printValues("inputs", o.get("inputs"), out);
        printValues("outputs", o.get("outputs"), out);

        JsonNode ops = o.get("ops");
        out.printf(Locale.ROOT, "nodes: %d (%d op types)%n", o.get("nodes").asInt(), ops.size());
        for (Iterator<Map.Entry<String, JsonNode>> it = ops.fields(); it.hasNext();) {
            Map.Entry<String, JsonNode> e = it.next();
            out.printf(Locale.ROOT, "  %-24s %6d%n", e.getKey(), e.getValue().asInt());
        }

        out.printf(Locale.ROOT, "weights: %s%n", ModelFiles.bytes(o.get("weightBytes").asLong()));
        for (Iterator<Map.Entry<String, JsonNode>> it = o.get("weights").fields(); it.hasNext();) {
            Map.Entry<String, JsonNode> e = it.next();
            JsonNode d = e.getValue();
            long enc = d.get("encodedTensors").asLong();
            out.printf(Locale.ROOT, "  %-9s %,12d bytes  %,11d values in %d tensors%s%n", e.getKey(),
                    d.get("bytes").asLong(), d.get("elements").asLong(), d.get("tensors").asLong(),
                    enc > 0 ? " (" + enc + " encoded)" : "");
        }

        JsonNode p = o.get("plan");
        if (p.has("backends")) {
            List<String> order = new ArrayList<>();
            p.get("backends").forEach(b -> order.add(b.asText()));
            int t = p.get("threads").asInt();
            out.printf(Locale.ROOT, "backends: %s, %d %s%s%n", String.join(" > ", order), t,
                    t == 1 ? "thread" : "threads", p.has("backendSource") ? " (" + p.get("backendSource").asText()
                            + ")" : "");
            for (JsonNode u : p.get("unavailable")) {
                out.println("  not used: " + u.asText());
            }
        }
        if (p.has("error")) {
            out.println("planned arena: not available: " + p.get("error").asText());
        } else {
            List<String> shapes = new ArrayList<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = p.get("inputShapes").fields(); it.hasNext();) {
                Map.Entry<String, JsonNode> e = it.next();
                shapes.add(e.getKey() + e.getValue().toString());
            }
            out.printf(Locale.ROOT, "planned arena for %s: %s (%s without reuse), %d steps%n",
                    String.join(", ", shapes), ModelFiles.bytes(p.get("arenaBytes").asLong()),
                    ModelFiles.bytes(p.get("unsharedBytes").asLong()), p.get("steps").asInt());
            if (p.get("arenaBytesWithSubgraphs").asLong() != p.get("arenaBytes").asLong()) {
                out.printf(Locale.ROOT, "  with subgraphs: %s%n",
                        ModelFiles.bytes(p.get("arenaBytesWithSubgraphs").asLong()));
            }
            out.printf(Locale.ROOT, "weights copied or packed by kernels: %s%n",
                    ModelFiles.bytes(p.get("packedWeightBytes").asLong()));
            out.println("kernel choice per node (step, op, node, backend, kernel class: reason):");
            int i = 0;
            for (JsonNode n : p.get("nodes")) {
                String cls = n.get("kernelClass").isNull() ? "" : n.get("kernelClass").asText() + ": ";
                out.printf(Locale.ROOT, "  %4d  %-18s %-24s %-9s %s%s%n", i++, n.get("op").asText(),
                        n.get("node").asText(), n.get("backend").asText(), cls,
                        n.get("reason").isNull() ? "" : n.get("reason").asText());
            }
        }

        out.println("metadata:");
        for (Iterator<Map.Entry<String, JsonNode>> it = o.get("metadata").fields(); it.hasNext();) {
            Map.Entry<String, JsonNode> e = it.next();
            out.printf(Locale.ROOT, "  %s = %s%n", e.getKey(), e.getValue().asText());
        }
        JsonNode report = o.get("conversionReport");
        if (report != null) {
            out.println("conversion report:");
            String text = report.isTextual() ? report.asText() : compressionTable(JSON.writeValueAsString(report));
            text.lines().forEach(l -> out.println("  " + l));
        }
    }

    /** A compression report as its table; other JSON as it is. */
    private static String compressionTable(String json) throws JsonProcessingException {
        JsonNode n = JSON.readTree(json);
        if (!n.has("layers") || !n.has("totals")) {
            return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(n);
        }
        return CompressionReport.fromJson(json).toTable();
    }

    private static void printValues(String title, JsonNode vs, PrintWriter out) {
        out.println(title + ":");
        for (JsonNode v : vs) {
            out.printf(Locale.ROOT, "  %-24s %-8s %s%n", v.get("name").asText(),
                    v.get("dtype").isNull() ? "?" : v.get("dtype").asText(),
                    v.get("dims").isNull() ? "[unknown rank]" : v.get("dims").toString().replace("\"", ""));
        }
    }
}
