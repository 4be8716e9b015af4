package dev.hedge.kernels.cpu;

import dev.hedge.ir.Sparse;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/** Test helper: stores a dense constant as Hedge's CSR / block-CSR (INT32 indices), dropping all-zero blocks. */
public final class SparseEncode {

    private SparseEncode() {
    }

    public static Tensor blockCsr(Tensor dense, int br, int bc) {
        int rows = dense.dim(0);
        int cols = dense.elementCount() / rows;
        int w = dense.dtype().byteWidth();
        List<Integer> rowPtr = new ArrayList<>(List.of(0));
        List<Integer> colIdx = new ArrayList<>();
        ByteBuffer payload = ByteBuffer.allocate(dense.byteSize() + 1).order(ByteOrder.LITTLE_ENDIAN);
        for (int bi = 0; bi < rows / br; bi++) {
            for (int bj = 0; bj < cols / bc; bj++) {
                boolean any = false;
                for (int r = 0; r < br; r++) {
                    for (int c = 0; c < bc; c++) {
                        any |= dense.getDouble((bi * br + r) * cols + bj * bc + c) != 0;
                    }
                }
                if (!any) {
                    continue;
                }
                colIdx.add(bj);
                for (int r = 0; r < br; r++) {
                    for (int c = 0; c < bc; c++) {
                        int flat = (bi * br + r) * cols + bj * bc + c;
                        for (int b = 0; b < w; b++) {
                            payload.put(dense.data().get(flat * w + b));
                        }
                    }
                }
            }
            rowPtr.add(colIdx.size());
        }
        ByteBuffer p = ByteBuffer.allocateDirect(payload.position()).order(ByteOrder.LITTLE_ENDIAN);
        p.put(0, payload, 0, payload.position());
        Sparse s = new Sparse(br == 1 && bc == 1 ? Sparse.Format.CSR : Sparse.Format.BLOCK_CSR, br, bc, DType.INT32,
                ints(rowPtr), ints(colIdx), colIdx.size());
        return Tensor.encoded(dense.dtype(), dense.shape(), p, dense.quant(), s, null);
    }

    private static ByteBuffer ints(List<Integer> v) {
        ByteBuffer b = ByteBuffer.allocateDirect(4 * v.size()).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < v.size(); i++) {
            b.putInt(4 * i, v.get(i));
        }
        return b;
    }
}
