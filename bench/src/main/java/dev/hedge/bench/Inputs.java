package dev.hedge.bench;

import dev.hedge.converter.onnx.TensorProtos;
import dev.hedge.io.Npy;
import dev.hedge.ir.ValueInfo;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.InvalidInputException;
import dev.hedge.runtime.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/** The tensors a benchmark feeds: read from files, filled with a value, or random with given shapes. */
final class Inputs {

    private Inputs() {
    }

    /**
     * One tensor per model input: from {@code files} (.npy, or .pb ONNX TensorProto), else every element
     * {@code fills.get(name)}, else random (uniform in [-1, 1) for floats, 0..9 for integers, seeded) with
     * the shape from {@code shapes} or the declared one (dynamic dimensions 1).
     */
    static Map<String, Tensor> make(List<ValueInfo> inputs, Map<String, Path> files, Map<String, int[]> shapes,
            Map<String, Double> fills, long seed) throws IOException {
        for (String n : union(files.keySet(), shapes.keySet(), fills.keySet())) {
            if (inputs.stream().noneMatch(v -> v.name().equals(n))) {
                throw new InvalidInputException("'" + n + "' is not an input; the model's inputs are "
                        + inputs.stream().map(ValueInfo::name).toList());
            }
        }
        Random r = new Random(seed);
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (ValueInfo v : inputs) {
            Path f = files.get(v.name());
            if (f != null) {
                out.put(v.name(), read(f));
                continue;
            }
            int[] shape = shapes.get(v.name());
            if (shape == null) {
                if (v.dims() == null) {
                    throw new InvalidInputException("input '" + v.name() + "' has unknown rank: give --input-shape "
                            + v.name() + "=DIMS or --input " + v.name() + "=FILE");
                }
                shape = v.dims().stream().mapToInt(d -> d.isFixed() ? (int) d.value() : 1).toArray();
            }
            DType dt = v.dtype() == null ? DType.FLOAT32 : v.dtype();
            Tensor t = Tensor.allocate(dt, shape);
            Double fill = fills.get(v.name());
            for (int i = 0; i < t.elementCount(); i++) {
                if (fill != null) {
                    t.setDouble(i, fill);
                } else if (dt.isFloat()) {
                    t.setDouble(i, r.nextFloat() * 2 - 1);
                } else if (dt == DType.BOOL) {
                    t.setLong(i, r.nextInt(2));
                } else {
                    t.setLong(i, r.nextInt(10));
                }
            }
            out.put(v.name(), t);
        }
        return out;
    }

    @SafeVarargs
    private static java.util.Set<String> union(java.util.Set<String>... sets) {
        java.util.Set<String> s = new java.util.LinkedHashSet<>();
        for (java.util.Set<String> x : sets) {
            s.addAll(x);
        }
        return s;
    }

    static Tensor read(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new NoSuchFileException(file.toString());
        }
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

    /** {@code 1,3,224,224} (the form {@code --input-shape} takes). */
    static int[] parseShape(String name, String spec) {
        String v = spec.strip();
        String[] parts = v.isEmpty() ? new String[0] : v.split(",", -1);
        int[] dims = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                dims[i] = Integer.parseInt(parts[i].strip());
            } catch (NumberFormatException e) {
                dims[i] = -1;
            }
            if (dims[i] < 0) {
                throw new InvalidInputException("--input-shape " + name + "=" + spec + ": dimension " + i + " ('"
                        + parts[i] + "') is not a non-negative integer");
            }
        }
        return dims;
    }
}
