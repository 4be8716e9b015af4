package dev.hedge.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.util.Properties;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.IVersionProvider;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.Spec;

/**
 * The {@code hedge} command. Exit codes: 0 success, 2 bad input or unsupported model (usage errors, missing
 * or malformed files, models Hedge cannot run), 1 any other failure. Errors are one line on stderr; stack
 * traces only with {@code --verbose}.
 */
@Command(name = "hedge", mixinStandardHelpOptions = true, versionProvider = HedgeCli.Version.class,
        description = "Hedge: an edge-inference runtime for Java that imports ONNX, converts it to its own "
                + ".hedge format and runs it with planned memory.",
        subcommands = {ConvertCommand.class, RunCommand.class, InspectCommand.class, DemoCommand.class,
                ProfilesCommand.class, ServeCommand.class, BenchCommand.class,
                CommandLine.HelpCommand.class},
        synopsisSubcommandLabel = "COMMAND",
        footer = {"", "Exit codes: 0 ok, 2 bad input or unsupported model, 1 other failures.",
                "Run 'hedge COMMAND --help' for a command's options."})
public final class HedgeCli implements Runnable {

    @Spec
    CommandSpec spec;

    @Option(names = "--verbose", scope = ScopeType.INHERIT,
            description = "Print stack traces with errors.")
    boolean verbose;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(),
                "missing command (convert, run, inspect, demo, profiles, serve, bench)");
    }

    public static void main(String[] args) {
        System.exit(newCommandLine().execute(args));
    }

    /** A configured command line (the same one {@link #main} runs); tests call {@code execute} on it. */
    public static CommandLine newCommandLine() {
        CommandLine cl = new CommandLine(new HedgeCli());
        cl.setParameterExceptionHandler(HedgeCli::onParameterError);
        cl.setExecutionExceptionHandler(HedgeCli::onExecutionError);
        return cl;
    }

    private static int onParameterError(CommandLine.ParameterException ex, String[] args) {
        CommandLine cmd = ex.getCommandLine();
        PrintWriter err = cmd.getErr();
        err.println("error: " + Errors.oneLine(ex.getMessage()) + " (see '" + cmd.getCommandSpec().qualifiedName()
                + " --help')");
        err.flush();
        return Errors.BAD_INPUT;
    }

    private static int onExecutionError(Exception ex, CommandLine cmd, ParseResult parsed) {
        if (ex instanceof CommandLine.ParameterException) {
            return onParameterError((CommandLine.ParameterException) ex, new String[0]);
        }
        PrintWriter err = cmd.getErr();
        Throwable cause = Errors.unwrap(ex);
        int code = Errors.exitCode(cause);
        boolean verbose = verbose(parsed);
        String hint = code == Errors.FAILURE && !verbose ? " (run with --verbose for the stack trace)" : "";
        err.println("error: " + Errors.oneLine(Errors.message(cause)) + hint);
        if (verbose) {
            cause.printStackTrace(err);
        }
        err.flush();
        return code;
    }

    private static boolean verbose(ParseResult parsed) {
        for (ParseResult p = parsed; p != null; p = p.subcommand()) {
            if (p.hasMatchedOption("--verbose")) {
                return true;
            }
        }
        return false;
    }

    /** The version the build stamped into {@code version.properties}. */
    static final class Version implements IVersionProvider {
        @Override
        public String[] getVersion() throws IOException {
            return new String[] {"hedge " + version(),
                    "Java " + System.getProperty("java.version") + " (" + System.getProperty("java.vendor") + "), "
                            + System.getProperty("os.name") + " " + System.getProperty("os.arch")};
        }
    }

    static String version() throws IOException {
        Properties p = new Properties();
        try (InputStream in = HedgeCli.class.getResourceAsStream("version.properties")) {
            if (in == null) {
                throw new IOException("version.properties is missing from the hedge jar");
            }
            p.load(in);
        }
        return p.getProperty("version");
    }
}
