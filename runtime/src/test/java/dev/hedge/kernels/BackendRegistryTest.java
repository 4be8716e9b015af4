package dev.hedge.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hedge.ir.Graph;
import dev.hedge.ir.ModelDef;
import dev.hedge.ir.Node;
import dev.hedge.ir.ValueInfo;
import dev.hedge.kernels.cpu.NativeBackend;
import dev.hedge.kernels.ref.RefBackend;
import dev.hedge.ops.Op;
import dev.hedge.plan.Plan;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.InvalidInputException;
import dev.hedge.runtime.Model;
import dev.hedge.runtime.RuntimeOptions;
import dev.hedge.runtime.Session;
import dev.hedge.runtime.Tensor;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Default backends: discovery with reasons, order, and falling back to Java whatever a backend does. */
class BackendRegistryTest {

    static BackendProvider provider(String name, int rank, java.util.function.Supplier<Backend> make) {
        return new BackendProvider() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public int defaultRank() {
                return rank;
            }

            @Override
            public Backend create() {
                return make.get();
            }
        };
    }

    static Backend named(String name) {
        return new Backend() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public Kernel create(Node node, List<PrepareContext.ValueType> inputs) {
                return null;
            }
        };
    }

    @Test
    void providersAreCheckedOrderedAndJavaComesLast() {
        Backend fast = named("fast");
        List<BackendRegistry.Entry> l = BackendRegistry.discover(List.of(
                provider("late", 30, () -> named("late")),
                provider("nolib", 5, () -> {
                    throw new UnsatisfiedLinkError("no libfoo in java.library.path");
                }),
                provider("fast", 10, () -> fast),
                provider("oldcpu", 20, () -> {
                    throw new IllegalStateException("CPU has no AVX2");
                })));
        assertEquals(List.of("nolib", "fast", "oldcpu", "late", "java"), l.stream().map(BackendRegistry.Entry::name).toList());
        assertFalse(l.get(0).available());
        assertTrue(l.get(0).unavailableReason().contains("no libfoo"), l.get(0).toString());
        assertSame(fast, l.get(1).backend());
        assertEquals("CPU has no AVX2", l.get(2).unavailableReason());
        assertSame(RefBackend.INSTANCE, l.get(4).backend());
    }

    @Test
    void aProviderThatDoesNotLoadIsListedNotThrown() {
        Iterable<BackendProvider> broken = () -> new Iterator<>() {
            int i;

            @Override
            public boolean hasNext() {
                return i < 2;
            }

            @Override
            public BackendProvider next() {
                if (i++ == 0) {
                    throw new java.util.ServiceConfigurationError("Provider com.example.Gone not found");
                }
                return provider("ok", 1, () -> named("ok"));
            }
        };
        List<BackendRegistry.Entry> l = BackendRegistry.discover(broken);
        assertEquals(3, l.size());
        assertTrue(l.stream().anyMatch(e -> !e.available() && e.unavailableReason().contains("com.example.Gone")));
        assertTrue(l.stream().anyMatch(e -> e.name().equals("ok") && e.available()));
    }

    @Test
    void theRuntimeFindsItsNativeBackendThroughTheServiceFile() {
        BackendRegistry.Entry n = BackendRegistry.find("native");
        assertNotNull(n, "runtime's META-INF/services lists the native provider");
        assertEquals(NativeBackend.isAvailable(), n.available());
        RuntimeOptions d = RuntimeOptions.defaults();
        if (NativeBackend.isAvailable()) {
            assertTrue(d.backends().stream().anyMatch(b -> b instanceof NativeBackend));
            assertTrue(d.describe().startsWith("native") && d.describe().endsWith("java"), d.describe());
        } else {
            assertEquals(NativeBackend.unavailableReason(), n.unavailableReason());
            assertTrue(d.unavailable().contains("native: " + NativeBackend.unavailableReason()), d.unavailable().toString());
        }
        assertTrue(RuntimeOptions.reference().backends().isEmpty());
    }

    @Test
    void aProfileOrderKeepsWhatIsAvailableAndSaysWhyTheRestIsNot() {
        RuntimeOptions o = RuntimeOptions.defaults().withBackendOrder(List.of("cuda", "native", "armnn:GpuAcc", "java"));
        assertEquals(1, o.unavailable().size(), o.unavailable().toString());
        assertTrue(o.unavailable().get(0).startsWith("cuda: not in this build"), o.unavailable().toString());
        assertEquals(NativeBackend.isAvailable() ? List.of("native") : List.of(),
                o.backends().stream().map(Backend::name).toList());
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> RuntimeOptions.forBackends("cuda+native"));
        assertTrue(e.getMessage().contains("unknown backend 'cuda'") && e.getMessage().contains("java"), e.getMessage());
        assertTrue(RuntimeOptions.forBackends("java").backends().isEmpty());
        // a backend added by hand replaces the discovered one of the same name in place
        Backend mine = named("native");
        RuntimeOptions replaced = RuntimeOptions.defaults().withBackend(mine);
        assertEquals(1, replaced.backends().stream().filter(b -> b.name().equals("native")).count());
        assertTrue(replaced.backends().contains(mine));
    }

    private static Graph relu() {
        return Graph.builder("g")
                .addInput(ValueInfo.of("x", DType.FLOAT32, 2, 3))
                .addNode(Node.of("r", Op.Relu, List.of("x"), List.of("y")))
                .addOutput(ValueInfo.of("y", DType.FLOAT32, 2, 3))
                .build();
    }

    private static float[] runRelu(RuntimeOptions o, String[] backend, String[] reason) {
        try (Model m = Model.of(new ModelDef(relu(), Map.of()), o); Session s = m.newSession()) {
            Plan.StepInfo st = m.plan(List.of(new int[] {2, 3})).describe().get(0);
            backend[0] = st.backend();
            reason[0] = st.reason();
            return s.run(Map.of("x", Tensor.of(new float[] {-1, 2, -3, 4, -5, 6}, 2, 3))).get("y").toFloatArray();
        }
    }

    @Test
    void aBackendThatThrowsOrWhoseNativeCodeIsMissingFallsBackToJava() {
        Backend throwing = new Backend() {
            @Override
            public String name() {
                return "buggy";
            }

            @Override
            public Kernel create(Node node, List<PrepareContext.ValueType> inputs) {
                throw new NullPointerException("bug in offers");
            }
        };
        Backend unlinked = new Backend() {
            @Override
            public String name() {
                return "unlinked";
            }

            @Override
            public Kernel create(Node node, List<PrepareContext.ValueType> inputs) {
                return new Kernel() {
                    @Override
                    public void prepare(PrepareContext ctx) {
                        throw new UnsatisfiedLinkError("'void dev.example.Jni.relu()'");
                    }

                    @Override
                    public void run(RunContext ctx) {
                        throw new AssertionError("never prepared");
                    }
                };
            }
        };
        float[] want = {0, 2, 0, 4, 0, 6};
        String[] backend = new String[1];
        String[] reason = new String[1];
        assertEquals(java.util.Arrays.toString(want),
                java.util.Arrays.toString(runRelu(RuntimeOptions.reference().withBackend(throwing), backend, reason)));
        assertEquals("java", backend[0]);
        assertTrue(reason[0].contains("buggy failed: java.lang.NullPointerException: bug in offers"), reason[0]);
        assertEquals(java.util.Arrays.toString(want),
                java.util.Arrays.toString(runRelu(RuntimeOptions.reference().withBackend(unlinked), backend, reason)));
        assertEquals("java", backend[0]);
        assertTrue(reason[0].contains("after unlinked: java.lang.UnsatisfiedLinkError"), reason[0]);
    }

    @Test
    void thePlanSaysWhichBackendsItUsesAndWhichNot() {
        RuntimeOptions o = RuntimeOptions.reference().withBackendOrder(List.of("cuda"));
        try (Model m = Model.of(new ModelDef(relu(), Map.of()), o)) {
            String text = m.plan(List.of(new int[] {2, 3})).explain();
            assertTrue(text.contains("backends: java, 1 thread"), text);
            assertTrue(text.contains("not used: cuda: not in this build"), text);
        }
        assertNull(BackendRegistry.find("cuda"));
    }
}
