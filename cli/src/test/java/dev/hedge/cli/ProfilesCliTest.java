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
    static final Path CALIB = MODEL.resolveSibling("calib.npy");

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
                "pixels=64,1,8,8", "--calib", CALIB);
        assertEquals(2, r.exit(), r.transcript());
        // the budget is checked on the int8 model the profile asks for, not on the float import
        assertEquals("error: compressed model does not fit profile microcontroller: the planned arena takes 196,608 "
                + "bytes at input shapes [64, 1, 8, 8], over the 131,072-byte budget of microcontroller "
                + "(memory.arenaBytes); nothing written\n", r.err(), r.transcript());
        assertTrue(r.out().contains("violation: the planned arena takes"), r.transcript());
        assertFalse(Files.exists(out));
        assertEquals(0, dir.toFile().list().length, "no temporary file left behind");
    }

    @Test
    void aFullIntegerProfileNeedsCalibrationData(@TempDir Path dir) {
        Cli r = Cli.run("convert", MODEL, "-o", dir.resolve("m.hedge"), "--profile", "microcontroller");
        assertEquals(2, r.exit(), r.transcript());
        assertEquals("error: profile microcontroller runs full-integer int8 models only: static int8 needs "
                + "calibration data (--calib FILE.npy or a directory of samples)\n", r.err());
        Cli q = Cli.run("convert", MODEL, "-o", dir.resolve("m.hedge"), "--profile", "arm-ethos-n-npu",
                "--quantize", "fp16", "--calib", CALIB);
        assertEquals(2, q.exit(), q.transcript());
        assertTrue(q.err().startsWith("error: --quantize fp16 does not suit profile arm-ethos-n-npu"), q.transcript());
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
    void theNpuProfileQuantizesEveryWeightPerTensorAndRefusesCpuFallbackUnlessAllowed(@TempDir Path dir)
            throws IOException {
        Path out = dir.resolve("m.hedge");
        Cli refused = Cli.run("convert", MODEL, "-o", out, "--profile", "arm-ethos-n-npu", "--calib", CALIB);
        assertEquals(2, refused.exit(), refused.transcript());
        assertTrue(refused.err().startsWith("error: compressed model does not fit profile arm-ethos-n-npu: 2 nodes "
                + "cannot run on armnn:EthosNAcc and arm-ethos-n-npu allows no CPU fallback"), refused.transcript());
        // only the float input's QuantizeLinear and the output's DequantizeLinear: the pooling and Flatten between
        // the int8 layers run int8 too
        assertTrue(refused.out().contains("CPU-fallback nodes (2): "), refused.transcript());
        assertFalse(Files.exists(out));

        Cli r = Cli.run("convert", MODEL, "-o", out, "--profile", "arm-ethos-n-npu", "--calib", CALIB,
                "--allow-cpu-fallback");
        assertEquals(0, r.exit(), r.transcript());
        try (dev.hedge.runtime.Model m = dev.hedge.runtime.Model.load(out)) {
            dev.hedge.ir.Graph g = m.definition().graph();
            int weights = 0;
            for (dev.hedge.ir.Node n : g.nodes()) {
                if (n.op() == dev.hedge.ops.Op.QLinearConv || n.op() == dev.hedge.ops.Op.QLinearMatMul) {
                    String w = n.inputs().get(3);
                    dev.hedge.runtime.Tensor t = g.initializers().get(w);
                    assertEquals(dev.hedge.runtime.DType.INT8, t.dtype(), w);
                    assertEquals(1, g.initializers().get(n.inputs().get(4)).elementCount(), w + " scale per tensor");
                    dev.hedge.runtime.Tensor zp = g.initializers().get(n.inputs().get(5));
                    assertEquals(1, zp.elementCount(), w);
                    assertEquals(0, zp.data().get(0), w + " symmetric");
                    weights++;
                } else {
                    assertFalse(n.op() == dev.hedge.ops.Op.Conv || n.op() == dev.hedge.ops.Op.Gemm, n.name());
                }
            }
            assertEquals(4, weights, "3 Conv + 1 Gemm");
            assertEquals("arm-ethos-n-npu", m.metadata().get("target.profile"));
            assertTrue(m.metadata().get("target.report").contains("CPU-fallback nodes (9): "),
                    m.metadata().get("target.report"));
        }
    }
}
