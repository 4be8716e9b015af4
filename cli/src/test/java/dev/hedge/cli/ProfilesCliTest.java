package dev.hedge.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hedge.profiles.Profiles;
import dev.hedge.profiles.host.HostInfo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProfilesCliTest {

    static final Path MODEL = Path.of(System.getProperty("hedge.repo", "..")).resolve("examples/digits-cnn/model.onnx");

    @Test
    void listsEveryBuiltInProfile() {
        Cli r = Cli.run("profiles");
        assertEquals(0, r.exit(), r.transcript());
        for (String n : Profiles.BUILT_IN) {
            assertTrue(r.out().lines().anyMatch(l -> l.startsWith(n + " ")), n + "\n" + r.transcript());
        }
        assertTrue(r.out().contains("128 KiB"), r.transcript());
    }

    @Test
    void detectPrintsFeaturesLibrariesAndThePick() {
        Cli r = Cli.run("profiles", "detect");
        assertEquals(0, r.exit(), r.transcript());
        assertTrue(r.out().contains("cpu features ("), r.transcript());
        for (String lib : new String[] {"  native ", "  openblas ", "  armnn "}) {
            assertTrue(r.out().contains(lib), lib + "\n" + r.transcript());
        }
        assertTrue(r.out().contains("models run on: ") && r.out().contains("> java, "), r.transcript());
        Assumptions.assumeTrue(HostInfo.detect().features().contains("avx512_vnni"), "host without AVX-512 VNNI");
        assertTrue(r.out().contains("picked: x86-64-avx512-vnni: the host has all 6 features it requires"),
                r.transcript());
    }

    @Test
    void aBadProfileFileExitsTwoNamingTheField(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("board.json");
        String json = new String(Profiles.class.getResourceAsStream("arm64-neon.json").readAllBytes())
                .replace("\"threads\": 4", "\"threads\": -4");
        Files.writeString(f, json);
        Cli r = Cli.run("profiles", "show", f);
        assertEquals(2, r.exit(), r.transcript());
        assertEquals("error: profile " + f + ": field 'threads' must be in [0, 1024], got -4\n", r.err());
        Cli c = Cli.run("convert", MODEL, "-o", dir.resolve("m.hedge"), "--profile", f);
        assertEquals(2, c.exit(), c.transcript());
        assertTrue(c.err().contains("field 'threads'"), c.transcript());
    }

    @Test
    void convertForTheMicrocontrollerWithAnArenaOverBudgetFailsWithBothNumbers(@TempDir Path dir) {
        Path out = dir.resolve("m.hedge");
        Cli r = Cli.run("convert", MODEL, "-o", out, "--profile", "microcontroller", "--input-shape",
                "pixels=64,1,8,8");
        assertEquals(2, r.exit(), r.transcript());
        assertTrue(r.err().matches("error: model does not fit profile microcontroller: the planned arena takes "
                + "[0-9,]+ bytes at input shapes \\[64, 1, 8, 8\\], over the 131,072-byte budget of microcontroller "
                + "\\(memory.arenaBytes\\) \\(and 4 more violations, listed above\\); nothing written\n"),
                r.transcript());
        assertTrue(r.out().contains("violation: the planned arena takes"), r.transcript());
        assertFalse(Files.exists(out));
    }

    @Test
    void convertForACpuProfileReportsPlacementAndRecordsTheProfile(@TempDir Path dir) throws IOException {
        Path out = dir.resolve("m.hedge");
        Cli r = Cli.run("convert", MODEL, "-o", out, "--profile", "x86-64-avx512-vnni");
        assertEquals(0, r.exit(), r.transcript());
        assertTrue(r.out().contains("target x86-64-avx512-vnni: weights"), r.transcript());
        assertTrue(r.out().contains("placement for profile x86-64-avx512-vnni: 7 nodes, 0 on accelerators"),
                r.transcript());
        try (dev.hedge.runtime.Model m = dev.hedge.runtime.Model.load(out)) {
            assertEquals("x86-64-avx512-vnni", m.metadata().get("target.profile"));
        }
    }

    @Test
    void convertAFloatModelForTheNpuIsRefused(@TempDir Path dir) {
        Cli r = Cli.run("convert", MODEL, "-o", dir.resolve("m.hedge"), "--profile", "arm-ethos-n-npu");
        assertEquals(2, r.exit(), r.transcript());
        assertTrue(r.err().startsWith("error: model does not fit profile arm-ethos-n-npu: weights"), r.transcript());
        assertTrue(r.out().contains("FLOAT32 weights; arm-ethos-n-npu takes [INT8]"), r.transcript());
        assertTrue(r.out().contains("allows no CPU fallback (allow it with --allow-cpu-fallback)"), r.transcript());
    }
}
