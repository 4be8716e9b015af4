package dev.hedge.kernels.ref.tensor;

import dev.hedge.ir.Node;
import dev.hedge.kernels.Kernel;
import dev.hedge.kernels.PrepareContext;
import dev.hedge.kernels.RunContext;
import dev.hedge.kernels.util.ScratchArrays;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Tensor;
import dev.hedge.runtime.UnsupportedModelException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Einsum, evaluated directly: every label (and every broadcast ellipsis dimension) is one loop axis; the
 * output axes are walked outside, the summed axes inside, and each input is addressed through per-axis
 * strides (a label repeated within one input adds its strides, which reads the diagonal). This is a plain
 * reference: its cost is the product of all label sizes, with no contraction reordering or GEMM.
 */
public final class EinsumKernel implements Kernel {

    private static final int ELLIPSIS = -1;

    private final Node node;
    private DType dtype;
    /** Sizes of the loop axes: output axes first (in output order), then the summed ones. */
    private int[] sizes;
    private int outAxes;
    /** strides[input][axis]: element stride of each input along each loop axis (0 where it does not vary). */
    private int[][] strides;
    private int sumCount;

    public EinsumKernel(Node node) {
        this.node = node;
    }

    @Override
    public void prepare(PrepareContext ctx) {
        dtype = ctx.inputType(0);
        Prep.requireArithmetic(node, dtype, "input");
        int n = ctx.inputCount();
        for (int i = 1; i < n; i++) {
            if (ctx.inputType(i) != dtype) {
                throw new IllegalArgumentException("input " + i + " is " + ctx.inputType(i) + " but input 0 is " + dtype);
            }
        }
        String eq = node.stringAttr("equation").replace(" ", "");
        int arrow = eq.indexOf("->");
        String lhs = arrow < 0 ? eq : eq.substring(0, arrow);
        String[] terms = lhs.split(",", -1);
        if (terms.length != n) {
            throw new IllegalArgumentException("equation '" + eq + "' has " + terms.length + " operands but the node has "
                    + n + " inputs");
        }
        int[][] labels = new int[n][];
        int[][] shapes = new int[n][];
        int ell = 0;
        for (int i = 0; i < n; i++) {
            labels[i] = parse(terms[i], eq);
            shapes[i] = ctx.inputShape(i);
            int named = 0;
            boolean hasEllipsis = false;
            for (int l : labels[i]) {
                if (l == ELLIPSIS) {
                    hasEllipsis = true;
                } else {
                    named++;
                }
            }
            int e = shapes[i].length - named;
            if (e < 0 || (!hasEllipsis && e != 0)) {
                throw new IllegalArgumentException("operand " + i + " ('" + terms[i] + "') does not match its shape "
                        + Arrays.toString(shapes[i]));
            }
            ell = Math.max(ell, e);
        }
        // loop axes 0..ell-1 are the ellipsis dimensions (right-aligned across operands), then labels 'A'..'z'
        int[] labelSize = new int[ell + 52];
        Arrays.fill(labelSize, -1);
        int[] seenCount = new int[52];
        for (int i = 0; i < n; i++) {
            int e = shapes[i].length - (labels[i].length - (contains(labels[i], ELLIPSIS) ? 1 : 0));
            int d = 0;
            for (int l : labels[i]) {
                if (l == ELLIPSIS) {
                    for (int k = 0; k < e; k++, d++) {
                        int axis = ell - e + k;
                        labelSize[axis] = broadcast(labelSize[axis], shapes[i][d], "ellipsis dimension", eq);
                    }
                } else {
                    seenCount[l]++;
                    int axis = ell + l;
                    if (labelSize[axis] >= 0 && labelSize[axis] != shapes[i][d]) {
                        throw new IllegalArgumentException("label '" + letter(l) + "' has size " + shapes[i][d]
                                + " in operand " + i + " but " + labelSize[axis] + " elsewhere");
                    }
                    labelSize[axis] = shapes[i][d];
                    d++;
                }
            }
        }
        for (int k = 0; k < ell; k++) {
            labelSize[k] = Math.max(labelSize[k], 1);
        }
        // output axes, as loop-axis ids
        List<Integer> out = new ArrayList<>();
        if (arrow >= 0) {
            boolean[] used = new boolean[52];
            boolean ellipsisOut = false;
            for (int l : parse(eq.substring(arrow + 2), eq)) {
                if (l == ELLIPSIS) {
                    ellipsisOut = true;
                    for (int k = 0; k < ell; k++) {
                        out.add(k);
                    }
                } else {
                    if (used[l] || seenCount[l] == 0) {
                        throw new IllegalArgumentException("output label '" + letter(l) + "' of '" + eq
                                + "' is repeated or not in any operand");
                    }
                    used[l] = true;
                    out.add(ell + l);
                }
            }
            if (!ellipsisOut && ell > 0) {
                throw new UnsupportedModelException(node.describe() + ": '" + eq
                        + "' drops the ellipsis dimensions from the output, which is not supported");
            }
        } else {
            for (int k = 0; k < ell; k++) {
                out.add(k);
            }
            for (int l = 0; l < 52; l++) {
                if (seenCount[l] == 1) {
                    out.add(ell + l);
                }
            }
        }
        List<Integer> order = new ArrayList<>(out);
        for (int a = 0; a < labelSize.length; a++) {
            if (labelSize[a] >= 0 && !out.contains(a)) {
                order.add(a);
            }
        }
        outAxes = out.size();
        sizes = new int[order.size()];
        int[] outShape = new int[outAxes];
        for (int k = 0; k < sizes.length; k++) {
            sizes[k] = labelSize[order.get(k)];
            if (k < outAxes) {
                outShape[k] = sizes[k];
            }
        }
        Prep.product(outShape, 0, outAxes);
        long sum = 1;
        for (int k = outAxes; k < sizes.length; k++) {
            sum *= sizes[k];
        }
        if (sum > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("'" + eq + "' sums over more than 2^31-1 terms per output");
        }
        sumCount = (int) sum;
        strides = new int[n][sizes.length];
        for (int i = 0; i < n; i++) {
            int[] st = StridedCopy.strides(shapes[i]);
            int e = shapes[i].length - (labels[i].length - (contains(labels[i], ELLIPSIS) ? 1 : 0));
            int d = 0;
            for (int l : labels[i]) {
                if (l == ELLIPSIS) {
                    for (int k = 0; k < e; k++, d++) {
                        if (shapes[i][d] != 1) {
                            strides[i][order.indexOf(ell - e + k)] += st[d];
                        }
                    }
                } else {
                    strides[i][order.indexOf(ell + l)] += st[d];
                    d++;
                }
            }
        }
        ctx.setOutput(0, dtype, outShape);
    }

