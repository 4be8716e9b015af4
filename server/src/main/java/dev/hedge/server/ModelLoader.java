package dev.hedge.server;

import dev.hedge.plan.Plan;
import dev.hedge.runtime.InvalidInputException;
import dev.hedge.runtime.Model;
import dev.hedge.runtime.ModelFormatException;
import dev.hedge.runtime.RuntimeOptions;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Locale;

/** Turns a model file into a ready {@link LoadedModel}: reads or converts it, then plans it once. */
final class ModelLoader {

    private final Path snapshotDir;
    private final RuntimeOptions runtime;
    private final OnnxConversion conversion;

    ModelLoader(Path snapshotDir, RuntimeOptions runtime, ConversionPolicy policy, String hedgeVersion) {
        this.snapshotDir = snapshotDir;
        this.runtime = runtime;
        this.conversion = new OnnxConversion(policy, snapshotDir, hedgeVersion);
    }

    static boolean isModelFile(Path p) {
        String n = p.getFileName().toString().toLowerCase(Locale.ROOT);
        return n.endsWith(".hedge") || n.endsWith(".onnx");
    }

    static boolean isOnnx(Path p) {
        return p.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".onnx");
    }

    /** Reads (.hedge) or converts (.onnx) the file, then plans it; the time includes the conversion. */
    LoadedModel load(String name, int version, Path file) throws IOException {
        long t0 = System.nanoTime();
        boolean onnx = isOnnx(file);
        Model model;
        JsonObject conversionInfo = null;
        long fileBytes = Files.size(file);
        if (onnx) {
            OnnxConversion.Outcome c = conversion.convert(file);
            try {
                model = Model.load(c.file(), runtime);
            } catch (ModelFormatException | IOException e) {
                if (!"hit".equals(c.info().getString("cache"))) {
                    throw e;
                }
                OnnxConversion.forget(c.file());
                c = conversion.convert(file);
                model = Model.load(c.file(), runtime);
            } finally {
                if (c.temporary()) {
                    // The mapping outlives the name on POSIX systems; elsewhere the file goes at exit.
                    deleteQuietly(c.file());
                }
            }
            conversionInfo = c.info();
        } else {
            model = loadSnapshot(name, version, file);
        }
        long arena = warmUp(model);
        return new LoadedModel(name, version, file, onnx ? "onnx" : "hedge", model, fileBytes, arena,
                System.nanoTime() - t0, conversionInfo);
    }

    /**
     * Maps a private copy: the served file may be rewritten in place while requests still read the old
     * version's memory-mapped weights, and a truncated mapping would fault.
     */
    private Model loadSnapshot(String name, int version, Path file) throws IOException {
        Files.createDirectories(snapshotDir);
        Path copy = Files.createTempFile(snapshotDir, name + "-" + version + "-", ".hedge");
        try {
            Files.copy(file, copy, StandardCopyOption.REPLACE_EXISTING);
            return Model.load(copy, runtime);
        } catch (ModelFormatException e) {
            // Name the served file, not the private copy.
            throw new ModelFormatException(e.getMessage().replace(copy.toString(), file.toString()), e);
        } finally {
            deleteQuietly(copy);
        }
    }

    /** The mapping outlives the name on POSIX systems; elsewhere the file goes at exit. */
    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException e) {
            p.toFile().deleteOnExit();
        }
    }

    /** Plans the default shapes so that a model the runtime cannot run fails here, not on its first request. */
    private static long warmUp(Model model) {
        List<int[]> shapes;
        try {
            shapes = model.defaultInputShapes(java.util.Map.of());
        } catch (InvalidInputException unknownRank) {
            return -1;
        }
        Plan p = model.plan(shapes);
        return p.totalArenaBytes();
    }
}
