package dev.hedge.profiles.armnn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hedge.ir.ModelDef;
import dev.hedge.profiles.DeviceProfile;
import dev.hedge.profiles.ProfileRuntime;
import dev.hedge.profiles.Profiles;
import dev.hedge.profiles.partition.Digits;
import dev.hedge.profiles.partition.PartitionPlan;
import dev.hedge.profiles.partition.PartitionedModel;
import dev.hedge.profiles.partition.Placement;
import dev.hedge.runtime.Model;
import dev.hedge.runtime.Session;
import dev.hedge.runtime.Tensor;
import java.io.IOException;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The Arm NN delegate against Debian's libarmnn CpuRef backend. In the {@code armnn} Maven profile
 * ({@code hedge.armnn.tests=true}) Arm NN must be there and these tests must run; elsewhere they check that
 * the delegate reports itself unavailable with a reason, and skip the rest.
 */
class ArmNnDelegateTest {

    private static final boolean REQUIRED = Boolean.getBoolean("hedge.armnn.tests");

    private static void requireArmNn() {
        if (REQUIRED) {
            assertTrue(ArmNn.isAvailable(), "the armnn profile is active but Arm NN did not load: "
                    + ArmNn.unavailableReason());
            assertTrue(ArmNn.devices().contains("CpuRef"), "no CpuRef device: " + ArmNn.devices()
                    + " (apt-get install libarmnn-cpuref-backend22)");
        } else {
            Assumptions.assumeTrue(ArmNn.isAvailable() && ArmNn.devices().contains("CpuRef"),
                    "Arm NN not available: run with mvn -Parmnn");
        }
    }

    @Test
    void availabilityIsReportedWithAReason() {
        if (ArmNn.isAvailable()) {
            assertNotNull(ArmNn.version());
            assertTrue(ArmNn.deviceUnavailableReason("EthosNAcc").startsWith("Arm NN has no EthosNAcc device here"));
        } else {
            assertFalse(REQUIRED, "Arm NN unavailable in the armnn profile: " + ArmNn.unavailableReason());
            String why = ArmNn.unavailableReason();
            assertTrue(why.contains("mvn -Parmnn") || why.contains("apt-get install"), why);
            assertTrue(ArmNn.deviceUnavailableReason("CpuRef").startsWith("Arm NN unavailable: "));
        }
    }

    /** The whole converted digits-cnn (Conv+Relu, MaxPool, GlobalAveragePool, Flatten, Gemm) on CpuRef. */
    @Test
    void digitsCnnOnCpuRefMatchesTheJavaBackend() throws IOException {
        requireArmNn();
        ModelDef def = Digits.converted();
        DeviceProfile p = Profiles.builtIn("armnn-cpuref");
        int n = 32;
        Tensor x = Digits.samples(n);
        float[] expected;
        try (Model m = Model.of(def); Session s = m.newSession()) {
            expected = s.run(Map.of("pixels", x)).get("logits").toFloatArray();
        }
        try (PartitionedModel pm = ProfileRuntime.load(def, p, Map.of("pixels", new int[] {n, 1, 8, 8}));
                PartitionedModel.PartitionedSession s = pm.newSession()) {
            PartitionPlan plan = pm.plan();
            assertTrue(plan.warnings().isEmpty(), plan.explain());
            assertEquals(1, plan.accepted().size(), plan.explain());
            assertTrue(plan.placements().stream().noneMatch(Placement::onCpu), plan.explain());
            float[] got = s.run(Map.of("pixels", x)).get("logits").toFloatArray();
            assertEquals(expected.length, got.length);
            double maxErr = 0;
            for (int i = 0; i < got.length; i++) {
                maxErr = Math.max(maxErr, Math.abs(got[i] - expected[i]) / Math.max(1, Math.abs(expected[i])));
            }
            assertTrue(maxErr < 1e-4, "max relative error " + maxErr);
            int agree = 0;
            for (int b = 0; b < n; b++) {
                agree += argmax(got, b * 10) == argmax(expected, b * 10) ? 1 : 0;
            }
            assertEquals(n, agree);
            // a second run on the same session reuses the loaded network
            assertEquals(got[0], s.run(Map.of("pixels", x)).get("logits").getFloat(0));
        }
    }

    @Test
    void aDeviceArmNnLacksFallsBackToTheCpuWithAWarning() throws IOException {
        requireArmNn();
        ModelDef def = Digits.converted();
        DeviceProfile mali = Profiles.builtIn("arm-mali-gpu"); // GpuAcc: not on an x86 host
        Tensor x = Digits.samples(1);
        float[] expected;
        try (Model m = Model.of(def); Session s = m.newSession()) {
            expected = s.run(Map.of("pixels", x)).get("logits").toFloatArray();
        }
        try (PartitionedModel pm = ProfileRuntime.load(def, mali, Map.of());
                PartitionedModel.PartitionedSession s = pm.newSession()) {
            assertEquals(1, pm.plan().warnings().size(), pm.plan().explain());
            assertTrue(pm.plan().warnings().get(0).startsWith("armnn:GpuAcc unavailable: Arm NN has no GpuAcc device"),
                    pm.plan().warnings().get(0));
            assertEquals(java.util.Arrays.toString(expected),
                    java.util.Arrays.toString(s.run(Map.of("pixels", x)).get("logits").toFloatArray()));
        }
    }

    private static int argmax(float[] v, int from) {
        int best = from;
        for (int i = from + 1; i < from + 10; i++) {
            if (v[i] > v[best]) {
                best = i;
            }
        }
        return best - from;
    }
}
