package dev.hedge.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Command;

/**
 * {@code hedge serve}: the server module's command ({@link dev.hedge.server.ServeCommand}); with no model
 * argument it serves the bundled example, extracted to a temporary {@code digits-cnn/model.onnx} so that the
 * model is named {@code digits-cnn}.
 */
@Command(name = "serve")
final class ServeCommand extends dev.hedge.server.ServeCommand {

    ServeCommand() {
        super(ServeCommand::bundledExample);
    }

    private static Path bundledExample() {
        try (InputStream in = ServeCommand.class.getResourceAsStream(DemoCommand.RESOURCES + "model.onnx")) {
            if (in == null) {
                throw new IllegalStateException("the bundled example model is missing from the hedge jar");
            }
            Path dir = Files.createTempDirectory("hedge-serve-example");
            Path model = Files.createDirectories(dir.resolve("digits-cnn")).resolve("model.onnx");
            Files.copy(in, model);
            model.toFile().deleteOnExit();
            model.getParent().toFile().deleteOnExit();
            dir.toFile().deleteOnExit();
            return model;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
