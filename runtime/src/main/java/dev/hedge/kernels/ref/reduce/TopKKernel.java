package dev.hedge.kernels.ref.reduce;

import dev.hedge.ir.Node;
import dev.hedge.kernels.Kernel;
import dev.hedge.kernels.PrepareContext;
import dev.hedge.kernels.RunContext;
import dev.hedge.kernels.util.ScratchArrays;
import dev.hedge.kernels.util.Shapes;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Tensor;
import dev.hedge.runtime.UnsupportedModelException;
import java.nio.ByteBuffer;

/**
 * TopK: the k largest (or smallest) elements along an axis and their INT64 indices, always sorted best
 * first (also when {@code sorted=0}, whose order ONNX leaves open). Equal values keep the lower index
 * first; NaN counts as larger than every number. Selection keeps a heap of the k best, O(n log k).
 */
public final class TopKKernel implements Kernel {

    private final Node node;
    private final boolean largest;

    private int outer;
    private int count;
    private int inner;
    private int k;

    public TopKKernel(Node node) {
        this.node = node;
        this.largest = node.intAttr("largest") != 0;
    }

    @Override
    public void prepare(PrepareContext ctx) {
        DType d = ctx.inputType(0);
        if (d == DType.BOOL || !Rows.numeric(d)) {
            throw new UnsupportedModelException(node.describe() + ": " + d + " input is not supported");
        }
        int[] shape = ctx.inputShape(0);
        int axis = Shapes.axis(node.intAttr("axis"), shape.length);
        Tensor kt = ctx.requireValue(1);
        if (!kt.dtype().isInteger() || kt.elementCount() != 1 || kt.rank() > 1) {
            throw new IllegalArgumentException("K must be a 1-element integer tensor, got " + kt);
        }
        long kv = kt.getLong(0);
        if (kv < 0 || kv > shape[axis]) {
            throw new IllegalArgumentException("K = " + kv + " is out of range for axis " + axis + " of size "
                    + shape[axis]);
        }
        k = (int) kv;
        outer = Shapes.product(shape, 0, axis);
        count = shape[axis];
        inner = Shapes.product(shape, axis + 1, shape.length);
        int[] out = shape.clone();
        out[axis] = k;
        ctx.setOutput(0, d, out);
        ctx.setOutput(1, DType.INT64, out);
    }

    @Override
    public void run(RunContext ctx) {
        if (k == 0) {
            return;
        }
        Tensor x = ctx.input(0);
        Tensor values = ctx.output(0);
        Tensor indices = ctx.output(1);
        ByteBuffer ib = indices == null ? null : indices.data();
        int w = Rows.tileWidth(count, inner);
        long[] keys = Rows.longs(0, count * w);
        int[] heap = ScratchArrays.ints(0, k);
        for (int a = 0; a < outer; a++) {
            for (int i0 = 0; i0 < inner; i0 += w) {
                int cw = Math.min(w, inner - i0);
                Rows.loadKeyColumns(x, a * count * inner + i0, inner, count, cw, keys, Long.MAX_VALUE);
                for (int c = 0; c < cw; c++) {
                    int kOff = c * count;
                    // heap[0] is the worst of the k best seen so far
                    int size = 0;
                    for (int e = 0; e < count; e++) {
                        if (size < k) {
                            heap[size] = e;
                            siftUp(heap, size++, keys, kOff);
                        } else if (better(e, heap[0], keys, kOff)) {
                            heap[0] = e;
                            siftDown(heap, size, keys, kOff);
                        }
                    }
                    // popping the worst first fills the output from the back
                    int i = i0 + c;
                    int base = a * count * inner + i;
                    int outBase = a * k * inner + i;
                    for (int j = k - 1; j >= 0; j--) {
                        int e = heap[0];
                        heap[0] = heap[--size];
                        siftDown(heap, size, keys, kOff);
                        int o = outBase + j * inner;
                        if (values != null) {
                            Rows.copyElement(x, base + e * inner, values, o);
                        }
                        if (ib != null) {
                            ib.putLong(o << 3, e);
                        }
                    }
                }
            }
        }
    }

    /** Strict total order: larger (or smaller) key first, then lower index. */
    private boolean better(int a, int b, long[] keys, int off) {
        long ka = keys[off + a];
        long kb = keys[off + b];
        if (ka != kb) {
            return largest ? ka > kb : ka < kb;
        }
        return a < b;
    }

    private void siftUp(int[] h, int pos, long[] keys, int off) {
        int e = h[pos];
        while (pos > 0) {
            int parent = (pos - 1) >> 1;
            if (!better(h[parent], e, keys, off)) {
                break;
            }
            h[pos] = h[parent];
            pos = parent;
        }
        h[pos] = e;
    }

    private void siftDown(int[] h, int size, long[] keys, int off) {
        if (size == 0) {
            return;
        }
        int pos = 0;
        int e = h[0];
        while (true) {
            int c = 2 * pos + 1;
            if (c >= size) {
                break;
            }
            if (c + 1 < size && better(h[c], h[c + 1], keys, off)) {
                c++;
            }
            if (!better(e, h[c], keys, off)) {
                break;
            }
            h[pos] = h[c];
            pos = c;
        }
        h[pos] = e;
    }
}
