package dev.hedge.converter.data;

import dev.hedge.converter.onnx.TensorProtos;
import dev.hedge.io.Npy;
import dev.hedge.ir.Dim;
import dev.hedge.ir.ValueInfo;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.InvalidInputException;
import dev.hedge.runtime.Tensor;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import javax.imageio.ImageIO;

/**
 * Builds a {@link Dataset} for a model from a {@link DataSpec}:
 * <ul>
 *   <li>a {@code .npy} file {@code [N, ...]}: one sample per row (or per {@code B} rows when the input has a
 *       fixed batch {@code B}); when the input's rank is one less than the file's, rows are taken without a
 *       batch dimension;
 *   <li>a {@code .pb} file (ONNX TensorProto) or an image (PNG, JPEG, BMP, GIF): one sample;
 *   <li>a directory: its files in name order, each one sample; or its subdirectories in name order, each one
 *       sample holding one file per input, named after the input ({@code input.npy}, {@code sr.pb}) or by
 *       position as in the ONNX test data ({@code input_0.pb});
 *   <li>constants ({@code sr=16000}) for inputs that take the same value in every sample, and carried state.
 * </ul>
 * Samples are then shuffled (when a seed is given) and cut to the limit; labels follow their samples. Every
 * problem names the file and input.
 */
public final class DataLoader {

    private static final List<String> IMAGE_EXTENSIONS = List.of(".png", ".jpg", ".jpeg", ".bmp", ".gif");

    private DataLoader() {
    }

