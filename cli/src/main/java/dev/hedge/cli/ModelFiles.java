package dev.hedge.cli;

import dev.hedge.converter.Converter;
import dev.hedge.converter.onnx.TensorProtos;
import dev.hedge.io.Npy;
import dev.hedge.ir.ValueInfo;
import dev.hedge.plan.Plan;
import dev.hedge.runtime.InvalidInputException;
import dev.hedge.runtime.Model;
import dev.hedge.runtime.RuntimeOptions;
import dev.hedge.runtime.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine;

/** What the commands share: opening models (.hedge or .onnx), reading tensors, shapes, names, sizes. */
final class ModelFiles {

    private ModelFiles() {
    }

    static boolean isOnnx(Path p) {
        return p.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".onnx");
    }

    static void requireFile(Path p, String what) throws NoSuchFileException {
        if (!Files.exists(p)) {
            throw new NoSuchFileException(p.toString());
        }
        if (Files.isDirectory(p)) {
            throw new InvalidInputException(p + " is a directory, not " + what);
        }
    }

    /** A model ready to run; {@code conversion} is set when it was converted from ONNX in memory. */
    record Opened(Model model, Converter.Result conversion, long nanos) {
    }

    /**
     * Loads a .hedge file, or converts an .onnx file in memory (the converter checks the shapes' names), to
     * run with {@code runtime}.
     */
    static Opened open(Path path, Map<String, int[]> shapes, boolean optimize, RuntimeOptions runtime)
            throws IOException {
        requireFile(path, "a model file");
        long t0 = System.nanoTime();
        Opened o;
        if (isOnnx(path)) {
            Converter.Result r = Converter.convert(path, new Converter.Options(optimize, shapes));
            o = new Opened(Model.of(r.model(), runtime), r, System.nanoTime() - t0);
        } else {
            o = new Opened(Model.load(path, runtime), null, System.nanoTime() - t0);
            checkShapeNames(shapes, o.model().inputs());
        }
        return o;
    }

    /** Every name given to --input-shape must be an input: a typo must not be silently ignored. */
    private static void checkShapeNames(Map<String, int[]> shapes, List<ValueInfo> inputs) {
        for (String name : shapes.keySet()) {
            if (inputs.stream().noneMatch(v -> v.name().equals(name))) {
                throw new InvalidInputException("--input-shape names '" + name + "', which is not an input; the "
                        + "model's inputs are " + inputs.stream().map(ValueInfo::name).toList());
            }
        }
    }

    /** Parses {@code --input-shape name=1,3,224,224} values. */
    static Map<String, int[]> parseShapes(CommandLine cmd, Map<String, String> specs) {
        Map<String, int[]> out = new LinkedHashMap<>();
        if (specs == null) {
            return out;
        }
        for (Map.Entry<String, String> e : specs.entrySet()) {
            String v = e.getValue().strip();
            String[] parts = v.isEmpty() ? new String[0] : v.split(",", -1);
            int[] dims = new int[parts.length];
            for (int i = 0; i < parts.length; i++) {
                try {
                    dims[i] = Integer.parseInt(parts[i].strip());
                } catch (NumberFormatException ex) {
                    dims[i] = -1;
                }
                if (dims[i] < 0) {
                    throw new CommandLine.ParameterException(cmd, "--input-shape " + e.getKey() + "=" + v
                            + ": dimension " + i + " ('" + parts[i] + "') is not a non-negative integer");
                }
            }
            out.put(e.getKey(), dims);
        }
        return out;
    }

    /** Reads an input tensor from a .npy file or an ONNX TensorProto (.pb) file. */
    static Tensor readTensor(Path file) throws IOException {
        requireFile(file, "a tensor file");
        String n = file.getFileName().toString().toLowerCase(Locale.ROOT);
        if (n.endsWith(".npy")) {
            return Npy.read(file);
        }
        if (n.endsWith(".pb")) {
            return TensorProtos.read(file);
        }
        throw new InvalidInputException(file + ": unknown tensor file type; expected .npy (NumPy) or .pb "
                + "(ONNX TensorProto)");
    }

    /** A file name for a tensor name: characters outside {@code [A-Za-z0-9._-]} become {@code _}. */
    static String safeFileName(String tensorName) {
        return tensorName.replaceAll("[^A-Za-z0-9._-]", "_");
    }

    static String bytes(long n) {
        if (n < 1024) {
            return String.format(Locale.ROOT, "%,d bytes", n);
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        double v = n;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(Locale.ROOT, "%,d bytes (%.1f %s)", n, v, units[u]);
    }

    /** Steps per backend, most first, e.g. "openblas 3, java 5" (deferred steps count as "deferred"). */
    static String stepsByBackend(Plan plan) {
        Map<String, Integer> n = new LinkedHashMap<>();
        for (Plan.StepInfo s : plan.describe()) {
            n.merge(s.backend(), 1, Integer::sum);
        }
        List<Map.Entry<String, Integer>> l = new java.util.ArrayList<>(n.entrySet());
        l.sort((a, b) -> b.getValue() - a.getValue());
        StringBuilder sb = new StringBuilder();
        for (Map.Entry<String, Integer> e : l) {
            sb.append(sb.length() == 0 ? "" : ", ").append(e.getKey()).append(' ').append(e.getValue());
        }
        return sb.length() == 0 ? "none (every output is a constant)" : sb.toString();
    }

    static String millis(long nanos) {
        double ms = nanos / 1e6;
        return String.format(Locale.ROOT, ms < 10 ? "%.2f ms" : "%.0f ms", ms);
    }
}
