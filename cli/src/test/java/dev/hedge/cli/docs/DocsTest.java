package dev.hedge.cli.docs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hedge.kernels.ref.RefBackend;
import dev.hedge.ops.Op;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** docs/supported-ops.md and the README's generated sections must match the code. */
class DocsTest {

    static final Path REPO = Path.of(System.getProperty("hedge.repo", ".."));
    static final String STALE = " is stale: regenerate it from the repository root with `" + Docs.REGENERATE + "`";

    @Test
    void supportedOpsDocIsCurrent() throws IOException {
        String onDisk = Files.readString(REPO.resolve("docs/supported-ops.md"), StandardCharsets.UTF_8);
        assertEquals(Docs.supportedOpsDocument(), onDisk, "docs/supported-ops.md" + STALE);
    }

    @Test
    void readmeSectionsAreCurrent() throws IOException {
        String readme = Files.readString(REPO.resolve("README.md"), StandardCharsets.UTF_8);
        assertEquals(Docs.updateReadme(readme), readme, "README.md" + STALE);
        assertTrue(readme.contains("<!-- conformance:begin -->") && readme.contains("<!-- conformance:end -->"),
                "the README keeps the conformance markers");
    }

    @Test
    void tableHasOneRowPerOpAndMarksKernels() {
        String t = Docs.supportedOpsTable();
        for (Op op : Op.values()) {
            String row = t.lines().filter(l -> l.startsWith("| " + op.name() + " |")).findFirst()
                    .orElseThrow(() -> new AssertionError("no row for " + op));
            boolean runnable = RefBackend.INSTANCE.supportedOps().contains(op);
            assertTrue(row.endsWith(runnable ? "| yes |" : "| no |"), row);
        }
        assertTrue(t.startsWith(RefBackend.INSTANCE.supportedOps().size() + " of the " + Op.values().length + " ops"), t);
        assertTrue(t.contains("| Conv | 2–3 | 1 | `auto_pad`=\"NOTSET\", `dilations`, `group`=1,"), t);
        assertTrue(t.contains("| Sum | 1–n | 1 |"), t);
    }

    @Test
    void cliReferenceHasEveryCommand() {
        String r = Docs.cliReference();
        for (String c : new String[] {"convert", "run", "inspect", "demo", "profiles", "serve", "bench"}) {
            assertTrue(r.contains("$ hedge " + c + " --help\nUsage: hedge " + c), r);
        }
    }
}
