package dev.hedge.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hedge.io.Npy;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Tensor;
import dev.hedge.server.HedgeServer;
import dev.hedge.server.ServerOptions;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code hedge serve}: the bundled example by default, and the same numbers as {@code hedge run}. */
class ServeTest {

    @TempDir
    Path dir;

    @Test
    void helpAndUsageErrors() {
        Cli help = Cli.run("serve", "--help");
        assertEquals(0, help.exit(), help.transcript());
        assertTrue(help.out().contains("Open Inference Protocol"), help.transcript());
        Cli open = Cli.run("serve", "--host", "0.0.0.0", "--port", "0", CliTest.ONNX);
        assertEquals(2, open.exit(), open.transcript());
        assertTrue(open.err().contains("--token-file"), open.transcript());
        Cli missing = Cli.run("serve", dir.resolve("missing.onnx"));
        assertEquals(2, missing.exit(), missing.transcript());
    }

    /** With no model argument the bundled example is served, named digits-cnn, and answers like hedge run. */
    @Test
    void bundledExampleAnswersLikeHedgeRun() throws Exception {
        Tensor all = Npy.read(CliTest.TEST_X);
        int[] shape = all.shape();
        shape[0] = 1;
        int bytes = all.byteSize() / all.dim(0);
        Tensor sample = Tensor.wrap(DType.FLOAT32, shape, all.data().slice(7 * bytes, bytes));
        Path npy = dir.resolve("sample.npy");
        Npy.write(sample, npy);
        // the same thread count on both sides: kernel choice (and so float rounding) may depend on it
        Cli run = Cli.run("run", CliTest.ONNX, "-i", "pixels=" + npy, "-o", dir.resolve("out"), "--threads", "1");
        assertEquals(0, run.exit(), run.transcript());
        float[] expected = Npy.read(dir.resolve("out/logits.npy")).toFloatArray();

        ServeCommand serve = new ServeCommand();
        new CommandLine(serve).parseArgs("--port", "0", "--poll-ms", "0", "--threads", "1");
        ServerOptions o = serve.options();
        assertEquals(1, o.models().size());
        assertTrue(o.models().get(0).endsWith(Path.of("digits-cnn", "model.onnx")), o.models().toString());
        assertEquals(Files.size(CliTest.ONNX), Files.size(o.models().get(0)));
        try (HedgeServer s = HedgeServer.start(o)) {
            ObjectMapper json = new ObjectMapper();
            ObjectNode in = json.createObjectNode().put("name", "pixels").put("datatype", "FP32");
            in.putArray("shape").add(1).add(1).add(8).add(8);
            ArrayNode data = in.putArray("data");
            for (float v : sample.toFloatArray()) {
                data.add(v);
            }
            ObjectNode req = json.createObjectNode();
            req.putArray("inputs").add(in);
            HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create(s.baseUrl() + "/v2/models/digits-cnn/infer"))
                    .POST(HttpRequest.BodyPublishers.ofString(json.writeValueAsString(req))).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode(), r.body());
            JsonNode out = json.readTree(r.body()).get("outputs").get(0);
            assertEquals("logits", out.get("name").asText());
            assertEquals(List.of(1, 10), List.of(out.get("shape").get(0).asInt(), out.get("shape").get(1).asInt()));
            for (int i = 0; i < expected.length; i++) {
                float got = out.get("data").get(i).floatValue();
                assertEquals(Float.floatToIntBits(expected[i]), Float.floatToIntBits(got), "logit " + i);
            }
        }
    }
}
