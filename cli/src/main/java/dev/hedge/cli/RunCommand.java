package dev.hedge.cli;

import dev.hedge.io.Npy;
import dev.hedge.ir.ValueInfo;
import dev.hedge.profiles.DeviceProfile;
import dev.hedge.profiles.ProfileRuntime;
import dev.hedge.profiles.Profiles;
import dev.hedge.profiles.partition.PartitionedModel;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.InvalidInputException;
import dev.hedge.runtime.Model;
import dev.hedge.runtime.Session;
import dev.hedge.runtime.Tensor;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "run", mixinStandardHelpOptions = true,
        description = {"Run a model on tensors from files and write each output as <output name>.npy.",
                "Characters of an output name outside [A-Za-z0-9._-] become '_' in its file name."})
final class RunCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "MODEL",
            description = "A .hedge file, or an .onnx file (converted in memory).")
    Path modelPath;

    @Option(names = {"-i", "--input"}, paramLabel = "NAME=FILE", required = true,
            description = "An input tensor from a .npy or ONNX TensorProto .pb file (repeatable). NAME= may be "
                    + "left out when the model has a single input.")
    List<String> inputs;

    @Option(names = {"-o", "--output-dir"}, paramLabel = "DIR", required = true,
            description = "Directory for the output .npy files (created if missing).")
    Path outputDir;

    @Option(names = "--profile", paramLabel = "NAME|FILE",
            description = "Run for a device profile: its CPU backends and threads, and its accelerators (Arm NN) for "
                    + "the partitions they take; prints where each node runs and why. Accelerators missing here "
                    + "fall back to the CPU with a warning.")
    String profile;

    @Mixin
    BackendOptions backends = new BackendOptions();

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        ModelFiles.requireFile(modelPath, "a model file");
        if (Files.exists(outputDir) && !Files.isDirectory(outputDir)) {
            throw new InvalidInputException("--output-dir " + outputDir + " exists and is not a directory");
        }
        Map<String, Tensor> named = new LinkedHashMap<>();
        Tensor unnamed = null;
        for (String arg : inputs) {
            int eq = arg.indexOf('=');
            if (eq < 0) {
                if (unnamed != null || inputs.size() > 1) {
                    throw new CommandLine.ParameterException(spec.commandLine(),
                            "--input " + arg + ": give NAME=FILE when there is more than one input");
                }
                unnamed = ModelFiles.readTensor(Path.of(arg));
            } else {
                String name = arg.substring(0, eq);
                if (named.put(name, ModelFiles.readTensor(Path.of(arg.substring(eq + 1)))) != null) {
                    throw new CommandLine.ParameterException(spec.commandLine(),
                            "input '" + name + "' is given twice");
                }
            }
        }
        if (profile != null && (!backends.backend.equals("auto") || backends.threads != null)) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "--profile sets the backends and threads; give --backend/--threads or --profile, not both");
        }
        ModelFiles.Opened opened = ModelFiles.open(modelPath, Map.of(), true, backends.resolve().options());
        Model model = opened.model();
        if (unnamed != null) {
            if (model.inputs().size() != 1) {
                throw new InvalidInputException("the model has " + model.inputs().size() + " inputs "
                        + model.inputs().stream().map(ValueInfo::name).toList() + "; give each as --input NAME=FILE");
            }
            named.put(model.inputs().get(0).name(), unnamed);
        }

        List<String> declared = model.inputs().stream().map(ValueInfo::name).toList();
        for (String name : named.keySet()) {
            if (!declared.contains(name)) {
                throw new InvalidInputException("unknown input '" + name + "'; the model's inputs are " + declared);
            }
        }

        if (profile != null) {
            return runForProfile(out, model, named, opened);
        }
        Map<String, Tensor> results;
        long t0 = System.nanoTime();
        try (Session session = model.newSession()) {
            results = session.run(named);
            long nanos = System.nanoTime() - t0;
            write(out, results, nanos, opened);
            List<int[]> shapes = new ArrayList<>();
            for (String name : declared) {
                Tensor t = named.get(name);
                shapes.add(t == null ? null : t.shape());
            }
            if (!shapes.contains(null)) {
                out.println("steps by backend: " + ModelFiles.stepsByBackend(model.plan(shapes)) + " ("
                        + model.options().describe() + ", " + model.threads()
                        + (model.threads() == 1 ? " thread)" : " threads)"));
            }
        }
        out.flush();
        return Errors.OK;
    }

    private int runForProfile(PrintWriter out, Model model, Map<String, Tensor> named, ModelFiles.Opened opened)
            throws IOException {
        DeviceProfile p = Profiles.resolve(profile);
        Map<String, int[]> shapes = new LinkedHashMap<>();
        named.forEach((k, v) -> shapes.put(k, v.shape()));
        ProfileRuntime.Cpu cpu = ProfileRuntime.cpu(p);
        for (String note : cpu.notes()) {
            spec.commandLine().getErr().println("note: " + note);
        }
        try (PartitionedModel pm = ProfileRuntime.load(model.definition(), p, shapes);
                PartitionedModel.PartitionedSession session = pm.newSession()) {
            for (String w : pm.plan().warnings()) {
                spec.commandLine().getErr().println("warning: " + w);
            }
            out.print(pm.plan().explain());
            long t0 = System.nanoTime();
            Map<String, Tensor> results = session.run(named);
            write(out, results, System.nanoTime() - t0, opened);
        }
        out.flush();
        return Errors.OK;
    }

    private void write(PrintWriter out, Map<String, Tensor> results, long nanos, ModelFiles.Opened opened)
            throws IOException {
        Files.createDirectories(outputDir);
        List<String> used = new ArrayList<>();
        for (Map.Entry<String, Tensor> e : results.entrySet()) {
            String file = uniqueFileName(ModelFiles.safeFileName(e.getKey()), used);
            Path target = outputDir.resolve(file + ".npy");
            Tensor t = npyCompatible(e.getKey(), e.getValue());
            Npy.write(t, target);
            out.printf(Locale.ROOT, "%s: %s -> %s%n", e.getKey(), e.getValue(), target);
        }
        out.printf(Locale.ROOT, "ran %s in %s (%s %s)%n", modelPath.getFileName(), ModelFiles.millis(nanos),
                opened.conversion() != null ? "converted in" : "loaded in", ModelFiles.millis(opened.nanos()));
    }

    /** Two names may map to the same file name ("a/b" and "a_b"): later ones get a numeric suffix. */
    private static String uniqueFileName(String base, List<String> used) {
        String name = base;
        for (int i = 2; used.contains(name); i++) {
            name = base + "_" + i;
        }
        used.add(name);
        return name;
    }

    /** NumPy has no bfloat16 or 4-bit types: such outputs are widened, and the user told so. */
    private Tensor npyCompatible(String name, Tensor t) {
        if (Npy.supports(t.dtype())) {
            return t;
        }
        DType wide = t.dtype() == DType.BFLOAT16 ? DType.FLOAT32 : t.dtype().isSigned() ? DType.INT8 : DType.UINT8;
        Tensor w = Tensor.allocate(wide, t.shape());
        for (int i = 0; i < t.elementCount(); i++) {
            if (wide == DType.FLOAT32) {
                w.setDouble(i, t.getDouble(i));
            } else {
                w.setLong(i, t.getLong(i));
            }
        }
        spec.commandLine().getErr().println("note: output '" + name + "' is " + t.dtype()
                + ", which .npy cannot hold; written as " + wide);
        return w;
    }
}
