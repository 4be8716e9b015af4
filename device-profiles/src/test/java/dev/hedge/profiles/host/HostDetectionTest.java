package dev.hedge.profiles.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hedge.profiles.Profiles;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

class HostDetectionTest {

    private static final String XEON = String.join("\n",
            "processor\t: 0",
            "vendor_id\t: GenuineIntel",
            "model name\t: Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz",
            "flags\t\t: fpu vme sse sse2 ssse3 fma sse4_1 sse4_2 avx f16c avx2 avx512f avx512dq avx512cd avx512bw "
                    + "avx512vl avx512_vnni",
            "",
            "processor\t: 1",
            "flags\t\t: fpu sse");
    private static final String HASWELL = "model name : Intel(R) Core(TM) i7-4770\nflags : fpu sse sse2 avx fma avx2\n";
    private static final String OLD_X86 = "model name : Intel(R) Core(TM)2 Duo\nflags : fpu sse sse2 ssse3\n";
    private static final String PI4 = String.join("\n",
            "processor\t: 0",
            "BogoMIPS\t: 108.00",
            "Features\t: fp asimd evtstrm crc32 cpuid",
            "CPU implementer\t: 0x41",
            "CPU part\t: 0xd08");
    private static final String A76 = "Features : fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp "
            + "cpuid asimdrdm lrcpc dcpop asimddp\nCPU part : 0xd0b\n";

    private static ProfileSelector.Selection pick(String cpuinfo, String arch) {
        HostInfo h = HostInfo.parse(cpuinfo, "Linux", arch, 4);
        return ProfileSelector.select(h, Profiles.builtIn(), device -> "no " + device + " here");
    }

    @Test
    void parsesX86FlagsOfTheFirstProcessor() {
        HostInfo h = HostInfo.parse(XEON, "Linux", "x86_64", 2);
        assertTrue(h.features().contains("avx512_vnni"));
        assertTrue(h.features().contains("avx2"));
        assertEquals("Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz", h.cpuModel());
        assertEquals("/proc/cpuinfo", h.source());
    }

    @Test
    void parsesArm64FeaturesAndNamesTheCore() {
        HostInfo h = HostInfo.parse(PI4, "Linux", "aarch64", 4);
        assertTrue(h.features().contains("asimd"));
        assertFalse(h.features().contains("asimddp"));
        assertEquals("Arm CPU part 0xd08 (Cortex-A72)", h.cpuModel());
    }

    @Test
    void picksTheMostSpecificMatchingProfile() {
        ProfileSelector.Selection s = pick(XEON, "x86_64");
        assertEquals("x86-64-avx512-vnni", s.picked().name());
        assertTrue(s.why().contains("all 6 features it requires (avx2 fma avx512f avx512bw avx512vl avx512_vnni)"),
                s.why());
        assertTrue(s.why().contains("x86-64-avx2"), s.why());
        assertEquals("x86-64-avx2", pick(HASWELL, "x86_64").picked().name());
        assertEquals("x86-64-generic", pick(OLD_X86, "x86_64").picked().name());
        assertEquals("arm64-neon", pick(PI4, "aarch64").picked().name());
        assertEquals("arm64-dotprod", pick(A76, "aarch64").picked().name());
    }

    @Test
    void explainsEveryProfileItDidNotPick() {
        ProfileSelector.Selection s = pick(HASWELL, "x86_64");
        String vnni = s.verdicts().stream().filter(v -> v.profile().name().equals("x86-64-avx512-vnni"))
                .findFirst().orElseThrow().reason();
        assertEquals("the host lacks avx512f, avx512bw, avx512vl, avx512_vnni", vnni);
        String mali = s.verdicts().stream().filter(v -> v.profile().name().equals("arm-mali-gpu"))
                .findFirst().orElseThrow().reason();
        assertEquals("for aarch64, the host is x86_64", mali);
    }

    @Test
    void anAcceleratorProfileWinsOnlyWhenItsDeviceIsPresent() {
        HostInfo h = HostInfo.parse(A76, "Linux", "aarch64", 4);
        ProfileSelector.Selection with = ProfileSelector.select(h, Profiles.builtIn(),
                d -> d.equals("GpuAcc") ? null : "absent");
        assertEquals("arm-mali-gpu", with.picked().name());
        ProfileSelector.Selection without = ProfileSelector.select(h, Profiles.builtIn(), d -> "absent");
        assertEquals("arm64-dotprod", without.picked().name());
        // the reference device never makes its profile the pick
        ProfileSelector.Selection ref = ProfileSelector.select(h, Profiles.builtIn(), d -> null);
        assertFalse(ref.picked().name().equals("armnn-cpuref"));
    }

    @Test
    void withoutFlagsOnlyTheBaselineIsAssumed() {
        HostInfo h = HostInfo.parse("processor : 0\n", "Linux", "x86_64", 1);
        assertEquals(java.util.Set.of("sse2"), h.features());
        assertTrue(h.source().contains("lists no flags; assumed the x86_64 baseline"), h.source());
        assertEquals("x86-64-generic", ProfileSelector.select(h, Profiles.builtIn(), d -> "absent").picked().name());
        HostInfo riscv = HostInfo.parse("isa : rv64imafdc\n", "Linux", "riscv64", 1);
        assertNull(ProfileSelector.select(riscv, Profiles.builtIn(), d -> "absent").picked());
    }

    /** This machine (Xeon / EPYC with AVX-512 VNNI) must pick the VNNI profile from its real /proc/cpuinfo. */
    @Test
    void thisHostPicksFromItsRealCpuinfo() throws Exception {
        Path p = Path.of("/proc/cpuinfo");
        Assumptions.assumeTrue(Files.isReadable(p), "no /proc/cpuinfo");
        HostInfo h = HostInfo.detect();
        Assumptions.assumeTrue(h.features().contains("avx512_vnni"), "host without AVX-512 VNNI");
        assertEquals("x86-64-avx512-vnni", ProfileSelector.select(h, Profiles.builtIn()).picked().name());
    }
}
