package dev.hedge.cli;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import picocli.CommandLine;

/** Runs the hedge command in-process and captures what it printed. */
record Cli(int exit, String out, String err) {

    static Cli run(Object... args) {
        String[] a = new String[args.length];
        for (int i = 0; i < args.length; i++) {
            a[i] = args[i] instanceof Path ? args[i].toString() : (String) args[i];
        }
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = HedgeCli.newCommandLine();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute(a);
        return new Cli(code, out.toString(), err.toString());
    }

    /** For assertion messages. */
    String transcript() {
        return "exit " + exit + "\n--- stdout\n" + out + "--- stderr\n" + err;
    }

    long errLines() {
        return err.lines().count();
    }
}
