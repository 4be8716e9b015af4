package dev.hedge.profiles;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.hedge.ops.Op;
import dev.hedge.profiles.DeviceProfile.Accelerator;
import dev.hedge.profiles.DeviceProfile.Granularity;
import dev.hedge.profiles.DeviceProfile.Layout;
import dev.hedge.profiles.DeviceProfile.Memory;
import dev.hedge.profiles.DeviceProfile.Precision;
import dev.hedge.profiles.DeviceProfile.Sparsity;
import dev.hedge.runtime.DType;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Reads a device profile from JSON and checks it against the rules of {@code profile.schema.json}: every
 * required field present, no unknown field, every value of the right type and range. The first violation
 * is thrown as a {@link ProfileException} naming the source and the field path (e.g.
 * {@code accelerators[0].ops.Conv[1]}).
 */
public final class ProfileLoader {

    /** Backends a profile may name; {@code armnn:<device>} names an Arm NN device. */
    public static final Set<String> CPU_BACKENDS = Set.of("native", "openblas", "java");
    public static final Set<String> ARMNN_DEVICES = Set.of("CpuRef", "CpuAcc", "GpuAcc", "EthosNAcc");

    private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9._-]*");
    private static final Pattern FEATURE = Pattern.compile("[a-z0-9_]+");
    private static final ObjectMapper JSON = new ObjectMapper();

    private final String source;

    private ProfileLoader(String source) {
        this.source = source;
    }

    public static DeviceProfile read(Path file) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new ProfileException("profile " + file + ": cannot read it: " + e.getMessage());
        }
        return parse(bytes, file.toString());
    }

    public static DeviceProfile read(InputStream in, String source) throws IOException {
        return parse(in.readAllBytes(), source);
    }

    public static DeviceProfile parse(byte[] json, String source) {
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (JsonProcessingException e) {
            throw new ProfileException("profile " + source + ": not valid JSON: " + e.getOriginalMessage()
                    + " (line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr() + ")");
        } catch (IOException e) {
            throw new ProfileException("profile " + source + ": " + e.getMessage());
        }
        return new ProfileLoader(source).profile(root);
    }

    private DeviceProfile profile(JsonNode root) {
        Obj o = new Obj(root, "");
        o.allow("$schema", "name", "description", "arch", "devices", "requiredFeatures", "backends", "threads",
                "cpuGmacs", "memory", "precision", "accelerators", "cpuFallback", "sparsity", "layout");
        String name = o.string("name");
        if (!NAME.matcher(name).matches()) {
            throw fail("name", "must be lower-case letters, digits, '.', '_' or '-', got '" + name + "'");
        }
        String description = o.string("description");
        String arch = o.string("arch");
        List<String> devices = o.strings("devices", false);
        List<String> features = o.strings("requiredFeatures", true);
        for (int i = 0; i < features.size(); i++) {
            if (!FEATURE.matcher(features.get(i)).matches()) {
                throw fail("requiredFeatures[" + i + "]", "must be a /proc/cpuinfo flag (lower-case, digits, '_'), got '"
                        + features.get(i) + "'");
            }
        }
        List<String> backends = o.strings("backends", false);
        for (int i = 0; i < backends.size(); i++) {
            checkBackend(backends.get(i), "backends[" + i + "]");
        }
        int threads = (int) o.integer("threads", 0, 1024);
        double cpuGmacs = o.number("cpuGmacs", 0, false);
        Obj m = o.object("memory");
        m.allow("weightsBytes", "arenaBytes");
        Memory memory = new Memory(m.integer("weightsBytes", 1, Long.MAX_VALUE), m.integer("arenaBytes", 1, Long.MAX_VALUE));
        Precision precision = precision(o.object("precision"));
        List<Accelerator> accelerators = new ArrayList<>();
        JsonNode accs = o.array("accelerators");
        for (int i = 0; i < accs.size(); i++) {
            accelerators.add(accelerator(new Obj(accs.get(i), "accelerators[" + i + "]")));
        }
        boolean cpuFallback = o.bool("cpuFallback");
        Obj sp = o.object("sparsity");
        sp.allow("minSparsity", "blockShape");
        double minSparsity = sp.number("minSparsity", 0, true);
        if (minSparsity > 1) {
            throw fail("sparsity.minSparsity", "must be in [0, 1], got " + minSparsity);
        }
        JsonNode bs = sp.array("blockShape");
        if (bs.size() != 2) {
            throw fail("sparsity.blockShape", "must be [rows, columns], got " + bs.size() + " numbers");
        }
        List<Integer> block = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            JsonNode v = bs.get(i);
            if (!v.canConvertToInt() || !v.isIntegralNumber() || v.asInt() < 1) {
                throw fail("sparsity.blockShape[" + i + "]", "must be a positive integer, got " + v);
            }
            block.add(v.asInt());
        }
        String layoutName = o.string("layout");
        Layout layout;
        try {
            layout = Layout.valueOf(layoutName);
        } catch (IllegalArgumentException e) {
            throw fail("layout", "must be NCHW or NHWC, got '" + layoutName + "'");
        }
        if (accelerators.isEmpty() && !cpuFallback) {
            throw fail("cpuFallback", "must be true when the profile has no accelerator (the CPU is all there is)");
        }
        return new DeviceProfile(name, description, arch, devices, features, backends, threads, cpuGmacs, memory,
                precision, List.copyOf(accelerators), cpuFallback, new Sparsity(minSparsity, List.copyOf(block)),
                layout, source);
    }

    private Precision precision(Obj p) {
        p.allow("activations", "weights", "fullInteger", "weightGranularity", "weightSymmetric");
        Set<DType> acts = dtypes(p, "activations");
        Set<DType> weights = dtypes(p, "weights");
        boolean fullInteger = p.bool("fullInteger");
        List<Granularity> gran = new ArrayList<>();
        List<String> g = p.strings("weightGranularity", false);
        for (int i = 0; i < g.size(); i++) {
            switch (g.get(i)) {
                case "per-tensor": gran.add(Granularity.PER_TENSOR); break;
                case "per-channel": gran.add(Granularity.PER_CHANNEL); break;
                default:
                    throw fail("precision.weightGranularity[" + i + "]", "must be per-tensor or per-channel, got '"
                            + g.get(i) + "'");
            }
        }
        boolean symmetric = p.bool("weightSymmetric");
        if (fullInteger && (acts.contains(DType.FLOAT32) || weights.contains(DType.FLOAT32))) {
            throw fail("precision.fullInteger", "is true but float32 is listed among the accepted "
                    + (acts.contains(DType.FLOAT32) ? "activations" : "weights"));
        }
        return new Precision(acts, weights, fullInteger, List.copyOf(gran), symmetric);
    }

    private Accelerator accelerator(Obj a) {
        a.allow("name", "delegate", "device", "ops", "minPartitionNodes", "dispatchMicros", "transferMBps", "gmacs",
                "refuseSlower");
        String name = a.string("name");
        String delegate = a.string("delegate");
        if (!delegate.equals("armnn")) {
            throw fail(a.path + ".delegate", "must be armnn (the only accelerator delegate), got '" + delegate + "'");
        }
        String device = a.string("device");
        if (!ARMNN_DEVICES.contains(device)) {
            throw fail(a.path + ".device", "must be one of " + new java.util.TreeSet<>(ARMNN_DEVICES) + ", got '"
                    + device + "'");
        }
        Obj opsObj = a.object("ops");
        Map<Op, Set<DType>> ops = new EnumMap<>(Op.class);
        for (Iterator<String> it = opsObj.node.fieldNames(); it.hasNext();) {
            String opName = it.next();
            Op op = Op.byName(opName);
            if (op == null) {
                throw fail(a.path + ".ops." + opName, "is not an op Hedge knows (see docs/supported-ops.md)");
            }
            ops.put(op, dtypes(opsObj, opName));
        }
        if (ops.isEmpty()) {
            throw fail(a.path + ".ops", "must name at least one op");
        }
        int minNodes = (int) a.integer("minPartitionNodes", 1, 1 << 20);
        double dispatch = a.number("dispatchMicros", 0, true);
        double transfer = a.number("transferMBps", 0, false);
        double gmacs = a.number("gmacs", 0, false);
        boolean refuseSlower = a.bool("refuseSlower");
        return new Accelerator(name, delegate, device, ops, minNodes, dispatch, transfer, gmacs, refuseSlower);
    }

    private Set<DType> dtypes(Obj o, String field) {
        List<String> names = o.strings(field, false);
        if (names.isEmpty()) {
            throw fail(o.child(field), "must list at least one dtype");
        }
        Set<DType> s = EnumSet.noneOf(DType.class);
        for (int i = 0; i < names.size(); i++) {
            s.add(dtype(names.get(i), o.child(field) + "[" + i + "]"));
        }
        return s;
    }

    private DType dtype(String v, String path) {
        try {
            return DType.valueOf(v.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw fail(path, "is not a dtype (float32, float16, int8, uint8, int4, int32...), got '" + v + "'");
        }
    }

    private void checkBackend(String b, String path) {
        if (CPU_BACKENDS.contains(b)) {
            return;
        }
        if (b.startsWith("armnn:") && ARMNN_DEVICES.contains(b.substring(6))) {
            return;
        }
        throw fail(path, "must be native, openblas, java or armnn:<" + String.join("|",
                new java.util.TreeSet<>(ARMNN_DEVICES)) + ">, got '" + b + "'");
    }

    private ProfileException fail(String path, String what) {
        return new ProfileException("profile " + source + ": field '" + path + "' " + what);
    }

    /** A JSON object being read, with its path for messages. */
    private final class Obj {
        final JsonNode node;
        final String path;

        Obj(JsonNode node, String path) {
            if (node == null || !node.isObject()) {
                throw fail(path.isEmpty() ? "(root)" : path, "must be a JSON object, got "
                        + (node == null ? "nothing" : node.getNodeType().name().toLowerCase(Locale.ROOT)));
            }
            this.node = node;
            this.path = path;
        }

        String child(String f) {
            return path.isEmpty() ? f : path + "." + f;
        }

        void allow(String... fields) {
            Set<String> ok = Set.of(fields);
            for (Iterator<String> it = node.fieldNames(); it.hasNext();) {
                String f = it.next();
                if (!ok.contains(f)) {
                    throw fail(child(f), "is not a profile field (expected one of " + String.join(", ", fields) + ")");
                }
            }
        }

        JsonNode get(String f) {
            JsonNode v = node.get(f);
            if (v == null || v.isNull()) {
                throw fail(child(f), "is required");
            }
            return v;
        }

        String string(String f) {
            JsonNode v = get(f);
            if (!v.isTextual() || v.asText().isBlank()) {
                throw fail(child(f), "must be a non-empty string, got " + v);
            }
            return v.asText();
        }

        boolean bool(String f) {
            JsonNode v = get(f);
            if (!v.isBoolean()) {
                throw fail(child(f), "must be true or false, got " + v);
            }
            return v.asBoolean();
        }

        long integer(String f, long min, long max) {
            JsonNode v = get(f);
            if (!v.isIntegralNumber() || !v.canConvertToLong()) {
                throw fail(child(f), "must be an integer, got " + v);
            }
            long x = v.asLong();
            if (x < min || x > max) {
                throw fail(child(f), "must be in [" + min + ", " + max + "], got " + x);
            }
            return x;
        }

        double number(String f, double min, boolean minInclusive) {
            JsonNode v = get(f);
            if (!v.isNumber()) {
                throw fail(child(f), "must be a number, got " + v);
            }
            double x = v.asDouble();
            if (!Double.isFinite(x) || x < min || (!minInclusive && x == min)) {
                throw fail(child(f), "must be " + (minInclusive ? ">= " : "> ") + min + ", got " + x);
            }
            return x;
        }

        Obj object(String f) {
            return new Obj(get(f), child(f));
        }

        JsonNode array(String f) {
            JsonNode v = get(f);
            if (!v.isArray()) {
                throw fail(child(f), "must be an array, got " + v.getNodeType().name().toLowerCase(Locale.ROOT));
            }
            return v;
        }

        List<String> strings(String f, boolean mayBeEmpty) {
            JsonNode v = array(f);
            if (!mayBeEmpty && v.isEmpty()) {
                throw fail(child(f), "must not be empty");
            }
            List<String> l = new ArrayList<>();
            Map<String, Integer> seen = new LinkedHashMap<>();
            for (int i = 0; i < v.size(); i++) {
                JsonNode e = v.get(i);
                if (!e.isTextual() || e.asText().isBlank()) {
                    throw fail(child(f) + "[" + i + "]", "must be a non-empty string, got " + e);
                }
                Integer prev = seen.put(e.asText(), i);
                if (prev != null) {
                    throw fail(child(f) + "[" + i + "]", "repeats '" + e.asText() + "' (also at [" + prev + "])");
                }
                l.add(e.asText());
            }
            return List.copyOf(l);
        }
    }
}
