package dev.hedge.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hedge.kernels.KernelCosts;
import dev.hedge.plan.Frame;
import dev.hedge.plan.Plan;
import dev.hedge.runtime.Model;
import dev.hedge.runtime.RuntimeOptions;
import dev.hedge.runtime.Tensor;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Single-thread kernel rates in CPU time: every {@link KernelCases} case on every backend that takes it,
 * warmed up, then timed as the best of ten batches of runs of its frame, in CPU time of the running thread. On a shared
 * machine this is the steadier counterpart of the JMH wall-clock figures.
 *
 * <p>{@code java dev.hedge.bench.KernelRates OUT.json [backend...]} (default backends: java openblas, plus
 * native when it is in the build, which adds the dense against sparse int8 pairs); {@code KernelRates OUT.json
 * --sparse-only} times only those pairs.
 */
public final class KernelRates {

    private KernelRates() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length < 1) {
            System.err.println("usage: KernelRates OUT.json [backend...]");
            System.exit(2);
        }
        if (args.length == 2 && args[1].equals("--sparse-only")) {
            ObjectMapper json = new ObjectMapper();
            ArrayNode out = json.createArrayNode();
            sparsePairs(out);
            json.writerWithDefaultPrettyPrinter().writeValue(Path.of(args[0]).toFile(), out);
            return;
        }
        List<String> backends = args.length > 1 ? List.of(args).subList(1, args.length)
                : Backends.available("native") ? List.of("java", "openblas", "native")
                : List.of("java", "openblas");
        ObjectMapper json = new ObjectMapper();
        ArrayNode out = json.createArrayNode();
        for (String name : KernelCases.NAMES) {
            KernelCases.Case c = KernelCases.get(name);
            for (String b : backends) {
                try (Model m = Model.of(c.model(), Backends.options(b, 1))) {
                    Plan p = m.plan(List.of(c.input().shape()));
                    if (!p.describe().get(0).backend().equals(b)) {
                        continue; // this backend does not run the case
                    }
                    ObjectNode r = out.addObject();
                    r.put("kernel", name);
                    r.put("backend", b);
                    r.put("cpuMicros", cpuNanos(p, c) / 1e3);
                    r.put("macs", c.macs());
                    r.put("int8", c.int8());
                } catch (RuntimeException e) {
                    System.err.println(name + " on " + b + ": " + e.getMessage());
                }
            }
        }
        if (backends.contains("native")) {
            sparsePairs(out);
        }
        json.writerWithDefaultPrettyPrinter().writeValue(Path.of(args[0]).toFile(), out);
    }

    /**
     * Each {@link KernelCases#SPARSE_PAIRS} layer with dense int8 weights and with the same weights 80 % sparse,
     * on the native backend. Without kernel costs the native backend's sparse offer comes first, so the sparse
     * case runs the sparse kernel; {@code planned} says which kernel the planner picks for the sparse-encoded
     * layer with every backend and this host's measured costs.
     */
    private static void sparsePairs(ArrayNode out) {
        for (String dense : KernelCases.SPARSE_PAIRS) {
            List<String> names = new java.util.ArrayList<>(List.of(dense));
            KernelCases.SPARSE_BLOCK_ROWS.forEach(br -> names.add(KernelCases.sparseName(dense, br)));
            for (String name : names) {
                KernelCases.Case c = KernelCases.getAny(name);
                RuntimeOptions o = Backends.options("native", 1).withKernelCosts(KernelCosts.fixed(Map.of()));
                try (Model m = Model.of(c.model(), o); Model auto = Model.of(c.model(), Backends.options("auto", 1))) {
                    Plan p = m.plan(List.of(c.input().shape()));
                    Plan.StepInfo step = p.describe().get(0);
                    if (!step.backend().equals("native")) {
                        System.err.println(name + " does not run natively: " + step.reason());
                        continue;
                    }
                    Plan.StepInfo chosen = auto.plan(List.of(c.input().shape())).describe().get(0);
                    ObjectNode r = out.addObject();
                    r.put("kernel", name);
                    r.put("backend", "native");
                    r.put("cpuMicros", cpuNanos(p, c) / 1e3);
                    r.put("macs", c.macs());
                    r.put("storedMacs", c.stored());
                    r.put("int8", true);
                    r.put("kernelClass", step.kernelClass());
                    r.put("planned", chosen.backend() + " " + chosen.kernelClass());
                } catch (RuntimeException e) {
                    System.err.println(name + " on native: " + e.getMessage());
                }
            }
        }
    }

    /** Best of ten batches of runs of the plan's frame, in CPU time of this thread, after a warm-up. */
    private static long cpuNanos(Plan p, KernelCases.Case c) {
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        Frame f = p.newFrame();
        List<Tensor> in = List.of(c.input());
        // warm up (the JIT compiles the Java kernels after some hundred runs): 2 s of CPU or 500 runs
        long warm = mx.getCurrentThreadCpuTime() + 2_000_000_000L;
        for (int i = 0; i < 500 && mx.getCurrentThreadCpuTime() < warm; i++) {
            f.run(in);
        }
        int reps = (int) Math.max(1, Math.min(2000, 2e8 / Math.max(1, c.stored())));
        long best = Long.MAX_VALUE;
        for (int round = 0; round < 10; round++) {
            long t0 = mx.getCurrentThreadCpuTime();
            for (int i = 0; i < reps; i++) {
                f.run(in);
            }
            best = Math.min(best, (mx.getCurrentThreadCpuTime() - t0) / reps);
        }
        return best;
    }
}
