package dev.hedge.cli.docs;

import dev.hedge.cli.HedgeCli;
import dev.hedge.kernels.ref.RefBackend;
import dev.hedge.ops.AttrDef;
import dev.hedge.ops.Op;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import picocli.CommandLine;

/**
 * Generates documentation from the code: the supported-ops table (from {@link Op} and
 * {@link RefBackend#supportedOps()}) into {@code docs/supported-ops.md} and the README, and the CLI reference
 * (picocli's help) into the README, each between its begin/end markers.
 *
 * <p>Regenerate from the repository root with {@code mvn -q -B -o -DskipTests -pl cli -am package} and then
 * {@code java -cp cli/target/hedge.jar dev.hedge.cli.docs.Docs}. {@code DocsTest} fails while a file is stale.
 */
public final class Docs {

    public static final String OPS_BEGIN = "<!-- supported-ops:begin -->";
    public static final String OPS_END = "<!-- supported-ops:end -->";
    public static final String CLI_BEGIN = "<!-- cli-reference:begin -->";
    public static final String CLI_END = "<!-- cli-reference:end -->";
    public static final String REGENERATE = "mvn -q -B -o -DskipTests -pl cli -am package && "
            + "java -cp cli/target/hedge.jar dev.hedge.cli.docs.Docs";

    private static final Set<String> FUSION_ATTRS = Set.of("fused_activation", "fused_alpha", "fused_beta");

    private Docs() {
    }

    /** The supported-ops table and its one-line summary. */
    public static String supportedOpsTable() {
        Set<Op> runnable = RefBackend.INSTANCE.supportedOps();
        StringBuilder s = new StringBuilder();
        s.append(runnable.size()).append(" of the ").append(Op.values().length)
                .append(" ops in Hedge's vocabulary have a kernel in the Java reference backend (the fallback that "
                        + "runs everywhere). The others can be imported, converted and stored, but a model using them "
                        + "fails to plan with an error naming the node.\n\n");
        s.append("| Op | Inputs | Outputs | Attributes (default) | Fused activation | Java kernel |\n");
        s.append("|---|---|---|---|---|---|\n");
        for (Op op : Op.values()) {
            List<String> attrs = new ArrayList<>();
            for (AttrDef a : op.attrs().values()) {
                if (!FUSION_ATTRS.contains(a.name())) {
                    attrs.add(attr(a));
                }
            }
            s.append("| ").append(op.name())
                    .append(" | ").append(arity(op.minInputs(), op.maxInputs()))
                    .append(" | ").append(arity(op.minOutputs(), op.maxOutputs()))
                    .append(" | ").append(String.join(", ", attrs))
                    .append(" | ").append(op.acceptsFusedActivation() ? "yes" : "")
                    .append(" | ").append(runnable.contains(op) ? "yes" : "no")
                    .append(" |\n");
        }
        return s.toString();
    }

    private static String attr(AttrDef a) {
        String name = "`" + a.name() + "`";
        if (a.required()) {
            return name + " (required)";
        }
        Object d = a.defaultValue();
        if (d == null) {
            return name;
        }
        return name + "=" + (d instanceof String ? "\"" + d + "\"" : d);
    }

    private static String arity(int min, int max) {
        if (min == max) {
            return Integer.toString(min);
        }
        return min + "–" + (max == Op.VARIADIC ? "n" : Integer.toString(max));
    }

    /** The whole of docs/supported-ops.md. */
    public static String supportedOpsDocument() {
        return "# Supported ops\n\n"
                + "Generated from `dev.hedge.ops.Op` and `RefBackend.INSTANCE.supportedOps()` by\n"
                + "`dev.hedge.cli.docs.Docs`; do not edit by hand. Inputs and outputs give the arity\n"
                + "(`n`: any number). Attributes that changed form across ONNX opsets are normalised by the importer\n"
                + "to their newest (input) form, so they do not appear here.\n\n"
                + supportedOpsTable();
    }

    /** {@code hedge --help} and each command's help, as Markdown code blocks. */
    public static String cliReference() {
        CommandLine cl = HedgeCli.newCommandLine();
        StringBuilder s = new StringBuilder();
        s.append("```\n$ hedge --help\n").append(cl.getUsageMessage(CommandLine.Help.Ansi.OFF)).append("```\n");
        for (String name : List.of("convert", "run", "inspect", "demo", "profiles", "serve", "bench")) {
            s.append("\n```\n$ hedge ").append(name).append(" --help\n")
                    .append(cl.getSubcommands().get(name).getUsageMessage(CommandLine.Help.Ansi.OFF)).append("```\n");
        }
        return s.toString();
    }

    /** The README with both generated sections replaced by their current text. */
    public static String updateReadme(String readme) {
        return replace(replace(readme, OPS_BEGIN, OPS_END, supportedOpsTable()), CLI_BEGIN, CLI_END, cliReference());
    }

    private static String replace(String text, String begin, String end, String body) {
        int b = text.indexOf(begin);
        int e = text.indexOf(end);
        if (b < 0 || e < b) {
            throw new IllegalArgumentException("README.md lacks the markers " + begin + " ... " + end);
        }
        return text.substring(0, b + begin.length()) + "\n" + body + text.substring(e);
    }

    public static void main(String[] args) throws IOException {
        Path repo = Path.of(args.length > 0 ? args[0] : ".");
        Path ops = repo.resolve("docs/supported-ops.md");
        Files.writeString(ops, supportedOpsDocument(), StandardCharsets.UTF_8);
        Path readme = repo.resolve("README.md");
        Files.writeString(readme, updateReadme(Files.readString(readme, StandardCharsets.UTF_8)), StandardCharsets.UTF_8);
        System.out.println("wrote " + ops + " and updated " + readme);
    }
}
