package dev.hedge.server;

import dev.hedge.converter.CompressionOptions;
import dev.hedge.converter.Compressor;
import dev.hedge.converter.Converter;
import dev.hedge.converter.quantize.LayerPrecision;
import dev.hedge.format.HedgeWriter;
import dev.hedge.ir.ModelDef;
import dev.hedge.profiles.DeviceProfile;
import dev.hedge.profiles.host.ProfileSelector;
import dev.hedge.profiles.fit.TargetCheck;
import dev.hedge.profiles.fit.TargetCompression;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.InvalidInputException;
import dev.hedge.runtime.UnsupportedModelException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The on-device compression path: an ONNX file becomes a .hedge file for the server's device profile. What is
 * done comes from a {@code convert.json} next to the model (the options of {@code hedge convert}), else from
 * the server's {@code --compress} default, narrowed by the profile ({@link TargetCompression}: full-integer
 * targets force static int8, per-tensor targets per-tensor scales). The result is checked against the profile
 * ({@link TargetCheck}: accepted weight dtypes and scales, the memory budget) before it may serve.
 *
 * <p>Converted files are kept in the cache directory (when there is one) under a key made of the ONNX file's
 * bytes, the options file's bytes, the data files' names, sizes and times, the profile's conversion-relevant
 * fields and the Hedge version, with a sidecar holding what the conversion did; both are written to a hidden
 * temporary file and renamed into place, so a restart (or another server sharing the directory) finds either
 * the whole entry or nothing.
 */
final class OnnxConversion {

    private static final Logger LOG = LoggerFactory.getLogger(OnnxConversion.class);
    /** Cache entries kept; the least recently used beyond this are deleted. */
    static final int CACHE_ENTRIES = 32;

    /** A converted model file and what the conversion did ({@code info}: shown in the model metadata). */
    record Outcome(Path file, boolean temporary, JsonObject info) {
    }

    private final ConversionPolicy policy;
    private final Path workDir;
    private final String hedgeVersion;

    OnnxConversion(ConversionPolicy policy, Path workDir, String hedgeVersion) {
        this.policy = policy;
        this.workDir = workDir;
        this.hedgeVersion = hedgeVersion;
    }

    /** {@code <stem>.convert.json} next to the file, or {@code convert.json} next to a {@code model.onnx}. */
    static Path optionsFile(Path onnx) {
        Path own = onnx.resolveSibling(stem(onnx) + ".convert.json");
        if (Files.isRegularFile(own)) {
            return own;
        }
        Path shared = onnx.resolveSibling("convert.json");
        return stem(onnx).equals("model") && Files.isRegularFile(shared) ? shared : null;
    }

    /**
     * Calibration data next to the model: a {@code calib/} directory beside a {@code model.onnx}, a
     * {@code <stem>.calib/} directory beside other files (one sample per file, or per subdirectory, as
     * {@code hedge convert --calib DIR} reads it); null if none. Only a directory counts: a stray
     * {@code calib.npy} beside a model (as in this repository's examples) must not change what is served.
     */
    static Path foundCalibration(Path onnx) {
        Path p = onnx.resolveSibling(stem(onnx).equals("model") ? "calib" : stem(onnx) + ".calib");
        return Files.isDirectory(p) ? p : null;
    }

    /**
     * What besides the ONNX file decides its conversion, for change detection: the options file and the
     * calibration data found next to it (names, sizes, modification times, one directory level).
     */
    static List<Object> companions(Path onnx) {
        List<Object> out = new ArrayList<>();
        Path opts = optionsFile(onnx);
        if (opts != null) {
            out.add(signature(opts));
        }
        Path calib = foundCalibration(onnx);
        if (calib != null) {
            out.add(signature(calib));
            if (Files.isDirectory(calib)) {
                try (Stream<Path> s = Files.list(calib)) {
                    s.sorted().forEach(p -> out.add(signature(p)));
                } catch (IOException e) {
                    out.add(e.toString());
                }
            }
        }
        return out;
    }

