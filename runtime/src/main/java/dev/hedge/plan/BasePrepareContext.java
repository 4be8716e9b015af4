package dev.hedge.plan;

import dev.hedge.ir.Node;
import dev.hedge.kernels.PrepareContext;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.HedgeException;
import dev.hedge.runtime.QuantParams;
import dev.hedge.runtime.Tensor;
import java.util.ArrayList;
import java.util.List;

/** Records what a kernel declares while it is prepared; subclasses say what it may know of its inputs. */
abstract class BasePrepareContext implements PrepareContext {

    protected final Planner planner;
    protected final Node node;
    private final DType[] outTypes;
    private final int[][] outShapes;
    private final QuantParams[] outQuant;
    private final boolean[] dynamic;
    private final boolean[] set;
    private final Tensor[] values;
    private long scratch;
    private long packed;
    protected final List<Plan> subplans = new ArrayList<>();

    BasePrepareContext(Planner planner, Node node) {
        this.planner = planner;
        this.node = node;
        int n = node.outputs().size();
        outTypes = new DType[n];
        outShapes = new int[n][];
        outQuant = new QuantParams[n];
        dynamic = new boolean[n];
        set = new boolean[n];
        values = new Tensor[n];
    }

    @Override
    public Node node() {
        return node;
    }

    @Override
    public int inputCount() {
        return node.inputs().size();
    }

    @Override
    public boolean hasInput(int i) {
        return node.hasInput(i);
    }

    protected void checkInput(int i) {
        if (!hasInput(i)) {
            throw new IllegalArgumentException("input " + i + " is missing");
        }
    }

    @Override
    public int outputCount() {
        return node.outputs().size();
    }

    @Override
    public boolean hasOutput(int i) {
        return i < node.outputs().size() && !node.output(i).isEmpty();
    }

    @Override
    public void setOutput(int i, DType dtype, int... shape) {
        if (i >= outTypes.length) {
            return; // an optional output the model does not ask for
        }
        for (int d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("output " + i + " would have negative dimension "
                        + java.util.Arrays.toString(shape));
            }
        }
        outTypes[i] = dtype;
        outShapes[i] = shape.clone();
        dynamic[i] = false;
        set[i] = true;
    }

    @Override
    public void setOutputQuant(int i, QuantParams quant) {
        if (i < outQuant.length) {
            outQuant[i] = quant;
        }
    }

    @Override
    public void setOutputValue(int i, Tensor value) {
        if (i >= outTypes.length) {
            return;
        }
        setOutput(i, value.dtype(), value.shape());
        values[i] = value;
    }

    Tensor outputValue(int i) {
        return values[i];
    }

    @Override
    public void setOutputDynamic(int i, DType dtype) {
        if (i >= outTypes.length) {
            return;
        }
        outTypes[i] = dtype;
        outShapes[i] = null;
        dynamic[i] = true;
        set[i] = true;
    }

    @Override
    public void requestScratch(long bytes) {
        if (bytes < 0 || bytes > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("scratch of " + bytes + " bytes is out of range");
        }
        scratch = Math.max(scratch, bytes);
    }

    @Override
    public int threads() {
        return planner.threads();
    }

    @Override
    public void reportPackedBytes(long bytes) {
        if (bytes > 0) {
            packed += bytes;
        }
    }

    long packedBytes() {
        return packed;
    }

    void checkOutputsSet() {
        for (int i = 0; i < set.length; i++) {
            if (hasOutput(i) && !set[i]) {
                throw new HedgeException(node.describe() + ": kernel did not declare output " + i
                        + " ('" + node.output(i) + "')");
            }
        }
    }

    DType outputType(int i) {
        return outTypes[i];
    }

    int[] outputShape(int i) {
        return outShapes[i];
    }

    QuantParams outputQuant(int i) {
        return outQuant[i];
    }

    boolean[] dynamicOutputs() {
        return dynamic.clone();
    }

    long scratchBytes() {
        return scratch;
    }

    List<Plan> subplans() {
        return List.copyOf(subplans);
    }
}
