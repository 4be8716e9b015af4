package dev.hedge.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonArray;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What docker/Dockerfile must give the image, checked without a Docker engine (none exists here or in CI):
 * multi-stage, pinned base images, a non-root user, the /models volume, port 8080, a health check on the
 * readiness route through a class the jar really has, and exec-form entry point and arguments.
 */
class DockerfileTest {

    private static final Path DOCKERFILE = Path.of("..", "docker", "Dockerfile");

    @TempDir
    Path dir;

    /** Instructions with continuation lines joined and comments dropped. */
    private static List<String> instructions() throws Exception {
        List<String> out = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        for (String line : Files.readAllLines(DOCKERFILE)) {
            String t = line.strip();
            if (t.startsWith("#") || (t.isEmpty() && cur.length() == 0)) {
                continue;
            }
            if (t.endsWith("\\")) {
                cur.append(t, 0, t.length() - 1).append(' ');
                continue;
            }
            cur.append(t);
            if (cur.length() > 0) {
                out.add(cur.toString().replaceAll("\\s+", " ").strip());
            }
            cur.setLength(0);
        }
        return out;
    }

    private static List<String> all(List<String> ins, String keyword) {
        return ins.stream().filter(i -> i.startsWith(keyword + " ")).toList();
    }

    @Test
    void multiStageWithPinnedBasesAndABuildOnTheBuildPlatform() throws Exception {
        List<String> froms = all(instructions(), "FROM");
        assertTrue(froms.size() >= 2, "multi-stage: " + froms);
        Pattern image = Pattern.compile("FROM (?:--platform=\\S+ )?([^\\s:@]+)(?::([^\\s@]+))?(?:@\\S+)?(?: AS \\S+)?",
                Pattern.CASE_INSENSITIVE);
        for (String f : froms) {
            Matcher m = image.matcher(f);
            assertTrue(m.matches(), f);
            assertTrue(m.group(2) != null && !m.group(2).equals("latest"), "pinned tag: " + f);
        }
        assertTrue(froms.get(0).contains("--platform=$BUILDPLATFORM"), "the jar is built once, natively");
        assertFalse(froms.get(froms.size() - 1).contains("--platform"), "the runtime stage is per target platform");
    }

    @Test
    void runsAsNonRootWithModelsVolumeAndPort() throws Exception {
        List<String> ins = instructions();
        int lastFrom = 0;
        for (int i = 0; i < ins.size(); i++) {
            if (ins.get(i).startsWith("FROM ")) {
                lastFrom = i;
            }
        }
        List<String> runtime = ins.subList(lastFrom, ins.size());
        List<String> users = all(runtime, "USER");
        assertEquals(1, users.size(), users.toString());
        String uid = users.get(0).substring(5).split(":")[0];
        assertNotEquals("0", uid);
        assertNotEquals("root", uid);
        assertTrue(all(runtime, "VOLUME").stream().anyMatch(v -> v.contains("\"/models\"")));
        assertTrue(all(runtime, "EXPOSE").stream().anyMatch(v -> v.equals("EXPOSE 8080")));
    }

    @Test
    void healthCheckProbesReadinessWithAClassTheJarHas() throws Exception {
        List<String> hc = all(instructions(), "HEALTHCHECK");
        assertEquals(1, hc.size());
        String cmd = hc.get(0).substring(hc.get(0).indexOf("CMD ") + 4);
        JsonArray argv = new JsonArray(cmd);
        assertTrue(argv.contains(HealthCheck.class.getName()), cmd);
        assertTrue(argv.getString(argv.size() - 1).endsWith("/v2/health/ready"), cmd);
        assertTrue(hc.get(0).contains("--start-period="), "model loading gets time before checks count");
    }

    @Test
    void execFormEntryPointServesTheModelsVolume() throws Exception {
        List<String> ins = instructions();
        JsonArray entry = new JsonArray(all(ins, "ENTRYPOINT").get(0).substring("ENTRYPOINT ".length()));
        assertEquals("serve", entry.getString(entry.size() - 1));
        JsonArray cmd = new JsonArray(all(ins, "CMD").get(all(ins, "CMD").size() - 1).substring(4));
        assertEquals("/models", cmd.getString(0));
        assertTrue(cmd.contains("--token-file"), "beyond loopback the default needs a token");
    }

    @Test
    void healthCheckClassAnswers() throws Exception {
        TestModels.write(TestModels.affine(1f), dir.resolve("affine.hedge"));
        try (HedgeServer s = HedgeServer.start(ServerOptions.defaults().withModels(List.of(dir.resolve("affine.hedge")))
                .withBind("127.0.0.1", 0).withPollMs(0))) {
            assertEquals(0, HealthCheck.check(s.baseUrl() + "/v2/health/ready"));
            assertEquals(1, HealthCheck.check(s.baseUrl() + "/v2/models/nosuch/ready"));
        }
        assertEquals(1, HealthCheck.check("http://127.0.0.1:1/v2/health/ready"));
    }
}