    private static String signature(Path p) {
        try {
            BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class);
            return p.getFileName() + ":" + a.size() + ":" + a.lastModifiedTime().to(TimeUnit.NANOSECONDS);
        } catch (IOException e) {
            return p.getFileName() + ":gone";
        }
    }

    private static String stem(Path p) {
        String n = p.getFileName().toString();
        int dot = n.lastIndexOf('.');
        return dot > 0 ? n.substring(0, dot) : n;
    }

    /** Converts (or finds in the cache) the model for {@code onnx}; throws with the reason if it may not serve. */
    Outcome convert(Path onnx) throws IOException {
        long t0 = System.nanoTime();
        Path optionsFile = optionsFile(onnx);
        Path calib = foundCalibration(onnx);
        ConvertConfig cfg;
        String chosenBy;
        List<String> notes = new ArrayList<>();
        DeviceProfile profile = policy.profile();
        if (optionsFile != null) {
            cfg = ConvertConfig.read(optionsFile);
            chosenBy = optionsFile.getFileName().toString();
            if (!cfg.hasCalibration() && calib != null) {
                cfg.useFoundCalibration(calib);
            }
        } else {
            String mode = defaultMode(calib, notes);
            cfg = ConvertConfig.of(mode, onnx.toAbsolutePath().getParent());
            if (calib != null) {
                cfg.useFoundCalibration(calib);
            }
            chosenBy = "--compress " + policy.compress();
        }
        if (profile != null) {
            TargetCompression target = TargetCompression.of(profile);
            TargetCompression.Settings s;
            try {
                s = target.resolve(cfg.quantize(), cfg.perTensor());
            } catch (InvalidInputException e) {
                throw new InvalidInputException((optionsFile != null ? optionsFile + ": " : "") + e.getMessage());
            }
            if (s.precision() != null && !s.precision().equals(cfg.quantize())) {
                notes.add("profile " + profile.name() + " runs full-integer models only: static " + s.precision());
            }
            cfg.applyTarget(s);
        }
        if (cfg.quantize() != null && LayerPrecision.parse(cfg.quantize(), 4).kind() == LayerPrecision.Kind.INT8
                && !cfg.hasCalibration()) {
            throw new InvalidInputException("static int8" + (profile != null && profile.precision().fullInteger()
                    ? " (profile " + profile.name() + " runs full-integer models only)" : "") + " needs calibration "
                    + "data: put it next to the model (" + calibName(onnx) + "), or name it in "
                    + (optionsFile != null ? optionsFile : onnx.resolveSibling(stem(onnx).equals("model")
                    ? "convert.json" : stem(onnx) + ".convert.json")) + " (\"calib\": \"PATH\")");
        }
        String key = cacheKey(onnx, optionsFile, cfg, chosenBy);
        Path cacheDir = policy.cacheDir();
        String cacheState = "off";
        if (cacheDir != null) {
            Path hit = cacheDir.resolve(key + ".hedge");
            JsonObject info = readSidecar(cacheDir.resolve(key + ".json"));
            if (info != null && Files.isRegularFile(hit)) {
                touch(hit);
                return new Outcome(hit, false, info.put("cache", "hit").put("convert_ms",
                        (System.nanoTime() - t0) / 1e6));
            }
            try {
                Files.createDirectories(cacheDir);
            } catch (IOException e) {
                // the cache saves time; without it the model still loads
                cacheState = "off (" + cacheDir + " cannot be created: " + e + ")";
                LOG.warn("conversion cache {} unusable, converting without it: {}", cacheDir, e.toString());
                cacheDir = null;
            }
        }
        Path dir = cacheDir != null ? cacheDir : Files.createDirectories(workDir);
        Path tmp = Files.createTempFile(dir, ".convert-", ".hedge");
        JsonObject info;
        try {
            info = run(onnx, cfg, tmp, notes).put("compression_chosen_by", chosenBy)
                    .put("options_file", optionsFile == null ? null : optionsFile.toString());
        } catch (IOException | RuntimeException | Error e) {
            Files.deleteIfExists(tmp);
            throw e;
        }
        if (cacheDir != null) {
            Path target = cacheDir.resolve(key + ".hedge");
            try {
                Path side = Files.createTempFile(dir, ".convert-", ".json");
                try {
                    Files.writeString(side, info.encode(), StandardCharsets.UTF_8);
                    move(side, cacheDir.resolve(key + ".json"));
                } finally {
                    Files.deleteIfExists(side);
                }
                move(tmp, target);
                evict(cacheDir);
                return new Outcome(target, false, info.put("cache", "miss").put("convert_ms",
                        (System.nanoTime() - t0) / 1e6));
            } catch (IOException e) {
                cacheState = "off (writing to " + cacheDir + " failed: " + e + ")";
                LOG.warn("could not keep the converted {} in the cache {}: {}", onnx, cacheDir, e.toString());
            }
        }
        return new Outcome(tmp, true, info.put("cache", cacheState).put("convert_ms",
                (System.nanoTime() - t0) / 1e6));
    }

    /** Drops a cache entry that turned out unreadable, so the next load converts again. */
    static void forget(Path cachedHedge) {
        try {
            Files.deleteIfExists(cachedHedge);
            Files.deleteIfExists(cachedHedge.resolveSibling(stem(cachedHedge) + ".json"));
        } catch (IOException e) {
            LOG.warn("could not delete the bad cache entry {}: {}", cachedHedge, e.toString());
        }
    }

    private static String calibName(Path onnx) {
        return stem(onnx).equals("model") ? "a calib/ directory" : "a " + stem(onnx) + ".calib/ directory";
    }

    /** The precision for a model without options: the --compress default, where the profile accepts it. */
    private String defaultMode(Path calib, List<String> notes) {
        String c = policy.compress();
        DeviceProfile p = policy.profile();
        if (c.equals(ConversionPolicy.NONE) || p != null && p.precision().fullInteger()) {
            return null; // a full-integer profile decides itself (static int8), see convert
        }
        if (c.equals(ConversionPolicy.AUTO)) {
            if (calib == null) {
                notes.add("--compress auto: no convert.json and no calibration data, so not compressed (the "
                        + "accuracy of a lossy default could not be measured)");
                return null;
            }
            if (p != null && !accepts(p, LayerPrecision.INT8)) {
                notes.add("--compress auto: profile " + p.name() + " does not take int8 weights and uint8 "
                        + "activations, so not compressed");
                return null;
            }
            notes.add("--compress auto: static int8, calibrated and evaluated on " + calib.getFileName());
            return "int8";
        }
        LayerPrecision want = LayerPrecision.parse(c, 4);
        if (p != null && !accepts(p, want)) {
            notes.add("--compress " + c + ": profile " + p.name() + " does not take " + c + " weights, so not "
                    + "compressed");
            return null;
        }
        return c;
    }

    /** Whether the profile takes layers of this precision (weights, and uint8 activations for integer compute). */
    private static boolean accepts(DeviceProfile p, LayerPrecision l) {
        DeviceProfile.Precision q = p.precision();
        switch (l.kind()) {
            case INT8: case INT8_DYNAMIC:
                return q.weights().contains(DType.INT8) && q.activations().contains(DType.UINT8);
            case INT8_WEIGHT: return q.weights().contains(DType.INT8);
            case INT4: return q.weights().contains(DType.INT4);
            case FP16: return q.weights().contains(DType.FLOAT16);
            case CODEBOOK: return q.weights().contains(DType.FLOAT32);
            default: return true;
        }
    }

    /** Converts, compresses if asked, checks against the profile; the file is written at {@code out}. */
    private JsonObject run(Path onnx, ConvertConfig cfg, Path out, List<String> notes) throws IOException {
        Converter.Options copts = cfg.convertOptions();
        Converter.Result r = Converter.convert(onnx, copts);
        ModelDef model = r.model();
        DeviceProfile profile = policy.profile();
        if (profile != null) {
            model = model.withMetadata("target.profile", profile.name());
        }
        String precision;
        if (cfg.compresses()) {
            CompressionOptions options = cfg.compression(model.graph().inputs(),
                    profile == null || ProfileSelector.isHost(profile));
            Compressor.Result c = Compressor.compress(model, options, out);
            model = c.model();
            precision = options.quant().precision().label();
        } else {
            HedgeWriter.write(model, out);
            precision = "fp32";
        }
        JsonObject info = new JsonObject().put("profile", profile == null ? null : profile.name())
                .put("profile_source", policy.profileNote()).put("precision", precision)
                .put("per_tensor", cfg.perTensor()).put("notes", new JsonArray(new ArrayList<>(notes)));
        if (profile != null) {
            TargetCheck.Report check = TargetCheck.check(model, profile, copts.inputShapes(), true);
            if (!check.ok()) {
                int more = check.violations().size() - 1;
                throw new UnsupportedModelException("the converted model does not fit profile " + profile.name()
                        + ": " + check.violations().get(0) + (more == 0 ? "" : " (and " + more + " more: "
                        + String.join("; ", check.violations().subList(1, check.violations().size())) + ")"));
            }
            info.put("target_check", new JsonObject().put("weights_bytes", check.weightsBytes())
                    .put("weights_budget", check.weightsBudget()).put("arena_bytes", check.arenaBytes())
                    .put("arena_budget", check.arenaBudget()).put("text", check.text()));
        }
        JsonArray passes = new JsonArray();
        for (Converter.PassReport p : r.passes()) {
            passes.add(new JsonObject().put("pass", p.pass()).put("nodes_before", p.nodesBefore())
                    .put("nodes_after", p.nodesAfter()).put("note", p.note()));
        }
        return info.put("passes", passes);
    }

    private String cacheKey(Path onnx, Path optionsFile, ConvertConfig cfg, String chosenBy) throws IOException {
        MessageDigest md;
        try {
            md = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        StringBuilder b = new StringBuilder("hedge serve conversion 1\n").append(hedgeVersion).append('\n');
        b.append(digest(onnx)).append('\n');
        b.append(optionsFile == null ? "-" : digest(optionsFile)).append('\n');
        b.append(chosenBy).append('|').append(cfg.quantize()).append('|').append(cfg.perTensor()).append('\n');
        DeviceProfile p = policy.profile();
        if (p != null) {
            DeviceProfile.Precision q = p.precision();
            b.append(p.name()).append('|').append(p.memory().weightsBytes()).append('|')
                    .append(p.memory().arenaBytes()).append('|').append(new TreeSet<>(q.activations())).append('|')
                    .append(new TreeSet<>(q.weights())).append('|').append(q.fullInteger()).append('|')
                    .append(q.weightGranularity()).append('|').append(q.weightSymmetric()).append('\n');
        }
        for (Path d : cfg.dataPaths()) {
            List<Path> files = new ArrayList<>();
            if (Files.isDirectory(d)) {
                try (Stream<Path> s = Files.walk(d)) {
                    s.filter(Files::isRegularFile).sorted().forEach(files::add);
                }
            } else {
                files.add(d);
            }
            for (Path f : files) {
                b.append(f.toAbsolutePath()).append(':').append(signature(f)).append('\n');
            }
        }
        return HexFormat.of().formatHex(md.digest(b.toString().getBytes(StandardCharsets.UTF_8)));
    }

    private static String digest(Path f) throws IOException {
        MessageDigest md;
        try {
            md = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        try (InputStream in = new DigestInputStream(Files.newInputStream(f), md)) {
            in.transferTo(java.io.OutputStream.nullOutputStream());
        }
        return HexFormat.of().formatHex(md.digest());
    }

    private static JsonObject readSidecar(Path p) {
        if (!Files.isRegularFile(p)) {
            return null;
        }
        try {
            return new JsonObject(Files.readString(p, StandardCharsets.UTF_8));
        } catch (IOException | RuntimeException e) {
            LOG.warn("ignoring unreadable cache entry {}: {}", p, e.toString());
            return null;
        }
    }

    private static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    private static void touch(Path p) {
        try {
            Files.setLastModifiedTime(p, FileTime.fromMillis(System.currentTimeMillis()));
        } catch (IOException e) {
            LOG.debug("could not touch {}: {}", p, e.toString());
        }
    }

    /**
     * Keeps the {@value #CACHE_ENTRIES} most recently used entries. Deleting a file a model still maps is
     * safe: the mapping outlives the name.
     */
    private static void evict(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            List<Path> entries = s.filter(p -> p.getFileName().toString().endsWith(".hedge")
                    && !p.getFileName().toString().startsWith(".")).sorted(Comparator.comparing((Path p) -> {
                        try {
                            return Files.getLastModifiedTime(p);
                        } catch (IOException e) {
                            return FileTime.fromMillis(0);
                        }
                    }).reversed()).toList();
            for (Path old : entries.subList(Math.min(CACHE_ENTRIES, entries.size()), entries.size())) {
                forget(old);
            }
        } catch (IOException e) {
            LOG.warn("cache clean-up in {} failed: {}", dir, e.toString());
        }
    }

    static String describePolicy(ConversionPolicy p) {
        return String.format(Locale.ROOT, "ONNX converted for %s, --compress %s, cache %s", p.profileNote(),
                p.compress(), p.cacheDir() == null ? "off" : p.cacheDir().toString());
    }
}
