package dev.hedge.kernels.cpu;

import static dev.hedge.kernels.cpu.NativeRun.map;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.hedge.ir.Graph;
import dev.hedge.ir.ModelDef;
import dev.hedge.ir.Node;
import dev.hedge.ir.ValueInfo;
import dev.hedge.kernels.KernelCosts;
import dev.hedge.ops.Op;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Model;
import dev.hedge.runtime.RuntimeOptions;
import dev.hedge.runtime.Tensor;
import java.util.List;
import java.util.Map;
import java.util.Random;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AddLifecycleHook;

/**
 * Native float32 Add of same-shape tensors on every instruction set this CPU has: bit for bit a + b per element
 * (against a scalar sum and the Java reference backend), with signed zeros, infinities and NaNs, sizes off the
 * vector width and across the kernel's chunks; broadcasting adds stay on the reference backend.
 */
@AddLifecycleHook(NeedsNative.class)
class AddF32PropertiesTest {

    @Provide
    Arbitrary<String> isas() {
        return NativeRun.isas();
    }

    private static float value(Random r) {
        int k = r.nextInt(16);
        return k == 0 ? -0f : k == 1 ? 0f : k == 2 ? Float.NaN : k == 3 ? Float.POSITIVE_INFINITY
                : k == 4 ? Float.NEGATIVE_INFINITY : (float) r.nextGaussian() * (k == 5 ? 1e30f : 1f);
    }

    @Property(tries = 60)
    void sumsMatchTheReferences(@ForAll("isas") String isa, @ForAll long seed) {
        Random r = new Random(seed);
        int rank = 1 + r.nextInt(4);
        int[] shape = new int[rank];
        for (int i = 0; i < rank; i++) {
            shape[i] = 1 + r.nextInt(i == rank - 1 && r.nextInt(4) == 0 ? 70000 : 13);
        }
        int n = Tensor.elementCount(shape);
        float[] a = new float[n];
        float[] b = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = value(r);
            b[i] = value(r);
        }
        Node node = Node.of("add", Op.Add, List.of("a", "b"), List.of("y"));
        Map<String, Tensor> in = map("a", Tensor.of(a, shape), "b", Tensor.of(b, shape));
        float[] got = NativeRun.run(isa, node, in, map()).toFloatArray();
        float[] java = NativeRun.runReference(node, in, map()).toFloatArray();
        for (int i = 0; i < n; i++) {
            int want = Float.floatToIntBits(a[i] + b[i]); // every NaN is one answer
            assertEquals(want, Float.floatToIntBits(got[i]), "isa " + isa + " element " + i);
            assertEquals(Float.floatToIntBits(java[i]), Float.floatToIntBits(got[i]), "isa " + isa + " element " + i);
        }
    }

    @Example
    void broadcastingAddsStayOnTheReferenceBackend() {
        Graph g = Graph.builder("g").addInput(ValueInfo.of("a", DType.FLOAT32, 2, 3))
                .addInput(ValueInfo.of("b", DType.FLOAT32, 3))
                .addNode(Node.of("add", Op.Add, List.of("a", "b"), List.of("y")))
                .addOutput(new ValueInfo("y", null, null)).build();
        RuntimeOptions o = RuntimeOptions.reference().withBackend(new NativeBackend())
                .withKernelCosts(KernelCosts.fixed(Map.of()));
        try (Model m = Model.of(new ModelDef(g, Map.of()), o)) {
            assertEquals("java", m.plan(List.of(new int[] {2, 3}, new int[] {3})).describe().get(0).backend());
        }
    }
}
