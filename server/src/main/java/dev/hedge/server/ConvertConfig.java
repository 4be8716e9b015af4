package dev.hedge.server;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.hedge.converter.CompressionOptions;
import dev.hedge.converter.CompressionRequest;
import dev.hedge.converter.Converter;
import dev.hedge.converter.Progress;
import dev.hedge.converter.data.ImageOptions;
import dev.hedge.converter.quantize.CalibrationMethod;
import dev.hedge.converter.quantize.LayerPrecision;
import dev.hedge.ir.ValueInfo;
import dev.hedge.profiles.fit.TargetCompression;
import dev.hedge.runtime.InvalidInputException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * A model's conversion options: a {@code convert.json} next to the ONNX file, whose keys are the long option
 * names of {@code hedge convert} without the dashes ({@code {"quantize": "int8", "calib": "calib.npy",
 * "max-output-error": 0.05}}), or the server's default for models without one. Data paths are relative to the
 * file's directory. Every problem names the file and the key.
 */
final class ConvertConfig {

    /** Keys and what their values must be, in {@code hedge convert --help} order. */
    private static final Map<String, String> KEYS = new LinkedHashMap<>();

    static {
        for (String k : List.of("no-optimize", "per-tensor", "smooth", "float-outputs", "speed-check",
                "prune-global", "prune-all-layers", "reconstruct", "gptq", "obs-mask")) {
            KEYS.put(k, "a boolean");
        }
        for (String k : List.of("quantize", "calib-method", "labels", "prune-nm", "prune-block", "layout",
                "channel-order", "max-precision", "int8-ops")) {
            KEYS.put(k, "a string");
        }
        for (String k : List.of("percentile", "sparsity", "prune-threshold", "prune-channels", "target-agreement",
                "max-accuracy-drop", "max-output-error")) {
            KEYS.put(k, "a number");
        }
        for (String k : List.of("codebook-bits", "int4-group", "calib-limit", "eval-limit", "seed")) {
            KEYS.put(k, "an integer");
        }
        for (String k : List.of("calib", "eval", "prune-skip")) {
            KEYS.put(k, "a string or an array of strings");
        }
        for (String k : List.of("layer", "calib-const", "eval-const", "carry", "prune-layer")) {
            KEYS.put(k, "an object of NAME: VALUE");
        }
        KEYS.put("input-shape", "an object of NAME: [dims]");
        KEYS.put("image-size", "an integer or [height, width]");
        KEYS.put("mean", "a number or an array of numbers");
        KEYS.put("std", "a number or an array of numbers");
    }