    private static int broadcast(int cur, int d, String what, String eq) {
        if (cur < 0 || cur == 1) {
            return d;
        }
        if (d != 1 && d != cur) {
            throw new IllegalArgumentException(what + " sizes " + cur + " and " + d + " do not broadcast in '" + eq + "'");
        }
        return cur;
    }

    private static boolean contains(int[] a, int v) {
        for (int x : a) {
            if (x == v) {
                return true;
            }
        }
        return false;
    }

    private static char letter(int l) {
        return (char) (l < 26 ? 'A' + l : 'a' + l - 26);
    }

    /** Labels of one term: 0..25 for A-Z, 26..51 for a-z, ELLIPSIS for "...". */
    private static int[] parse(String term, String eq) {
        List<Integer> l = new ArrayList<>();
        for (int i = 0; i < term.length(); i++) {
            char c = term.charAt(i);
            if (c == '.') {
                if (!term.startsWith("...", i) || l.contains(ELLIPSIS)) {
                    throw new IllegalArgumentException("malformed ellipsis in '" + eq + "'");
                }
                l.add(ELLIPSIS);
                i += 2;
            } else if (c >= 'A' && c <= 'Z') {
                l.add(c - 'A');
            } else if (c >= 'a' && c <= 'z') {
                l.add(c - 'a' + 26);
            } else {
                throw new IllegalArgumentException("unexpected character '" + c + "' in '" + eq + "'");
            }
        }
        return l.stream().mapToInt(Integer::intValue).toArray();
    }

    @Override
    public void run(RunContext ctx) {
        int n = strides.length;
        // the first two operands (the usual case) are held locally; further ones are fetched as needed
        ByteBuffer b0 = ctx.input(0).data();
        ByteBuffer b1 = n > 1 ? ctx.input(1).data() : null;
        Tensor out = ctx.output(0);
        int total = out.elementCount();
        int axes = sizes.length;
        int[] idx = ScratchArrays.ints(0, axes + n);
        boolean isFloat = dtype.isFloat();
        ByteBuffer ob = out.data();
        for (int o = 0; o < total; o++) {
            // offsets of this output position: decompose o over the output axes
            int rem = o;
            for (int i = 0; i < n; i++) {
                idx[axes + i] = 0;
            }
            for (int k = outAxes - 1; k >= 0; k--) {
                int c = rem % sizes[k];
                rem /= sizes[k];
                for (int i = 0; i < n; i++) {
                    idx[axes + i] += c * strides[i][k];
                }
            }
            for (int k = outAxes; k < axes; k++) {
                idx[k] = 0;
            }
            double accD = 0;
            long accL = 0;
            for (int s = 0; s < sumCount; s++) {
                if (isFloat) {
                    double p = Arith.load(dtype, b0, idx[axes]);
                    if (n > 1) {
                        p *= Arith.load(dtype, b1, idx[axes + 1]);
                    }
                    for (int i = 2; i < n; i++) {
                        p *= Arith.load(dtype, ctx.input(i).data(), idx[axes + i]);
                    }
                    accD += p;
                } else {
                    long p = Arith.loadLong(dtype, b0, idx[axes]);
                    if (n > 1) {
                        p *= Arith.loadLong(dtype, b1, idx[axes + 1]);
                    }
                    for (int i = 2; i < n; i++) {
                        p *= Arith.loadLong(dtype, ctx.input(i).data(), idx[axes + i]);
                    }
                    accL += p;
                }
                // odometer over the summed axes, moving the input offsets along
                for (int k = axes - 1; k >= outAxes; k--) {
                    idx[k]++;
                    for (int i = 0; i < n; i++) {
                        idx[axes + i] += strides[i][k];
                    }
                    if (idx[k] < sizes[k]) {
                        break;
                    }
                    for (int i = 0; i < n; i++) {
                        idx[axes + i] -= strides[i][k] * sizes[k];
                    }
                    idx[k] = 0;
                }
            }
            if (isFloat) {
                Arith.store(dtype, ob, o, accD);
            } else {
                Elems.write(ob, o, dtype.bits(), accL);
            }
        }
    }
}
