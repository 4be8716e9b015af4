package dev.hedge.server;

import dev.hedge.converter.Converter;
import dev.hedge.plan.Plan;
import dev.hedge.runtime.InvalidInputException;
import dev.hedge.runtime.Model;
import dev.hedge.runtime.ModelFormatException;
import dev.hedge.runtime.RuntimeOptions;
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

    ModelLoader(Path snapshotDir, RuntimeOptions runtime) {
        this.snapshotDir = snapshotDir;
        this.runtime = runtime;
    }

    static boolean isModelFile(Path p) {
        String n = p.getFileName().toString().toLowerCase(Locale.ROOT);
        return n.endsWith(".hedge") || n.endsWith(".onnx");
    }

    LoadedModel load(String name, int version, Path file) throws IOException {
        long t0 = System.nanoTime();
        boolean onnx = file.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".onnx");
        Model model;
        List<Converter.PassReport> passes = null;
        long fileBytes = Files.size(file);
        if (onnx) {
            Converter.Result r = convertForHost(file);
            model = Model.of(r.model(), runtime);
            passes = r.passes();
        } else {
            model = loadSnapshot(name, version, file);
        }
        long arena = warmUp(model);
        return new LoadedModel(name, version, file, onnx ? "onnx" : "hedge", model, fileBytes, arena,
                System.nanoTime() - t0, passes);
    }

    /**
     * The on-device compression path: an ONNX file becomes a model for this host. For now this is the
     * converter with its default passes; the compression pipeline and the host's device profile plug in here.
     */
    static Converter.Result convertForHost(Path onnx) throws IOException {
        return Converter.convert(onnx, Converter.Options.defaults());
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
            // The mapping outlives the name on POSIX systems; elsewhere the file goes at exit.
            try {
                Files.deleteIfExists(copy);
            } catch (IOException e) {
                copy.toFile().deleteOnExit();
            }
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