    public static Dataset load(DataSpec spec, List<ValueInfo> inputs) throws IOException {
        Map<String, ValueInfo> byName = new LinkedHashMap<>();
        for (ValueInfo v : inputs) {
            byName.put(v.name(), v);
        }
        for (String c : spec.carry().keySet()) {
            if (!byName.containsKey(c)) {
                throw new InvalidInputException("carried input '" + c + "' is not an input of the model; its "
                        + "inputs are " + byName.keySet());
            }
        }
        Map<String, Tensor> constants = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : spec.constants().entrySet()) {
            ValueInfo v = byName.get(e.getKey());
            if (v == null) {
                throw new InvalidInputException("constant for '" + e.getKey() + "': not an input of the model; its "
                        + "inputs are " + byName.keySet());
            }
            constants.put(e.getKey(), constant(v, e.getValue()));
        }
        // per input: its samples
        Map<String, List<Tensor>> columns = new LinkedHashMap<>();
        List<Map<String, Tensor>> wholeSamples = null;
        for (String raw : spec.sources()) {
            int eq = raw.indexOf('=');
            String input = eq > 0 && byName.containsKey(raw.substring(0, eq)) ? raw.substring(0, eq) : null;
            Path path = Path.of(input == null ? raw : raw.substring(eq + 1));
            if (!Files.exists(path)) {
                throw new InvalidInputException("data " + path + " does not exist");
            }
            if (input == null && Files.isDirectory(path) && hasSubdirectories(path)) {
                if (wholeSamples != null) {
                    throw new InvalidInputException("only one directory of per-sample subdirectories can be given");
                }
                wholeSamples = sampleDirectories(path, inputs);
                continue;
            }
            if (input == null) {
                List<ValueInfo> free = new ArrayList<>();
                for (ValueInfo v : inputs) {
                    if (!constants.containsKey(v.name()) && !spec.carry().containsKey(v.name())
                            && !columns.containsKey(v.name())) {
                        free.add(v);
                    }
                }
                if (free.size() != 1) {
                    throw new InvalidInputException("data " + path + " does not say which input it is for; the "
                            + "model has inputs " + byName.keySet() + ": give INPUT=" + path);
                }
                input = free.get(0).name();
            }
            if (columns.containsKey(input)) {
                throw new InvalidInputException("input '" + input + "' is given data twice");
            }
            columns.put(input, readSource(path, byName.get(input), spec.image()));
        }
        List<Map<String, Tensor>> samples = assemble(columns, wholeSamples, constants, spec, inputs);
        long[] labels = null;
        if (spec.labels() != null) {
            labels = labels(spec.labels(), samples.size());
        }
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < samples.size(); i++) {
            order.add(i);
        }
        if (spec.seed() != null) {
            if (!spec.carry().isEmpty()) {
                throw new InvalidInputException("samples that carry state (" + spec.carry()
                        + ") run in order; do not shuffle them (--seed)");
            }
            Collections.shuffle(order, new Random(spec.seed()));
        }
        int n = spec.limit() > 0 ? Math.min(spec.limit(), order.size()) : order.size();
        List<Map<String, Tensor>> picked = new ArrayList<>();
        long[] pickedLabels = labels == null ? null : new long[n];
        for (int i = 0; i < n; i++) {
            picked.add(samples.get(order.get(i)));
            if (labels != null) {
                pickedLabels[i] = labels[order.get(i)];
            }
        }
        return new Dataset(picked, pickedLabels, spec.carry());
    }

    private static List<Map<String, Tensor>> assemble(Map<String, List<Tensor>> columns,
            List<Map<String, Tensor>> whole, Map<String, Tensor> constants, DataSpec spec, List<ValueInfo> inputs) {
        int count = -1;
        String first = null;
        for (Map.Entry<String, List<Tensor>> e : columns.entrySet()) {
            if (count >= 0 && e.getValue().size() != count) {
                throw new InvalidInputException("input '" + e.getKey() + "' has " + e.getValue().size()
                        + " samples but '" + first + "' has " + count);
            }
            count = e.getValue().size();
            first = e.getKey();
        }
        if (whole != null) {
            if (count >= 0 && whole.size() != count) {
                throw new InvalidInputException("the sample directories hold " + whole.size() + " samples but '"
                        + first + "' has " + count);
            }
            count = whole.size();
        }
        if (count < 0) {
            throw new InvalidInputException("no data given (a .npy, .pb, image or directory)");
        }
        List<Map<String, Tensor>> samples = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            Map<String, Tensor> s = new LinkedHashMap<>();
            for (ValueInfo v : inputs) {
                Tensor t = columns.containsKey(v.name()) ? columns.get(v.name()).get(i)
                        : whole != null && whole.get(i).containsKey(v.name()) ? whole.get(i).get(v.name())
                        : constants.get(v.name());
                if (t == null && spec.carry().containsKey(v.name())) {
                    t = Tensor.allocate(v.dtype(), defaultShape(v));
                }
                if (t == null) {
                    throw new InvalidInputException("no data for input '" + v.name() + "' " + v + ": give "
                            + v.name() + "=FILE, a constant " + v.name() + "=VALUE, or carry it from an output");
                }
                check(v, t, "sample " + i);
                s.put(v.name(), t);
            }
            samples.add(s);
        }
        return samples;
    }

    /** The input's declared type and fixed dimensions must match. */
    private static void check(ValueInfo v, Tensor t, String where) {
        if (v.dtype() != null && v.dtype() != t.dtype()) {
            throw new InvalidInputException(where + ": input '" + v.name() + "' is " + v.dtype() + ", the data is "
                    + t.dtype());
        }
        if (v.dims() == null) {
            return;
        }
        if (v.dims().size() != t.rank()) {
            throw new InvalidInputException(where + ": input '" + v.name() + "' has shape " + v + ", the data "
                    + Arrays.toString(t.shape()));
        }
        for (int d = 0; d < t.rank(); d++) {
            Dim dim = v.dims().get(d);
            if (dim.isFixed() && dim.value() != t.dim(d)) {
                throw new InvalidInputException(where + ": input '" + v.name() + "' has shape " + v
                        + ", the data " + Arrays.toString(t.shape()));
            }
        }
    }

    /** The input's shape with dynamic dimensions as 1. */
    static int[] defaultShape(ValueInfo v) {
        if (v.dims() == null) {
            throw new InvalidInputException("input '" + v.name() + "' has unknown rank; give its data");
        }
        int[] s = new int[v.dims().size()];
        for (int i = 0; i < s.length; i++) {
            Dim d = v.dims().get(i);
            s[i] = d.isFixed() ? (int) d.value() : 1;
        }
        return s;
    }

    /** A value for every sample: a scalar, or numbers filling the input's default shape. */
    static Tensor constant(ValueInfo v, String text) {
        String[] parts = text.split(",");
        int[] shape = v.dims() != null && v.dims().isEmpty() ? new int[0] : defaultShape(v);
        int n = Tensor.elementCount(shape);
        if (parts.length != 1 && parts.length != n) {
            throw new InvalidInputException("constant for '" + v.name() + "' has " + parts.length + " values; "
                    + "its shape " + Arrays.toString(shape) + " needs 1 or " + n);
        }
        DType dt = v.dtype() == null ? DType.FLOAT32 : v.dtype();
        Tensor t = Tensor.allocate(dt, shape);
        for (int i = 0; i < n; i++) {
            String p = parts[parts.length == 1 ? 0 : i].trim();
            try {
                if (dt.isFloat()) {
                    t.setDouble(i, Double.parseDouble(p));
                } else {
                    t.setLong(i, Long.parseLong(p));
                }
            } catch (NumberFormatException e) {
                throw new InvalidInputException("constant for '" + v.name() + "': '" + p + "' is not a "
                        + (dt.isFloat() ? "number" : "integer"));
            }
        }
        return t;
    }

    private static boolean hasSubdirectories(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.anyMatch(Files::isDirectory);
        }
    }

    private static List<Path> sorted(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> !p.getFileName().toString().startsWith(".")).sorted().toList();
        }
    }

    /** The samples of one input from a file or a directory of files. */
    private static List<Tensor> readSource(Path path, ValueInfo v, ImageOptions image) throws IOException {
        if (Files.isDirectory(path)) {
            List<Tensor> l = new ArrayList<>();
            for (Path f : sorted(path)) {
                if (Files.isRegularFile(f)) {
                    l.addAll(readFile(f, v, image, true));
                }
            }
            if (l.isEmpty()) {
                throw new InvalidInputException("directory " + path + " holds no data files");
            }
            return l;
        }
        return readFile(path, v, image, false);
    }

    private static List<Tensor> readFile(Path f, ValueInfo v, ImageOptions image, boolean oneSample)
            throws IOException {
        String name = f.getFileName().toString().toLowerCase(Locale.ROOT);
        if (name.endsWith(".npy")) {
            Tensor t = Npy.read(f);
            return oneSample ? List.of(asSample(t, v, f)) : rows(t, v, f);
        }
        if (name.endsWith(".pb")) {
            return List.of(asSample(TensorProtos.read(f), v, f));
        }
        if (IMAGE_EXTENSIONS.stream().anyMatch(name::endsWith)) {
            return List.of(image(f, v, image));
        }
        throw new InvalidInputException(f + ": not a .npy, .pb or image (png, jpg, bmp, gif) file");
    }

    /** One sample from a whole file: as is, or with a batch dimension of 1 added when the input expects one. */
    private static Tensor asSample(Tensor t, ValueInfo v, Path f) {
        if (v.dims() != null && v.dims().size() == t.rank() + 1) {
            int[] s = new int[t.rank() + 1];
            s[0] = 1;
            System.arraycopy(t.shape(), 0, s, 1, t.rank());
            return t.reshape(s);
        }
        return t;
    }

    /** Samples of {@code B} rows (the input's fixed batch, else 1) from an [N, ...] array. */
    private static List<Tensor> rows(Tensor t, ValueInfo v, Path f) {
        if (t.rank() == 0) {
            return List.of(t);
        }
        boolean keepBatch = v.dims() == null || v.dims().size() == t.rank();
        if (!keepBatch && v.dims().size() != t.rank() - 1) {
            throw new InvalidInputException(f + ": array of shape " + Arrays.toString(t.shape())
                    + " does not fit input '" + v.name() + "' " + v + " (one sample per row of the first dimension)");
        }
        int batch = keepBatch && v.dims() != null && v.dims().get(0).isFixed() ? (int) v.dims().get(0).value() : 1;
        int n = t.dim(0);
        if (batch < 1 || n % batch != 0) {
            throw new InvalidInputException(f + ": " + n + " rows do not split into batches of " + batch
                    + " for input '" + v.name() + "' " + v);
        }
        int[] shape = t.shape();
        int rowBytes = n == 0 ? 0 : t.byteSize() / n;
        List<Tensor> out = new ArrayList<>();
        for (int i = 0; i < n; i += batch) {
            int[] s;
            if (keepBatch) {
                s = shape.clone();
                s[0] = batch;
            } else {
                s = Arrays.copyOfRange(shape, 1, shape.length);
            }
            Tensor r = Tensor.allocate(t.dtype(), s);
            r.data().put(0, t.data(), i * rowBytes, batch * rowBytes);
            out.add(r);
        }
        return out;
    }

    /** Sample directories (ONNX test-data layout, or one file per input name). */
    private static List<Map<String, Tensor>> sampleDirectories(Path dir, List<ValueInfo> inputs) throws IOException {
        List<Map<String, Tensor>> out = new ArrayList<>();
        for (Path d : sorted(dir)) {
            if (!Files.isDirectory(d)) {
                continue;
            }
            Map<String, Tensor> s = new LinkedHashMap<>();
            for (int i = 0; i < inputs.size(); i++) {
                ValueInfo v = inputs.get(i);
                for (String candidate : List.of(v.name() + ".npy", v.name() + ".pb", "input_" + i + ".pb",
                        "input_" + i + ".npy")) {
                    Path f = d.resolve(candidate);
                    if (Files.isRegularFile(f)) {
                        Tensor t = candidate.endsWith(".npy") ? Npy.read(f) : TensorProtos.read(f);
                        s.put(v.name(), asSample(t, v, f));
                        break;
                    }
                }
            }
            out.add(s);
        }
        return out;
    }

    private static Tensor image(Path f, ValueInfo v, ImageOptions o) throws IOException {
        BufferedImage img = ImageIO.read(f.toFile());
        if (img == null) {
            throw new InvalidInputException(f + ": not an image ImageIO can read");
        }
        int rank = v.dims() == null ? 4 : v.dims().size();
        if (rank != 4) {
            throw new InvalidInputException(f + ": input '" + v.name() + "' " + v
                    + " is not an image tensor (rank 4, NCHW or NHWC)");
        }
        int cAxis = o.nhwc() ? 3 : 1;
        int hAxis = o.nhwc() ? 1 : 2;
        int channels = fixed(v, cAxis, 3);
        if (channels != 1 && channels != 3) {
            throw new InvalidInputException(f + ": input '" + v.name() + "' " + v + " has " + channels
                    + " channels; images give 1 (luminance) or 3 (--layout " + (o.nhwc() ? "nhwc" : "nchw") + ")");
        }
        int h = o.height() > 0 ? o.height() : fixed(v, hAxis, img.getHeight());
        int w = o.width() > 0 ? o.width() : fixed(v, hAxis + 1, img.getWidth());
        BufferedImage rgb = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = rgb.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
        g.drawImage(img, 0, 0, w, h, null);
        g.dispose();
        int[] shape = o.nhwc() ? new int[] {1, h, w, channels} : new int[] {1, channels, h, w};
        Tensor t = Tensor.allocate(DType.FLOAT32, shape);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int p = rgb.getRGB(x, y);
                float r = (p >> 16) & 0xff;
                float gr = (p >> 8) & 0xff;
                float b = p & 0xff;
                for (int c = 0; c < channels; c++) {
                    int src = o.bgr() ? 2 - c : c;
                    float raw = channels == 1 ? 0.299f * r + 0.587f * gr + 0.114f * b
                            : src == 0 ? r : src == 1 ? gr : b;
                    float val = (raw / 255f - o.mean(c)) / o.std(c);
                    int idx = o.nhwc() ? (y * w + x) * channels + c : (c * h + y) * w + x;
                    t.setFloat(idx, val);
                }
            }
        }
        return t;
    }

    private static int fixed(ValueInfo v, int axis, int dflt) {
        if (v.dims() == null || v.dims().size() <= axis || !v.dims().get(axis).isFixed()) {
            return dflt;
        }
        return (int) v.dims().get(axis).value();
    }

    private static long[] labels(Path f, int samples) throws IOException {
        Tensor t = Npy.read(f);
        if (!t.dtype().isInteger()) {
            throw new InvalidInputException("labels " + f + " are " + t.dtype() + "; integer class indices expected");
        }
        if (t.elementCount() != samples) {
            throw new InvalidInputException("labels " + f + " hold " + t.elementCount() + " values for " + samples
                    + " samples");
        }
        return t.toLongArray();
    }
}
