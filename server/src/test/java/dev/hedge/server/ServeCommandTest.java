package dev.hedge.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The {@code serve} command line: options, defaults, errors, and a start-to-stop run. */
class ServeCommandTest {

    @TempDir
    Path dir;

    private record Run(int code, String out, String err) {
    }

    private static CommandLine cli(ServeCommand cmd, StringWriter out, StringWriter err) {
        CommandLine cl = new CommandLine(cmd);
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        return cl;
    }

    private static Run run(ServeCommand cmd, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = cli(cmd, out, err).execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void optionsMapToServerOptions() throws Exception {
        Path model = TestModels.write(TestModels.affine(1f), dir.resolve("affine.hedge"));
        ServeCommand cmd = new ServeCommand();
        new CommandLine(cmd).parseArgs("--port", "0", "--workers", "3", "--max-queue", "5", "--max-body-bytes",
                "4096", "--timeout-ms", "250", "--batch-max", "4", "--batch-delay-ms", "2", "--poll-ms", "0",
                "--model-name", "digits", model.toString());
        ServerOptions o = cmd.options();
        assertEquals(List.of(model), o.models());
        assertEquals("127.0.0.1", o.host());
        assertEquals(0, o.port());
        assertEquals(3, o.workers());
        assertEquals(5, o.maxQueue());
        assertEquals(4096, o.maxBodyBytes());
        assertEquals(250, o.timeoutMs());
        assertEquals(4, o.batchMax());
        assertEquals(2, o.batchDelayMs());
        assertEquals(0, o.pollMs());
        assertEquals("digits", o.modelName());

        ServeCommand defaults = new ServeCommand(() -> model);
        new CommandLine(defaults).parseArgs();
        assertEquals(List.of(model), defaults.options().models(), "no model argument: the bundled example");
        assertEquals(8080, defaults.options().port());
        // default: the host's profile as 'hedge profiles detect' picks it, its backends in its order; the cores
        // shared out among the workers
        var picked = dev.hedge.profiles.host.ProfileSelector.host().picked();
        ServerOptions d = defaults.options();
        assertEquals(picked, d.conversion().profile());
        assertEquals(picked == null ? dev.hedge.runtime.RuntimeOptions.defaults().describe()
                : dev.hedge.runtime.RuntimeOptions.defaults().withBackendOrder(picked.backends()).describe(),
                d.runtime().describe());
        assertEquals(Math.max(1, Runtime.getRuntime().availableProcessors() / d.workers()), d.runtime().threads());
        assertEquals("auto", d.conversion().compress());
        assertTrue(d.conversion().cacheDir().endsWith(Path.of("hedge", "serve")), d.conversion().toString());

        ServeCommand none = new ServeCommand(() -> model);
        new CommandLine(none).parseArgs("--profile", "none", "--cache-dir", "none");
        assertEquals(dev.hedge.runtime.RuntimeOptions.defaults().describe(), none.options().runtime().describe());
        assertEquals(null, none.options().conversion().profile());
        assertEquals(null, none.options().conversion().cacheDir());

        ServeCommand npu = new ServeCommand(() -> model);
        new CommandLine(npu).parseArgs("--profile", "microcontroller", "--compress", "INT8-Dynamic", "--cache-dir",
                dir.resolve("c").toString());
        ServerOptions n = npu.options();
        assertEquals("microcontroller", n.conversion().profile().name());
        assertEquals("int8-dynamic", n.conversion().compress());
        assertEquals(dir.resolve("c"), n.conversion().cacheDir());
        assertEquals(dev.hedge.runtime.RuntimeOptions.defaults().withBackendOrder(n.conversion().profile().backends())
                .describe(), n.runtime().describe());

        ServeCommand java = new ServeCommand(() -> model);
        new CommandLine(java).parseArgs("--backend", "java", "--threads", "3");
        assertEquals("java", java.options().runtime().describe());
        assertEquals(3, java.options().runtime().threads());
    }

    @Test
    void badOptionsAreUsageErrors() throws Exception {
        Path model = TestModels.write(TestModels.affine(1f), dir.resolve("affine.hedge"));
        Run r = run(new ServeCommand(), "--workers", "0", model.toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--workers must be >= 1"), r.err());
        r = run(new ServeCommand());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("give a model"), r.err());
        r = run(new ServeCommand(), "--host", "0.0.0.0", "--port", "0", model.toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--token-file"), r.err());
        r = run(new ServeCommand(), dir.resolve("missing.onnx").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("no such file"), r.err());
        r = run(new ServeCommand(), "--compress", "int9", model.toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--compress int9: expected auto, none, int8-dynamic"), r.err());
        r = run(new ServeCommand(), "--profile", "toaster", model.toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("no profile 'toaster'"), r.err());
        r = run(new ServeCommand(), "--backend", "cuda", model.toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("unknown backend 'cuda'"), r.err());
    }

    @Test
    void aModelThatFailsToLoadIsAnError() throws Exception {
        Path bad = Files.write(dir.resolve("bad.hedge"), new byte[] {1, 2, 3});
        ServeCommand cmd = new ServeCommand();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = cli(cmd, out, err);
        int code = cl.execute("--port", "0", bad.toString());
        assertNotEquals(0, code);
        assertTrue(err.toString().contains("failed to load"), err.toString());
    }

    @Test
    void aTakenPortIsAnError() throws Exception {
        Path model = TestModels.write(TestModels.affine(1f), dir.resolve("affine.hedge"));
        try (HedgeServer first = HedgeServer.start(ServerOptions.defaults().withModels(List.of(model))
                .withBind("127.0.0.1", 0).withPollMs(0))) {
            Run r = run(new ServeCommand(), "--port", Integer.toString(first.port()), "--poll-ms", "0",
                    model.toString());
            assertNotEquals(0, r.code());
            assertTrue(r.err().toLowerCase(java.util.Locale.ROOT).contains("address already in use"), r.err());
            assertEquals(0, HealthCheck.check(first.baseUrl() + "/v2/health/ready"), "the first server still serves");
        }
    }

    @Test
    void servesUntilStopped() throws Exception {
        Path model = TestModels.write(TestModels.affine(1f), dir.resolve("affine.hedge"));
        ServeCommand cmd = new ServeCommand();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = cli(cmd, out, err);
        CompletableFuture<Integer> code = CompletableFuture.supplyAsync(() -> cl.execute("--port", "0", "--poll-ms",
                "0", model.toString()));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (cmd.running() == null && System.nanoTime() < deadline && !code.isDone()) {
            Thread.sleep(10);
        }
        HedgeServer s = cmd.running();
        assertTrue(s != null, "started: " + err);
        assertEquals(0, HealthCheck.check(s.baseUrl() + "/v2/health/ready"));
        String summary = out.toString();
        assertTrue(summary.startsWith("hedge serve: http://127.0.0.1:" + s.port()), summary);
        assertTrue(summary.contains("affine v1"), summary);
        assertTrue(summary.contains("READY"), summary);
        s.close();
        assertEquals(0, code.get(30, TimeUnit.SECONDS));
    }
}
