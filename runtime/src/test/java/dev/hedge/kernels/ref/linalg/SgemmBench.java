package dev.hedge.kernels.ref.linalg;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Random;

/**
 * Single-thread GFLOP/s of {@link Sgemm}; a timing harness run by hand, not a unit test:
 * <pre>
 * java -cp runtime/target/classes:runtime/target/test-classes:schema/target/classes \
 *     dev.hedge.kernels.ref.linalg.SgemmBench [MxNxK,...]
 * </pre>
 * For each shape it times row-major operands as arrays and as direct buffers, B plain and transposed. To time
 * the multiply-add kernels used on CPUs without FMA, run it with {@code -XX:-UseFMA} (mixing both in one JVM
 * would time a method compiled for both).
 */
public final class SgemmBench {

    private SgemmBench() {
    }

    public static void main(String[] args) {
        String spec = args.length > 0 ? args[0] : "64x64x64,256x256x256,512x512x512";
        System.out.println("hardware FMA: " + Sgemm.HARDWARE_FMA);
        // Warm-up so that the timings below see C2-compiled kernels, narrow and wide.
        measure(64, 64, 64, false, false);
        measure(300, 300, 300, true, true);
        for (String s : spec.split(",")) {
            String[] p = s.split("x");
            int m = Integer.parseInt(p[0]);
            int n = Integer.parseInt(p[1]);
            int k = Integer.parseInt(p[2]);
            for (boolean buffers : new boolean[] {false, true}) {
                for (boolean tb : new boolean[] {false, true}) {
                    System.out.printf("M=%-5d N=%-5d K=%-5d %-6s transB=%-5s %6.2f GFLOP/s%n", m, n, k,
                            buffers ? "buffer" : "array", tb, measure(m, n, k, buffers, tb));
                }
            }
        }
    }

    static double measure(int m, int n, int k, boolean buffers, boolean tb) {
        Random r = new Random(42);
        float[] a = new float[m * k];
        float[] b = new float[k * n];
        float[] c = new float[m * n];
        for (int i = 0; i < a.length; i++) {
            a[i] = r.nextFloat() - 0.5f;
        }
        for (int i = 0; i < b.length; i++) {
            b[i] = r.nextFloat() - 0.5f;
        }
        FloatBuffer ab = direct(a);
        FloatBuffer bb = direct(b);
        FloatBuffer cb = direct(c);
        int ldb = tb ? k : n;
        double flops = 2.0 * m * n * k;
        int reps = Math.max(1, (int) (1e8 / flops));
        double best = 0;
        long start = System.nanoTime();
        while (System.nanoTime() - start < 1_500_000_000L) {
            long t0 = System.nanoTime();
            for (int i = 0; i < reps; i++) {
                if (buffers) {
                    Sgemm.sgemm(false, tb, m, n, k, 1f, ab, 0, k, bb, 0, ldb, 0f, cb, 0, n);
                } else {
                    Sgemm.sgemm(false, tb, m, n, k, 1f, a, 0, k, b, 0, ldb, 0f, c, 0, n);
                }
            }
            best = Math.max(best, flops * reps / (System.nanoTime() - t0));
        }
        return best;
    }

    private static FloatBuffer direct(float[] v) {
        FloatBuffer f = ByteBuffer.allocateDirect(v.length * 4).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
        f.put(0, v);
        return f;
    }
}
