package dev.hedge.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The web page in headless Chromium (Maven profile {@code browser}; set-up: server/src/test/browser/setup.sh).
 * Starts the server with an affine model, an 8x8 image model and the bundled digits-cnn example, keeps requests
 * flowing for the live chart, and
 * runs page.test.mjs (playwright-core), which checks the model list, sizes and compression report, the chart,
 * a JSON request, an error, and an uploaded image, then saves target/browser/hedge-serve-page.png.
 */
class BrowserPageTest {

    private static final Path SCRIPT_DIR = Path.of("src", "test", "browser");

    @TempDir
    Path dir;

    @Test
    void pageInHeadlessChromium() throws Exception {
        Path chromium = Path.of(System.getenv().getOrDefault("CHROMIUM", "/usr/bin/chromium"));
        Assumptions.assumeTrue(Files.isExecutable(chromium), "Chromium is not installed at " + chromium
                + ": run server/src/test/browser/setup.sh (Debian's chromium package) or set CHROMIUM");
        Assumptions.assumeTrue(Files.isDirectory(SCRIPT_DIR.resolve("node_modules/playwright-core")),
                "playwright-core is not installed: run server/src/test/browser/setup.sh");

        Path repo = dir.resolve("models");
        TestModels.write(TestModels.affine(1f), repo.resolve("affine/1/model.hedge"));
        TestModels.write(TestModels.digits8(), repo.resolve("digits/1/model.hedge"));
        // The real example too (converted and compressed on load), for the screenshot.
        Path example = Path.of(System.getProperty("hedge.repo", ".."), "examples", "digits-cnn", "model.onnx");
        if (Files.isRegularFile(example)) {
            Files.createDirectories(repo.resolve("digits-cnn/1"));
            Files.copy(example, repo.resolve("digits-cnn/1/model.onnx"));
            // compressed on load: the page shows its per-layer report like a compressed .hedge file's
            Files.writeString(repo.resolve("digits-cnn/1/convert.json"), "{\"quantize\": \"int8-dynamic\"}");
        }
        Path image = dir.resolve("row5.png");
        BufferedImage img = new BufferedImage(80, 80, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, 80, 80);
        g.setColor(Color.BLACK);
        g.fillRect(0, 50, 80, 10);
        g.dispose();
        ImageIO.write(img, "png", image.toFile());
        Path shot = Path.of("target", "browser", "hedge-serve-page.png").toAbsolutePath();
        Files.createDirectories(shot.getParent());

        try (HedgeServer s = HedgeServer.start(ServerOptions.defaults().withModels(List.of(repo))
                .withBind("127.0.0.1", 0).withPollMs(0))) {
            AtomicBoolean stop = new AtomicBoolean();
            Thread traffic = new Thread(() -> traffic(s.baseUrl(), stop), "browser-test-traffic");
            traffic.start();
            try {
                Process p = new ProcessBuilder("node", "page.test.mjs", s.baseUrl(), image.toString(), shot.toString())
                        .directory(SCRIPT_DIR.toFile()).redirectErrorStream(true).start();
                String out;
                boolean done = p.waitFor(180, TimeUnit.SECONDS);
                out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                if (!done) {
                    p.destroyForcibly();
                }
                System.out.print(out);
                assertTrue(done, "the browser test finished in time");
                assertEquals(0, p.exitValue(), out);
                assertTrue(Files.size(shot) > 10_000, "screenshot written: " + shot);
            } finally {
                stop.set(true);
                traffic.join();
            }
        }
    }

    private static void traffic(String base, AtomicBoolean stop) {
        HttpClient c = HttpClient.newHttpClient();
        HttpRequest req = HttpRequest.newBuilder(URI.create(base + "/v2/models/affine/infer"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"inputs\":[{\"name\":\"x\",\"shape\":[1,4],"
                        + "\"datatype\":\"FP32\",\"data\":[1,2,3,4]}]}")).build();
        while (!stop.get()) {
            try {
                c.send(req, HttpResponse.BodyHandlers.discarding());
                Thread.sleep(20);
            } catch (IOException | InterruptedException e) {
                return;
            }
        }
    }
}
