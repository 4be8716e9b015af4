package dev.hedge.converter.report;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What compression did: per layer and in total, with file sizes, the evaluation against the original, and the
 * choices of automatic mixed precision. Stored as JSON in the .hedge metadata ({@code conversion.report}) and
 * printed as a table.
 *
 * @param settings the compression options, as given
 * @param evaluation accuracy figures (empty when nothing was evaluated)
 * @param outputs per model output: SQNR (dB), max and mean absolute error
 * @param mixedPrecision the steps automatic mixed precision took
 * @param int8Ops the ops other than layers that run on int8 values
 */
public record CompressionReport(Map<String, String> settings, List<LayerRow> layers, long fileBytesBefore,
        long fileBytesAfter, Map<String, Double> evaluation, Map<String, double[]> outputs,
        List<MixedPrecisionStep> mixedPrecision, List<Int8Op> int8Ops, List<String> notes) {

    /** One raise of one layer's precision, and why. */
    public record MixedPrecisionStep(String layer, String from, String to, String reason) {
    }

    /** A non-layer node that runs on int8: what it was ({@code Add + Relu}) and the op it became. */
    public record Int8Op(String node, String from, String to) {
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    public CompressionReport {
        settings = new LinkedHashMap<>(settings);
        layers = List.copyOf(layers);
        evaluation = new LinkedHashMap<>(evaluation);
        outputs = new LinkedHashMap<>(outputs);
        mixedPrecision = List.copyOf(mixedPrecision);
        int8Ops = List.copyOf(int8Ops);
        notes = List.copyOf(notes);
    }

    public CompressionReport withFileBytesAfter(long bytes) {
        return new CompressionReport(settings, layers, fileBytesBefore, bytes, evaluation, outputs, mixedPrecision,
                int8Ops, notes);
    }

    public double ratio() {
        return fileBytesBefore == 0 ? Double.NaN : (double) fileBytesAfter / fileBytesBefore;
    }

    public long totalBytesBefore() {
        return layers.stream().mapToLong(LayerRow::bytesBefore).sum();
    }

    public long totalBytesAfter() {
        return layers.stream().mapToLong(LayerRow::bytesAfter).sum();
    }

    public long totalParams() {
        return layers.stream().mapToLong(LayerRow::params).sum();
    }

    public long totalMacsBefore() {
        return layers.stream().mapToLong(r -> Math.max(0, r.macsBefore())).sum();
    }

    public long totalMacsAfter() {
        return layers.stream().mapToLong(r -> Math.max(0, r.macsAfter())).sum();
    }

    /** Indented JSON, for {@code --report} files. */
    public String toPrettyJson() {
        try {
            return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(JSON.readTree(toJson()));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Compact JSON, as stored in the file's metadata. */
    public String toJson() {
        ObjectNode root = JSON.createObjectNode();
        ObjectNode s = root.putObject("settings");
        settings.forEach(s::put);
        ArrayNode ls = root.putArray("layers");
        for (LayerRow r : layers) {
            ObjectNode o = ls.addObject();
            o.put("name", r.name());
            o.put("op", r.op());
            o.put("params", r.params());
            o.put("sparsity", r.sparsity());
            o.put("precision", r.precision());
            o.put("bits", r.bits());
            o.put("bytes_before", r.bytesBefore());
            o.put("bytes_after", r.bytesAfter());
            putNumber(o, "sqnr_db", r.sqnrDb());
            o.put("macs_before", r.macsBefore());
            o.put("macs_after", r.macsAfter());
            if (!Double.isNaN(r.refitSqnrBefore())) {
                putNumber(o, "refit_sqnr_before_db", r.refitSqnrBefore());
                putNumber(o, "refit_sqnr_after_db", r.refitSqnrAfter());
            }
            if (!r.note().isEmpty()) {
                o.put("note", r.note());
            }
        }
        ObjectNode t = root.putObject("totals");
        t.put("params", totalParams());
        t.put("bytes_before", totalBytesBefore());
        t.put("bytes_after", totalBytesAfter());
        t.put("macs_before", totalMacsBefore());
        t.put("macs_after", totalMacsAfter());
        t.put("file_bytes_before", fileBytesBefore);
        t.put("file_bytes_after", fileBytesAfter);
        putNumber(t, "file_ratio", ratio());
        ObjectNode e = root.putObject("evaluation");
        evaluation.forEach((k, v) -> putNumber(e, k, v));
        ObjectNode outs = root.putObject("outputs");
        outputs.forEach((k, v) -> {
            ObjectNode o = outs.putObject(k);
            putNumber(o, "sqnr_db", v[0]);
            putNumber(o, "max_abs_error", v[1]);
            putNumber(o, "mean_abs_error", v[2]);
        });
        ArrayNode amp = root.putArray("mixed_precision");
        for (MixedPrecisionStep st : mixedPrecision) {
            ObjectNode o = amp.addObject();
            o.put("layer", st.layer());
            o.put("from", st.from());
            o.put("to", st.to());
            o.put("reason", st.reason());
        }
        ArrayNode io = root.putArray("int8_ops");
        for (Int8Op op : int8Ops) {
            ObjectNode o = io.addObject();
            o.put("node", op.node());
            o.put("from", op.from());
            o.put("to", op.to());
        }
        ArrayNode ns = root.putArray("notes");
        notes.forEach(ns::add);
        try {
            return JSON.writeValueAsString(root);
        } catch (JsonProcessingException ex) {
            throw new IllegalStateException(ex);
        }
    }

    /** Non-finite numbers become strings ("inf", "nan") since JSON has no such numbers. */
    private static void putNumber(ObjectNode o, String k, double v) {
        if (Double.isNaN(v)) {
            o.putNull(k);
        } else if (Double.isInfinite(v)) {
            o.put(k, v > 0 ? "inf" : "-inf");
        } else {
            o.put(k, v);
        }
    }

    /** Reads a report back from its JSON (as stored in a file's metadata). */
    public static CompressionReport fromJson(String json) {
        try {
            JsonNode root = JSON.readTree(json);
            Map<String, String> settings = new LinkedHashMap<>();
            root.path("settings").fields().forEachRemaining(f -> settings.put(f.getKey(), f.getValue().asText()));
            List<LayerRow> rows = new ArrayList<>();
            for (JsonNode o : root.path("layers")) {
                rows.add(new LayerRow(o.path("name").asText(), o.path("op").asText(), o.path("params").asLong(),
                        o.path("sparsity").asDouble(), o.path("precision").asText(), o.path("bits").asInt(),
                        o.path("bytes_before").asLong(), o.path("bytes_after").asLong(), number(o.path("sqnr_db")),
                        o.path("macs_before").asLong(), o.path("macs_after").asLong(),
                        number(o.path("refit_sqnr_before_db")), number(o.path("refit_sqnr_after_db")),
                        o.path("note").asText("")));
            }
            JsonNode t = root.path("totals");
            Map<String, Double> eval = new LinkedHashMap<>();
            root.path("evaluation").fields().forEachRemaining(f -> eval.put(f.getKey(), number(f.getValue())));
            Map<String, double[]> outs = new LinkedHashMap<>();
            root.path("outputs").fields().forEachRemaining(f -> outs.put(f.getKey(), new double[] {
                number(f.getValue().path("sqnr_db")), number(f.getValue().path("max_abs_error")),
                number(f.getValue().path("mean_abs_error"))}));
            List<MixedPrecisionStep> amp = new ArrayList<>();
            for (JsonNode o : root.path("mixed_precision")) {
                amp.add(new MixedPrecisionStep(o.path("layer").asText(), o.path("from").asText(), o.path("to").asText(),
                        o.path("reason").asText()));
            }
            List<Int8Op> int8Ops = new ArrayList<>();
            for (JsonNode o : root.path("int8_ops")) {
                int8Ops.add(new Int8Op(o.path("node").asText(), o.path("from").asText(), o.path("to").asText()));
            }
            List<String> notes = new ArrayList<>();
            root.path("notes").forEach(n -> notes.add(n.asText()));
            return new CompressionReport(settings, rows, t.path("file_bytes_before").asLong(),
                    t.path("file_bytes_after").asLong(), eval, outs, amp, int8Ops, notes);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("compression report is not valid JSON: " + e.getOriginalMessage(), e);
        }
    }

    private static double number(JsonNode n) {
        if (n.isNumber()) {
            return n.asDouble();
        }
        String s = n.asText("");
        return s.equals("inf") ? Double.POSITIVE_INFINITY : s.equals("-inf") ? Double.NEGATIVE_INFINITY : Double.NaN;
    }

    /** The console table: one row per layer, totals, file sizes, evaluation and mixed-precision choices. */
    public String toTable() {
        StringBuilder sb = new StringBuilder();
        int w = Math.max(5, layers.stream().mapToInt(r -> r.name().length()).max().orElse(5));
        w = Math.min(w, 48);
        String fmt = "%-" + w + "s %-12s %9s %6s %-12s %4s %10s %10s %8s %12s %12s%n";
        sb.append(String.format(Locale.ROOT, fmt, "layer", "op", "params", "sparse", "precision", "bits",
                "bytes", "bytes now", "SQNR dB", "MACs", "MACs now"));
        for (LayerRow r : layers) {
            sb.append(String.format(Locale.ROOT, fmt, shorten(r.name(), w), r.op(), r.params(),
                    String.format(Locale.ROOT, "%.1f%%", 100 * r.sparsity()), r.precision(), r.bits(),
                    r.bytesBefore(), r.bytesAfter(), db(r.sqnrDb()), macs(r.macsBefore()), macs(r.macsAfter())));
        }
        sb.append(String.format(Locale.ROOT, fmt, "total", "", totalParams(), "", "", "", totalBytesBefore(),
                totalBytesAfter(), "", macs(totalMacsBefore()), macs(totalMacsAfter())));
        sb.append(String.format(Locale.ROOT, "file: %d -> %d bytes (%.3fx)%n", fileBytesBefore, fileBytesAfter,
                ratio()));
        if (!evaluation.isEmpty()) {
            StringBuilder e = new StringBuilder("evaluation:");
            evaluation.forEach((k, v) -> e.append(' ').append(k).append('=').append(fmtNumber(v)));
            sb.append(e).append('\n');
        }
        outputs.forEach((k, v) -> sb.append(String.format(Locale.ROOT,
                "output %s: SQNR %s dB, max |error| %.6g, mean |error| %.6g%n", k, db(v[0]), v[1], v[2])));
        for (LayerRow r : layers) {
            if (!Double.isNaN(r.refitSqnrBefore())) {
                sb.append(String.format(Locale.ROOT, "reconstruction %s: SQNR %s -> %s dB on the calibration data%n",
                        r.name(), db(r.refitSqnrBefore()), db(r.refitSqnrAfter())));
            }
        }
        for (LayerRow r : layers) {
            if (!r.note().isEmpty()) {
                sb.append("layer ").append(r.name()).append(": ").append(r.note()).append('\n');
            }
        }
        for (MixedPrecisionStep st : mixedPrecision) {
            sb.append("mixed precision: ").append(st.layer()).append(' ').append(st.from()).append(" -> ")
                    .append(st.to()).append(": ").append(st.reason()).append('\n');
        }
        if (!int8Ops.isEmpty()) {
            // one line per kind, e.g. "Add + Relu -> QLinearAdd: 8 (add_1, add_2, ...)"
            Map<String, List<String>> kinds = new LinkedHashMap<>();
            for (Int8Op op : int8Ops) {
                kinds.computeIfAbsent(op.from() + " -> " + op.to(), k -> new ArrayList<>()).add(op.node());
            }
            sb.append(String.format(Locale.ROOT, "int8 between layers: %d ops%n", int8Ops.size()));
            kinds.forEach((k, v) -> sb.append("  ").append(k).append(": ").append(v.size()).append(" (")
                    .append(String.join(", ", v)).append(")\n"));
        }
        for (String n : notes) {
            sb.append("note: ").append(n).append('\n');
        }
        return sb.toString();
    }

    private static String shorten(String s, int w) {
        return s.length() <= w ? s : "..." + s.substring(s.length() - w + 3);
    }

    private static String db(double v) {
        return Double.isNaN(v) ? "-" : Double.isInfinite(v) ? "inf" : String.format(Locale.ROOT, "%.1f", v);
    }

    private static String macs(long v) {
        return v < 0 ? "-" : Long.toString(v);
    }

    private static String fmtNumber(double v) {
        return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%.4f", v);
    }
}
