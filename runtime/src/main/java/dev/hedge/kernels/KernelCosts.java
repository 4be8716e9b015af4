package dev.hedge.kernels;

import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.zip.CRC32;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Measured {@link KernelCost}s per kernel class on one host. The planner compares them to pick a kernel per
 * node (OpenBLAS against Java, int8 against fp32); the converter can ask the same question before it
 * quantizes a layer. A table either only knows what it was given ({@link #fixed}, e.g. from a device
 * profile) or also measures a missing class with its backend's {@link KernelBenchmark} and remembers the
 * result in a properties file ({@link #host()}: one file per host signature under
 * {@code ~/.cache/hedge}, or the file named by the system property {@value #FILE_PROPERTY}).
 */
public final class KernelCosts {

    public static final String FILE_PROPERTY = "hedge.kernelCosts";

    private static final Logger LOG = LoggerFactory.getLogger(KernelCosts.class);
    /** Work of the two timed problems: small enough to show the call overhead, large enough for the rate. */
    static final long SMALL_WORK = 4096;
    static final long LARGE_WORK = 1L << 24;
    /** Weights of the large one-row problem (the small one has {@link #SMALL_WORK}). */
    static final long LARGE_ROW = 1L << 16;

    /** Version of what the benchmarks time and how costs are fitted: a new one measures again. */
    static final int COST_MODEL = 3;

    private static volatile KernelCosts host;

    private final Map<String, KernelCost> costs = new ConcurrentHashMap<>();
    /** Classes whose benchmark failed in this process: not tried again. */
    private final java.util.Set<String> unmeasurable = ConcurrentHashMap.newKeySet();
    private final Path file;
    private final boolean measures;

    private KernelCosts(Map<String, KernelCost> initial, Path file, boolean measures) {
        this.costs.putAll(initial);
        this.file = file;
        this.measures = measures;
    }

    /** A table of given costs that never measures (a device profile's, or a test's). */
    public static KernelCosts fixed(Map<String, KernelCost> costs) {
        return new KernelCosts(costs, null, false);
    }

    /** A table backed by {@code file} (read now if it exists) that measures and saves missing classes. */
    public static KernelCosts measuring(Path file) {
        return new KernelCosts(read(file), file, true);
    }

    /** The shared table of this host, cached in {@link #defaultFile()}. */
    public static KernelCosts host() {
        KernelCosts h = host;
        if (h == null) {
            synchronized (KernelCosts.class) {
                h = host;
                if (h == null) {
                    h = measuring(defaultFile());
                    host = h;
                }
            }
        }
        return h;
    }

    /** {@code -Dhedge.kernelCosts=FILE}, else {@code ~/.cache/hedge/kernel-costs-<host signature hash>.properties}. */
    public static Path defaultFile() {
        String p = System.getProperty(FILE_PROPERTY);
        if (p != null && !p.isEmpty()) {
            return Path.of(p);
        }
        String sig = Integer.toHexString(hostSignature().hashCode());
        return Path.of(System.getProperty("user.home"), ".cache", "hedge", "kernel-costs-" + sig + ".properties");
    }

    /**
     * What kernel speed depends on: CPU model, logical cores, architecture, Java feature version, and a
     * kernel choice forced through the environment ({@code OPENBLAS_CORETYPE}).
     */
    public static String hostSignature() {
        String cpu = "unknown-cpu";
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    cpu = line.substring(line.indexOf(':') + 1).trim();
                    break;
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux: the architecture and core count still separate hosts
        }
        String forced = System.getenv("OPENBLAS_CORETYPE");
        return cpu + "; " + Runtime.getRuntime().availableProcessors() + " cpus; " + System.getProperty("os.arch")
                + "; java " + Runtime.version().feature() + (forced == null ? "" : "; OPENBLAS_CORETYPE=" + forced)
                + "; native kernels " + nativeLibraryFingerprint() + "; cost model " + COST_MODEL;
    }

    /**
     * CRC-32 of the C++ kernel library on the class path (or "none"): a rebuilt library has other speeds, so
     * costs measured with an older one must not rank its kernels.
     */
    static String nativeLibraryFingerprint() {
        String arch = System.getProperty("os.arch", "");
        String platform = System.getProperty("os.name", "").toLowerCase(Locale.ROOT).replaceAll("[^a-z].*", "") + "-"
                + (arch.equals("amd64") || arch.equals("x86_64") ? "x86_64" : arch.equals("aarch64") ? "arm64" : arch);
        String resource = "/dev/hedge/kernels/cpu/" + platform + "/libjniNativeKernels.so";
        try (InputStream in = KernelCosts.class.getResourceAsStream(resource)) {
            if (in == null) {
                return "none";
            }
            CRC32 crc = new CRC32();
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) {
                crc.update(buf, 0, n);
            }
            return Long.toHexString(crc.getValue());
        } catch (IOException e) {
            return "unreadable";
        }
    }

    /** The cost of a class, or null when unknown. */
    public KernelCost get(String kernelClass) {
        return kernelClass == null ? null : costs.get(kernelClass);
    }

    /**
     * The cost of a class; when unknown and this table measures, times {@code benchmark} (about a second of
     * work, once per host) and saves the result. Null when unknown and not measurable.
     */
    public KernelCost get(String kernelClass, KernelBenchmark benchmark) {
        KernelCost c = get(kernelClass);
        if (c != null || !measures || benchmark == null || kernelClass == null) {
            return c;
        }
        synchronized (this) {
            c = costs.get(kernelClass);
            if (c == null && !unmeasurable.contains(kernelClass)) {
                long t0 = System.nanoTime();
                try {
                    c = measure(benchmark);
                } catch (RuntimeException | LinkageError e) {
                    // the class then competes without a cost (backend priority); its kernels may still run
                    LOG.warn("cannot measure kernel class {}: {}", kernelClass, e.toString());
                    unmeasurable.add(kernelClass);
                    return null;
                }
                costs.put(kernelClass, c);
                LOG.info("measured kernel class {} in {} ms: {} ns per call + {} G units/s", kernelClass,
                        (System.nanoTime() - t0) / 1_000_000, Math.round(c.overheadNanos()),
                        String.format(Locale.ROOT, "%.2f", c.unitsPerSecond() / 1e9));
                save();
            }
        }
        return c;
    }

    public void put(String kernelClass, KernelCost cost) {
        costs.put(kernelClass, cost);
    }

    /** Every known cost, by class name. */
    public Map<String, KernelCost> snapshot() {
        return new TreeMap<>(costs);
    }

    /**
     * Times a small and a large square problem (median of repeated runs after warm-up) and, when the benchmark has
     * them, a small and a large one-row product ({@link KernelBenchmark#rowProblem}); fits {@code time = overhead +
     * work * nanosPerUnit + weights * nanosPerWeight + rows * nanosPerRow} through the points (without row
     * problems, only the first two terms).
     */
    public static KernelCost measure(KernelBenchmark benchmark) {
        try (KernelBenchmark.Problem small = benchmark.problem(SMALL_WORK);
                KernelBenchmark.Problem large = benchmark.problem(LARGE_WORK);
                KernelBenchmark.Problem smallRow = benchmark.rowProblem(SMALL_WORK);
                KernelBenchmark.Problem largeRow = benchmark.rowProblem(LARGE_ROW)) {
            // by time, not runs: a fast Java kernel needs many runs before the JIT has compiled it
            warm(large, 300_000_000L, 100_000);
            warm(small, 200_000_000L, 1_000_000);
            List<KernelBenchmark.Problem> ps = new ArrayList<>(List.of(small, large));
            List<Double> ts = new ArrayList<>(List.of(median(small, 15, 200), median(large, 9, 1)));
            if (smallRow != null && largeRow != null) {
                warm(smallRow, 100_000_000L, 1_000_000);
                warm(largeRow, 100_000_000L, 100_000);
                ps.add(smallRow);
                ts.add(median(smallRow, 15, 200));
                ps.add(largeRow);
                ts.add(median(largeRow, 15, 50));
            }
            double[][] x = new double[ps.size()][];
            double[] t = new double[ps.size()];
            for (int i = 0; i < x.length; i++) {
                KernelBenchmark.Problem p = ps.get(i);
                x[i] = new double[] {p.work(), p.weights(), p.rows()};
                t[i] = ts.get(i);
            }
            return fit(x, t);
        }
    }

    /**
     * Least squares of {@code t = overhead + x . (nanosPerUnit, nanosPerWeight, nanosPerRow)}, each term kept
     * non-negative: a term that noise makes negative is dropped and the rest fitted again (per unit last; if
     * even that cannot be fitted, the large problem's mean cost per unit, no overhead). Points are weighted by
     * their inverse time so that the small problems count as much as the large ones.
     */
    static KernelCost fit(double[][] x, double[] t) {
        boolean[] on = {true, true, x.length > 2, x.length > 2};
        while (true) {
            double[] c = solve(x, t, on);
            int worst = -1;
            if (c == null || !(c[1] > 0)) {
                break;
            }
            for (int j = 0; j < 4; j++) {
                if (on[j] && c[j] < 0 && j != 1 && (worst < 0 || c[j] < c[worst])) {
                    worst = j;
                }
            }
            if (worst < 0) {
                return new KernelCost(c[0], c[1], c[2], c[3]);
            }
            on[worst] = false;
        }
        return new KernelCost(0, t[1] / x[1][0]);
    }

    /** Weighted least squares over the active columns (1, work, weights, rows); null when singular. */
    private static double[] solve(double[][] x, double[] t, boolean[] on) {
        int[] cols = java.util.stream.IntStream.range(0, 4).filter(j -> on[j]).toArray();
        int k = cols.length;
        double[][] a = new double[k][k + 1];
        for (int i = 0; i < x.length; i++) {
            double w = 1 / (t[i] * t[i]);
            double[] row = {1, x[i][0], x[i][1], x[i][2]};
            for (int r = 0; r < k; r++) {
                for (int c = 0; c < k; c++) {
                    a[r][c] += w * row[cols[r]] * row[cols[c]];
                }
                a[r][k] += w * row[cols[r]] * t[i];
            }
        }
        for (int p = 0; p < k; p++) {
            int best = p;
            for (int r = p + 1; r < k; r++) {
                if (Math.abs(a[r][p]) > Math.abs(a[best][p])) {
                    best = r;
                }
            }
            double[] tmp = a[p];
            a[p] = a[best];
            a[best] = tmp;
            if (Math.abs(a[p][p]) < 1e-300) {
                return null;
            }
            for (int r = 0; r < k; r++) {
                if (r != p) {
                    double f = a[r][p] / a[p][p];
                    for (int c = p; c <= k; c++) {
                        a[r][c] -= f * a[p][c];
                    }
                }
            }
        }
        double[] out = new double[4];
        for (int r = 0; r < k; r++) {
            out[cols[r]] = a[r][k] / a[r][r];
        }
        return out;
    }

    private static void warm(KernelBenchmark.Problem p, long budgetNanos, int maxRuns) {
        long end = System.nanoTime() + budgetNanos;
        for (int i = 0; i < maxRuns && System.nanoTime() < end; i++) {
            p.run();
        }
    }

    /** Median over {@code samples} of the mean time of {@code reps} back-to-back runs. */
    private static double median(KernelBenchmark.Problem p, int samples, int reps) {
        double[] t = new double[samples];
        for (int s = 0; s < samples; s++) {
            long t0 = System.nanoTime();
            for (int r = 0; r < reps; r++) {
                p.run();
            }
            t[s] = (System.nanoTime() - t0) / (double) reps;
        }
        Arrays.sort(t);
        return t[samples / 2];
    }

    private static Map<String, KernelCost> read(Path file) {
        Map<String, KernelCost> m = new TreeMap<>();
        if (file == null || !Files.isRegularFile(file)) {
            return m;
        }
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            p.load(r);
        } catch (IOException e) {
            LOG.warn("cannot read kernel costs {}: {}; measuring again", file, e.toString());
            return m;
        }
        for (String k : p.stringPropertyNames()) {
            String[] v = p.getProperty(k).trim().split("\\s+");
            try {
                m.put(k, new KernelCost(Double.parseDouble(v[0]), Double.parseDouble(v[1]),
                        v.length > 2 ? Double.parseDouble(v[2]) : 0, v.length > 3 ? Double.parseDouble(v[3]) : 0));
            } catch (RuntimeException e) {
                LOG.warn("ignoring bad kernel cost '{}' = '{}' in {}", k, p.getProperty(k), file);
            }
        }
        return m;
    }

    /** Writes the table (overhead ns, ns per unit) atomically; a failure only costs a new measurement later. */
    private void save() {
        if (file == null) {
            return;
        }
        Properties p = new Properties();
        for (Map.Entry<String, KernelCost> e : costs.entrySet()) {
            KernelCost c = e.getValue();
            p.setProperty(e.getKey(), String.format(Locale.ROOT, "%.1f %.6g %.6g %.6g", c.overheadNanos(),
                    c.nanosPerUnit(), c.nanosPerWeight(), c.nanosPerRow()));
        }
        try {
            Path dir = file.toAbsolutePath().getParent();
            Files.createDirectories(dir);
            Path tmp = Files.createTempFile(dir, "kernel-costs", ".tmp");
            try (Writer w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
                p.store(w, "Hedge kernel costs: overhead ns per call, ns per unit of work, ns per weight, ns per row; host "
                        + hostSignature());
            }
            try {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException | RuntimeException e) {
            LOG.warn("cannot save kernel costs to {}: {}", file, e.toString());
        }
    }
}
