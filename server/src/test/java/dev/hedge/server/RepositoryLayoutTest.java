package dev.hedge.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** How paths become model names and versions, and what is refused. */
@ExtendWith(VertxExtension.class)
class RepositoryLayoutTest {

    @TempDir
    Path dir;

    private static String index(Http http) {
        JsonArray a = http.post("/v2/repository/index", new JsonObject()).jsonArray();
        return a.stream().map(o -> (JsonObject) o).map(o -> o.getString("name") + ":" + o.getString("version") + ":"
                + o.getString("state")).collect(Collectors.joining(" "));
    }

    @Test
    void layoutsAndNames(Vertx vertx) throws Exception {
        Path repo = dir.resolve("repo");
        TestModels.write(TestModels.affine(1f), repo.resolve("versioned/1/model.hedge"));
        TestModels.write(TestModels.affine(1f), repo.resolve("versioned/3/other.hedge"));
        TestModels.write(TestModels.affine(1f), repo.resolve("flat/model.hedge"));
        TestModels.write(TestModels.affine(1f), repo.resolve("loose.hedge"));
        TestModels.write(TestModels.affine(1f), repo.resolve(".hidden/1/model.hedge"));
        TestModels.write(TestModels.affine(1f), repo.resolve("bad name/1/model.hedge"));
        Files.writeString(repo.resolve("versioned/1/.model.hedge.tmp"), "partial write");
        Path single = TestModels.write(TestModels.affine(1f), dir.resolve("digits-cnn/model.hedge"));
        Path stem = TestModels.write(TestModels.affine(1f), dir.resolve("other/classifier.hedge"));
        try (HedgeServer s = HedgeServer.start(ServerOptions.defaults().withModels(List.of(repo, single, stem))
                .withBind("127.0.0.1", 0).withPollMs(0))) {
            Http http = new Http(vertx, s.port());
            assertEquals("classifier:1:READY digits-cnn:1:READY flat:1:READY loose:1:READY versioned:1:READY "
                    + "versioned:3:READY", index(http));
            http.close();
        }
        try (HedgeServer s = HedgeServer.start(ServerOptions.defaults().withModels(List.of(single))
                .withModelName("digits").withBind("127.0.0.1", 0).withPollMs(0))) {
            Http http = new Http(vertx, s.port());
            assertEquals("digits:1:READY", index(http));
            http.close();
        }
    }

    @Test
    void refusedArguments() throws Exception {
        Path a = TestModels.write(TestModels.affine(1f), dir.resolve("a/model.hedge"));
        Path b = TestModels.write(TestModels.affine(1f), dir.resolve("b/a.hedge"));
        Path c = TestModels.write(TestModels.affine(1f), dir.resolve("c/a.hedge"));
        Path text = Files.writeString(dir.resolve("notes.txt"), "hi");
        assertTrue(thrown(List.of(b, c), null).contains("two models would be named 'a'"));
        assertTrue(thrown(List.of(text), null).contains("not a model file"));
        assertTrue(thrown(List.of(dir.resolve("missing")), null).contains("no such file"));
        assertTrue(thrown(List.of(a, b), "x").contains("--model-name needs exactly one"));
        assertTrue(thrown(List.of(dir), "x").contains("is a repository"));
        assertTrue(thrown(List.of(a), "../x").contains("not allowed"));
    }

    private String thrown(List<Path> models, String name) {
        return assertThrows(IllegalArgumentException.class, () -> HedgeServer.start(ServerOptions.defaults()
                .withModels(models).withModelName(name).withBind("127.0.0.1", 0).withPollMs(0))).getMessage();
    }

    @Test
    void shapesNeedingTooMuchWorkingMemoryAre400(Vertx vertx) throws Exception {
        Path file = TestModels.write(TestModels.affine(1f), dir.resolve("affine.hedge"));
        try (HedgeServer s = HedgeServer.start(ServerOptions.defaults().withModels(List.of(file))
                .withBind("127.0.0.1", 0).withPollMs(0).withMaxArenaBytes(4096))) {
            Http http = new Http(vertx, s.port());
            String small = "{\"inputs\":[{\"name\":\"x\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[1,2,3,4]}]}";
            assertEquals(200, http.post("/v2/models/affine/infer", small).status());
            JsonArray data = new JsonArray();
            for (int i = 0; i < 4 * 1000; i++) {
                data.add(0);
            }
            Http.Resp r = http.post("/v2/models/affine/infer", new JsonObject().put("inputs", new JsonArray().add(
                    new JsonObject().put("name", "x").put("shape", new JsonArray().add(1000).add(4))
                            .put("datatype", "FP32").put("data", data))));
            assertEquals(400, r.status(), r.text());
            assertTrue(r.error().contains("--max-arena-bytes"), r.error());
            http.close();
        }
    }
}