    /** Options of {@code hedge convert} that make no sense when the server converts. */
    private static final Set<String> NOT_ON_LOAD = Set.of("output", "o", "report", "progress", "profile",
            "allow-cpu-fallback");

    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY)
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    /** The file the options came from, or null for the server's default. */
    private final Path file;
    private final Path base;
    private final Map<String, JsonNode> values;
    /** The precision mode and per-tensor choice after the profile has had its say. */
    private String quantize;
    private boolean perTensor;
    private boolean floatOutputs = true;
    /** Calibration data the server found next to the model (used when the options name none). */
    private Path foundCalibration;

    private ConvertConfig(Path file, Path base, Map<String, JsonNode> values) {
        this.file = file;
        this.base = base;
        this.values = values;
        this.quantize = text("quantize");
        this.perTensor = bool("per-tensor", false);
    }

    /** Reads and checks a convert.json: syntax (line and column), keys, and the type of every value. */
    static ConvertConfig read(Path file) throws IOException {
        String where = file.toString();
        JsonNode root;
        try {
            root = JSON.readTree(Files.readString(file));
        } catch (JsonProcessingException e) {
            JsonLocation l = e.getLocation();
            throw new InvalidInputException(where + ": not valid JSON" + (l == null ? "" : " at line "
                    + l.getLineNr() + ", column " + l.getColumnNr()) + ": " + e.getOriginalMessage());
        }
        if (root == null || !root.isObject()) {
            throw new InvalidInputException(where + ": expected a JSON object of hedge convert options, such as "
                    + "{\"quantize\": \"int8-dynamic\"}");
        }
        Map<String, JsonNode> values = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String key = e.getKey();
            String k = key.startsWith("--") ? key.substring(2) : key;
            if (NOT_ON_LOAD.contains(k)) {
                throw new InvalidInputException(where + ": key '" + key + "' does not apply when the server "
                        + "converts (it picks the output, the device profile and the report itself)");
            }
            String want = KEYS.get(k);
            if (want == null) {
                throw new InvalidInputException(where + ": unknown key '" + key + "'; the keys are hedge convert's "
                        + "options: " + String.join(", ", KEYS.keySet()));
            }
            if (!fits(e.getValue(), want)) {
                throw new InvalidInputException(where + ": key '" + key + "' must be " + want + ", got "
                        + e.getValue());
            }
            values.put(k, e.getValue());
        }
        ConvertConfig c = new ConvertConfig(file, file.toAbsolutePath().getParent(), values);
        c.checkQuant(); // precision names, methods and ranges fail here rather than at conversion
        return c;
    }

    /** The server's default for a model without a convert.json: one precision mode (null: none). */
    static ConvertConfig of(String quantize, Path base) {
        ConvertConfig c = new ConvertConfig(null, base, new LinkedHashMap<>());
        c.quantize = quantize;
        return c;
    }

    private static boolean fits(JsonNode v, String want) {
        switch (want) {
            case "a boolean": return v.isBoolean();
            case "a string": return v.isTextual();
            case "a number": return v.isNumber();
            case "an integer": return v.isIntegralNumber() && v.canConvertToInt();
            case "a string or an array of strings": return v.isTextual() || v.isArray() && allMatch(v, "a string");
            case "an object of NAME: VALUE":
                return v.isObject() && allMatch(v, "scalar");
            case "an object of NAME: [dims]":
                return v.isObject() && allMatch(v, "dims");
            case "an integer or [height, width]":
                return v.isIntegralNumber() || v.isArray() && v.size() == 2 && allMatch(v, "an integer");
            case "a number or an array of numbers": return v.isNumber() || v.isArray() && allMatch(v, "a number");
            case "scalar": return v.isTextual() || v.isNumber() || v.isBoolean();
            case "dims": return v.isArray() && allMatch(v, "an integer");
            default: throw new IllegalStateException(want);
        }
    }

    private static boolean allMatch(JsonNode container, String want) {
        for (JsonNode e : container) {
            if (!fits(e, want)) {
                return false;
            }
        }
        return true;
    }

    // ---- what the server needs to know before converting ------------------------------------------------------

    /** The precision mode asked for (after {@link #applyTarget}), or null. */
    String quantize() {
        return quantize;
    }

    boolean perTensor() {
        return perTensor;
    }

    /** Replaces the precision, per-tensor and float-output choices with what the device profile allows. */
    void applyTarget(TargetCompression.Settings s) {
        this.quantize = s.precision();
        this.perTensor = s.perTensor();
        this.floatOutputs &= s.floatOutputs();
    }

    /** Calibration data found next to the model, used when the options name none. */
    void useFoundCalibration(Path p) {
        this.foundCalibration = p;
    }

    /** Whether calibration data is given (by the options or found next to the model). */
    boolean hasCalibration() {
        return values.containsKey("calib") || foundCalibration != null;
    }

    /** Whether anything beyond the plain conversion is asked: the compression pipeline then runs. */
    boolean compresses() {
        if (quantize != null && !LayerPrecision.parse(quantize, 4).isFloat32()) {
            return true;
        }
        for (String k : List.of("layer", "sparsity", "prune-threshold", "prune-nm", "prune-channels",
                "target-agreement", "max-accuracy-drop", "max-output-error", "eval")) {
            if (values.containsKey(k)) {
                return true;
            }
        }
        return false;
    }

    Converter.Options convertOptions() {
        Map<String, int[]> shapes = new LinkedHashMap<>();
        JsonNode s = values.get("input-shape");
        if (s != null) {
            s.fields().forEachRemaining(e -> {
                int[] d = new int[e.getValue().size()];
                for (int i = 0; i < d.length; i++) {
                    d[i] = e.getValue().get(i).asInt();
                    if (d[i] < 1) {
                        throw error("input-shape", "dimension " + i + " of '" + e.getKey() + "' is " + d[i]
                                + "; give concrete sizes >= 1");
                    }
                }
                shapes.put(e.getKey(), d);
            });
        }
        return new Converter.Options(!bool("no-optimize", false), shapes);
    }

    /** Every data file or directory the options read (for the cache key). */
    List<Path> dataPaths() {
        List<Path> out = new ArrayList<>();
        for (String k : List.of("calib", "eval")) {
            for (String s : strings(k)) {
                int eq = s.indexOf('=');
                out.add(base.resolve(eq > 0 && s.substring(0, eq).indexOf('/') < 0 ? s.substring(eq + 1) : s));
            }
        }
        if (values.containsKey("labels")) {
            out.add(base.resolve(text("labels")));
        }
        if (foundCalibration != null) {
            out.add(foundCalibration);
        }
        return out;
    }

    /**
     * The compression options (mirrors {@code hedge convert}'s translation of its flags); {@code hostCosts}: the
     * model will run with this host's default backends, whose measured kernel costs the speed check weighs (false
     * for another device's profile: the speed check is then off).
     */
    CompressionOptions compression(List<ValueInfo> inputs, boolean hostCosts) throws IOException {
        Set<String> inputNames = new LinkedHashSet<>();
        inputs.forEach(v -> inputNames.add(v.name()));
        try {
            CompressionRequest r = request(inputNames);
            r.speedCheck &= hostCosts;
            return r.build(inputs, Progress.NONE, k -> "'" + k + "'", this::dataError);
        } catch (InvalidInputException e) {
            throw e.getMessage().startsWith(where()) ? e : new InvalidInputException(where() + e.getMessage());
        }
    }

    private String where() {
        return file == null ? "" : file + ": ";
    }

    private InvalidInputException error(String key, String msg) {
        return new InvalidInputException(where() + "key '" + key + "': " + msg);
    }

    /** Precision names, the calibration method and value ranges, each error naming its key. */
    private void checkQuant() {
        int codebookBits = integer("codebook-bits", 4);
        precision("quantize", quantize, codebookBits);
        pairs("layer").values().forEach(v -> precision("layer", v, codebookBits));
        try {
            CalibrationMethod.parse(text("calib-method") == null ? "minmax" : text("calib-method"));
        } catch (IllegalArgumentException e) {
            throw error("calib-method", e.getMessage());
        }
        try {
            request(Set.of()).quantOptions();
        } catch (IllegalArgumentException e) {
            throw new InvalidInputException(where() + e.getMessage());
        }
    }

    private void precision(String key, String v, int codebookBits) {
        try {
            if (v != null) {
                LayerPrecision.parse(v, codebookBits);
            }
        } catch (IllegalArgumentException e) {
            throw error(key, e.getMessage());
        }
    }

    /** The options as values; data paths resolved against the options file's directory. */
    private CompressionRequest request(Set<String> inputNames) {
        CompressionRequest r = new CompressionRequest();
        r.quantize = quantize;
        r.perTensor = perTensor;
        // a full-integer target's requantized outputs win over the file's wish
        r.floatOutputs = floatOutputs && bool("float-outputs", true);
        r.maxPrecision = text("max-precision");
        if (text("int8-ops") != null) {
            if (!List.of("layers", "all").contains(text("int8-ops"))) {
                throw error("int8-ops", "'" + text("int8-ops") + "': give layers or all");
            }
            r.int8Ops = text("int8-ops");
        }
        if (text("calib-method") != null) {
            r.calibMethod = text("calib-method");
        }
        r.percentile = number("percentile", r.percentile);
        r.codebookBits = integer("codebook-bits", r.codebookBits);
        r.int4Group = integer("int4-group", r.int4Group);
        r.smooth = bool("smooth", r.smooth);
        r.speedCheck = bool("speed-check", r.speedCheck);
        r.layers = pairs("layer");
        r.calib = data("calib", inputNames);
        if (r.calib.isEmpty() && foundCalibration != null) {
            r.calib = List.of(foundCalibration.toString());
        }
        r.calibConsts = pairs("calib-const");
        r.calibLimit = integer("calib-limit", 0);
        r.eval = data("eval", inputNames);
        r.evalConsts = values.containsKey("eval-const") ? pairs("eval-const") : null;
        r.evalLimit = integer("eval-limit", 0);
        r.labels = values.containsKey("labels") ? base.resolve(text("labels")) : null;
        r.carry = pairs("carry");
        r.seed = values.containsKey("seed") ? values.get("seed").asLong() : null;
        r.image = images();
        r.sparsity = values.containsKey("sparsity") ? number("sparsity", 0) : null;
        r.pruneThreshold = values.containsKey("prune-threshold") ? number("prune-threshold", 0) : null;
        r.pruneNm = values.containsKey("prune-nm") ? pair("prune-nm", ":") : null;
        r.pruneGlobal = bool("prune-global", false);
        r.pruneBlock = values.containsKey("prune-block") ? pair("prune-block", "x") : null;
        Map<String, Double> ov = new LinkedHashMap<>();
        values.getOrDefault("prune-layer", JSON.createObjectNode()).fields().forEachRemaining(e -> {
            if (!e.getValue().isNumber()) {
                throw error("prune-layer", "'" + e.getKey() + "' must be a number, got " + e.getValue());
            }
            ov.put(e.getKey(), e.getValue().asDouble());
        });
        r.pruneLayer = ov;
        r.pruneSkip = new LinkedHashSet<>(strings("prune-skip"));
        r.pruneAllLayers = bool("prune-all-layers", false);
        r.pruneChannels = values.containsKey("prune-channels") ? number("prune-channels", 0) : null;
        r.reconstruct = values.containsKey("reconstruct") ? bool("reconstruct", false) : null;
        r.obsMask = bool("obs-mask", false);
        r.gptq = bool("gptq", true);
        r.targetAgreement = values.containsKey("target-agreement") ? number("target-agreement", 0) : null;
        r.maxAccuracyDrop = values.containsKey("max-accuracy-drop") ? number("max-accuracy-drop", 0) : null;
        r.maxOutputError = values.containsKey("max-output-error") ? number("max-output-error", 0) : null;
        return r;
    }

    /** Names the key whose data is at fault (or the calibration data found next to the model). */
    private InvalidInputException dataError(String key, InvalidInputException e) {
        return values.containsKey(key) ? error(key, e.getMessage())
                : new InvalidInputException("calibration data " + foundCalibration + ": " + e.getMessage());
    }

    /** Data sources with their paths resolved against the options file's directory. */
    private List<String> data(String key, Set<String> inputs) {
        List<String> out = new ArrayList<>();
        for (String s : strings(key)) {
            int eq = s.indexOf('=');
            if (eq > 0 && inputs.contains(s.substring(0, eq))) {
                out.add(s.substring(0, eq) + "=" + base.resolve(s.substring(eq + 1)));
            } else {
                out.add(base.resolve(s).toString());
            }
        }
        return out;
    }

    private ImageOptions images() {
        int h = 0;
        int w = 0;
        JsonNode size = values.get("image-size");
        if (size != null) {
            h = size.isArray() ? size.get(0).asInt() : size.asInt();
            w = size.isArray() ? size.get(1).asInt() : h;
        }
        try {
            return new ImageOptions(h, w, floats("mean"), floats("std"),
                    ImageOptions.parseLayout(text("layout") == null ? "nchw" : text("layout")),
                    ImageOptions.parseChannelOrder(text("channel-order") == null ? "rgb" : text("channel-order")));
        } catch (IllegalArgumentException e) {
            throw new InvalidInputException(where() + e.getMessage());
        }
    }

    private float[] floats(String key) {
        JsonNode v = values.get(key);
        if (v == null) {
            return null;
        }
        if (!v.isArray()) {
            return new float[] {(float) v.asDouble()};
        }
        float[] f = new float[v.size()];
        for (int i = 0; i < f.length; i++) {
            f[i] = (float) v.get(i).asDouble();
        }
        return f;
    }

    private int[] pair(String key, String sep) {
        String s = text(key).toLowerCase(Locale.ROOT);
        String[] p = s.split(sep);
        try {
            if (p.length == 2) {
                return new int[] {Integer.parseInt(p[0].trim()), Integer.parseInt(p[1].trim())};
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw error(key, "'" + s + "' is not A" + sep + "B with integers A and B");
    }

    private String text(String key) {
        JsonNode v = values.get(key);
        return v == null ? null : v.asText();
    }

    private boolean bool(String key, boolean dflt) {
        JsonNode v = values.get(key);
        return v == null ? dflt : v.asBoolean();
    }

    private double number(String key, double dflt) {
        JsonNode v = values.get(key);
        return v == null ? dflt : v.asDouble();
    }

    private int integer(String key, int dflt) {
        JsonNode v = values.get(key);
        return v == null ? dflt : v.asInt();
    }

    private List<String> strings(String key) {
        JsonNode v = values.get(key);
        List<String> out = new ArrayList<>();
        if (v == null) {
            return out;
        }
        if (v.isTextual()) {
            out.add(v.asText());
        } else {
            v.forEach(e -> out.add(e.asText()));
        }
        return out;
    }

    private Map<String, String> pairs(String key) {
        Map<String, String> out = new LinkedHashMap<>();
        JsonNode v = values.get(key);
        if (v != null) {
            v.fields().forEachRemaining(e -> out.put(e.getKey(), e.getValue().asText()));
        }
        return out;
    }
}
