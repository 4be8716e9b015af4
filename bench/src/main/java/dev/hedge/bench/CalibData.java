package dev.hedge.bench;

import dev.hedge.converter.Converter;
import dev.hedge.io.Npy;
import dev.hedge.ir.Graph;
import dev.hedge.ir.ValueInfo;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Generated calibration data for the benchmark's int8 conversions, which time speed, not accuracy: for every
 * input of an ONNX model, {@code n} random samples (uniform in [-1, 1) as {@link Inputs} makes them) in one
 * .npy file [n * B, ...] (B = the sample's first dimension, which the converter reads as the input's batch).
 * An input given a constant value ({@code NAME=VALUE}, e.g. a sample rate) becomes {@code --calib-const}.
 *
 * <p>{@code java dev.hedge.bench.CalibData MODEL.onnx OUT_DIR N [--input-shape NAME=DIMS]... [--input-fill
 * NAME=VALUE]...} prints the {@code hedge convert} options that use the files, on one line.
 */
public final class CalibData {

    private CalibData() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length < 3) {
            System.err.println("usage: CalibData MODEL.onnx OUT_DIR N [--input-shape NAME=DIMS]... "
                    + "[--input-fill NAME=VALUE]...");
            System.exit(2);
        }
        Path model = Path.of(args[0]);
        Path dir = Path.of(args[1]);
        int n = Integer.parseInt(args[2]);
        Map<String, int[]> shapes = new LinkedHashMap<>();
        Map<String, String> fills = new LinkedHashMap<>();
        for (int i = 3; i < args.length; i++) {
            String a = args[i];
            if ((a.equals("--input-shape") || a.equals("--input-fill")) && i + 1 < args.length) {
                String v = args[++i];
                int eq = v.indexOf('=');
                if (eq <= 0) {
                    throw new IllegalArgumentException(a + " " + v + ": expected NAME=VALUE");
                }
                String name = v.substring(0, eq);
                if (a.equals("--input-shape")) {
                    shapes.put(name, Inputs.parseShape(name, v.substring(eq + 1)));
                } else {
                    fills.put(name, v.substring(eq + 1));
                }
            } else {
                throw new IllegalArgumentException("unknown option " + a);
            }
        }
        Graph g = Converter.convert(model, new Converter.Options(true, shapes)).model().graph();
        Files.createDirectories(dir);
        Random r = new Random(7);
        List<String> opts = new ArrayList<>();
        for (ValueInfo v : g.inputs()) {
            if (fills.containsKey(v.name())) {
                opts.add("--calib-const " + v.name() + "=" + fills.get(v.name()));
                continue;
            }
            int[] s = shapes.get(v.name());
            if (s == null) {
                if (v.dims() == null) {
                    throw new IllegalArgumentException("input '" + v.name() + "' has unknown rank: give --input-shape");
                }
                s = v.dims().stream().mapToInt(d -> d.isFixed() ? (int) d.value() : 1).toArray();
            }
            DType dt = v.dtype() == null ? DType.FLOAT32 : v.dtype();
            if (!dt.isFloat() || s.length == 0) {
                throw new IllegalArgumentException("input '" + v.name() + "' (" + dt + ", rank " + s.length
                        + "): give it a constant with --input-fill");
            }
            int[] all = s.clone();
            all[0] = Math.multiplyExact(s[0], n);
            Tensor t = Tensor.allocate(dt, all);
            for (int i = 0; i < t.elementCount(); i++) {
                t.setDouble(i, r.nextFloat() * 2 - 1);
            }
            Path f = dir.resolve(v.name().replaceAll("[^A-Za-z0-9_.-]", "_") + ".npy");
            Npy.write(t, f);
            opts.add("--calib " + v.name() + "=" + f);
        }
        System.out.println(String.join(" ", opts));
    }
}
