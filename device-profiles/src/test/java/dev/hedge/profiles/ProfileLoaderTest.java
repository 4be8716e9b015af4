package dev.hedge.profiles;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hedge.ops.Op;
import dev.hedge.runtime.DType;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProfileLoaderTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    private static ObjectNode builtInJson(String name) throws IOException {
        try (InputStream in = Profiles.class.getResourceAsStream(name + ".json")) {
            return (ObjectNode) JSON.readTree(in);
        }
    }

    private static JsonNode schema() throws IOException {
        try (InputStream in = Profiles.class.getResourceAsStream("profile.schema.json")) {
            return JSON.readTree(in);
        }
    }

    private static ProfileException rejected(ObjectNode json) {
        return assertThrows(ProfileException.class,
                () -> ProfileLoader.parse(JSON.writeValueAsBytes(json), "test.json"));
    }

    @Test
    void everyBuiltInProfileLoadsAndTheListMatchesTheResources() throws IOException {
        List<DeviceProfile> all = Profiles.builtIn();
        assertEquals(Profiles.BUILT_IN, all.stream().map(DeviceProfile::name).toList());
        Path dir = Path.of("src/main/resources/dev/hedge/profiles");
        Set<String> files;
        try (Stream<Path> s = Files.list(dir)) {
            files = s.map(p -> p.getFileName().toString()).filter(f -> f.endsWith(".json")
                    && !f.equals("profile.schema.json")).map(f -> f.substring(0, f.length() - 5))
                    .collect(Collectors.toCollection(TreeSet::new));
        }
        assertEquals(new TreeSet<>(Profiles.BUILT_IN), files);
    }

    @Test
    void theRequiredTargetsSayWhatTheIssueAsks() {
        DeviceProfile vnni = Profiles.builtIn("x86-64-avx512-vnni");
        assertTrue(vnni.requiredFeatures().contains("avx512_vnni"));
        DeviceProfile npu = Profiles.builtIn("arm-ethos-n-npu");
        assertTrue(npu.precision().fullInteger());
        assertEquals(List.of(DeviceProfile.Granularity.PER_TENSOR), npu.precision().weightGranularity());
        assertTrue(npu.precision().weightSymmetric());
        assertEquals(Set.of(DType.INT8), npu.precision().weights());
        assertEquals("EthosNAcc", npu.accelerators().get(0).device());
        assertFalse(npu.cpuFallback());
        DeviceProfile mali = Profiles.builtIn("arm-mali-gpu");
        assertEquals("GpuAcc", mali.accelerators().get(0).device());
        assertTrue(mali.accelerators().get(0).runs(Op.Conv, DType.FLOAT32));
        assertFalse(mali.accelerators().get(0).runs(Op.LSTM, DType.FLOAT32));
        DeviceProfile mcu = Profiles.builtIn("microcontroller");
        assertTrue(mcu.precision().fullInteger());
        assertFalse(mcu.precision().perChannelAllowed());
        assertTrue(mcu.memory().arenaBytes() <= 256 * 1024);
        assertTrue(Profiles.builtIn("arm64-neon").devices().stream().anyMatch(d -> d.contains("Raspberry Pi 4")));
        assertTrue(Profiles.builtIn("arm64-dotprod").requiredFeatures().contains("asimddp"));
    }

    /** The schema's required lists and the loader agree: dropping any required field is rejected by name. */
    @Test
    void droppingAnyFieldTheSchemaRequiresIsRejectedNamingIt() throws IOException {
        JsonNode schema = schema();
        ObjectNode base = builtInJson("arm-mali-gpu");
        for (JsonNode f : schema.get("required")) {
            ObjectNode j = base.deepCopy();
            j.remove(f.asText());
            ProfileException e = rejected(j);
            assertTrue(e.getMessage().contains("field '" + f.asText() + "' is required"), e.getMessage());
        }
        for (String obj : List.of("memory", "precision", "sparsity")) {
            JsonNode req = schema.get("properties").get(obj).get("required");
            for (JsonNode f : req) {
                ObjectNode j = base.deepCopy();
                ((ObjectNode) j.get(obj)).remove(f.asText());
                ProfileException e = rejected(j);
                assertTrue(e.getMessage().contains("field '" + obj + "." + f.asText() + "' is required"),
                        e.getMessage());
            }
        }
        for (JsonNode f : schema.get("$defs").get("accelerator").get("required")) {
            ObjectNode j = base.deepCopy();
            ((ObjectNode) j.get("accelerators").get(0)).remove(f.asText());
            ProfileException e = rejected(j);
            assertTrue(e.getMessage().contains("field 'accelerators[0]." + f.asText() + "' is required"),
                    e.getMessage());
        }
    }

    @Test
    void badValuesAreRejectedNamingTheField() throws IOException {
        ObjectNode base = builtInJson("arm-mali-gpu");

        ObjectNode j = base.deepCopy();
        j.put("threads", "four");
        assertTrue(rejected(j).getMessage().contains("field 'threads' must be an integer, got \"four\""));

        j = base.deepCopy();
        j.put("treads", 4);
        assertTrue(rejected(j).getMessage().contains("field 'treads' is not a profile field"));

        j = base.deepCopy();
        ((ArrayNode) j.get("precision").get("weights")).add("float33");
        assertTrue(rejected(j).getMessage().contains("field 'precision.weights[4]' is not a dtype"),
                rejected(j).getMessage());

        j = base.deepCopy();
        ((ObjectNode) j.get("accelerators").get(0).get("ops")).putArray("Convolution").add("float32");
        assertTrue(rejected(j).getMessage().contains("field 'accelerators[0].ops.Convolution' is not an op"));

        j = base.deepCopy();
        ((ObjectNode) j.get("accelerators").get(0)).put("device", "NpuAcc");
        assertTrue(rejected(j).getMessage().contains("field 'accelerators[0].device' must be one of"));

        j = base.deepCopy();
        ((ArrayNode) j.get("backends")).add("cuda");
        assertTrue(rejected(j).getMessage().contains("field 'backends[4]' must be native, openblas, java or armnn:"));

        j = base.deepCopy();
        ((ObjectNode) j.get("memory")).put("arenaBytes", -1);
        assertTrue(rejected(j).getMessage().contains("field 'memory.arenaBytes' must be in [1, "));

        j = base.deepCopy();
        ((ObjectNode) j.get("sparsity")).put("minSparsity", 1.5);
        assertTrue(rejected(j).getMessage().contains("field 'sparsity.minSparsity' must be in [0, 1]"));

        j = base.deepCopy();
        ((ObjectNode) j.get("precision")).put("fullInteger", true);
        assertTrue(rejected(j).getMessage().contains("field 'precision.fullInteger' is true but float32"));

        j = base.deepCopy();
        j.put("name", "My Board");
        assertTrue(rejected(j).getMessage().contains("field 'name' must be lower-case"));

        j = builtInJson("x86-64-generic");
        j.put("cpuFallback", false);
        assertTrue(rejected(j).getMessage().contains("field 'cpuFallback' must be true when the profile has no "
                + "accelerator"));

        ProfileException e = assertThrows(ProfileException.class,
                () -> ProfileLoader.parse("{\"name\": \"x\",".getBytes(), "broken.json"));
        assertTrue(e.getMessage().startsWith("profile broken.json: not valid JSON"), e.getMessage());
    }

    @Test
    void aUserProfileFileIsResolvedByPath(@TempDir Path dir) throws IOException {
        ObjectNode j = builtInJson("arm64-neon");
        j.put("name", "my-board");
        ((ObjectNode) j.get("memory")).put("arenaBytes", 4096);
        Path f = dir.resolve("my-board.json");
        Files.write(f, JSON.writeValueAsBytes(j));
        DeviceProfile p = Profiles.resolve(f.toString());
        assertEquals("my-board", p.name());
        assertEquals(4096, p.memory().arenaBytes());
        assertEquals(f.toString(), p.source());

        ProfileException missing = assertThrows(ProfileException.class,
                () -> Profiles.resolve(dir.resolve("nope.json").toString()));
        assertTrue(missing.getMessage().contains("does not exist"));
        ProfileException unknown = assertThrows(ProfileException.class, () -> Profiles.resolve("raspberry"));
        assertTrue(unknown.getMessage().contains("no profile 'raspberry'; built-in profiles: x86-64-generic"));
    }
}
