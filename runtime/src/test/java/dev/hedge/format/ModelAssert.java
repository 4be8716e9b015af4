package dev.hedge.format;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hedge.ir.Attr;
import dev.hedge.ir.Codebook;
import dev.hedge.ir.Graph;
import dev.hedge.ir.ModelDef;
import dev.hedge.ir.Node;
import dev.hedge.ir.Sparse;
import dev.hedge.runtime.Tensor;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Deep structural and byte-level comparison of models (the IR classes do not define value equality). */
final class ModelAssert {

    private ModelAssert() {
    }

    static void assertModelEquals(ModelDef expected, ModelDef actual) {
        assertEquals(new ArrayList<>(expected.metadata().entrySet()), new ArrayList<>(actual.metadata().entrySet()),
                "metadata");
        assertGraphEquals(expected.graph(), actual.graph(), "graph '" + expected.graph().name() + "'");
    }

    static void assertGraphEquals(Graph e, Graph a, String where) {
        assertEquals(e.name(), a.name(), where + " name");
        assertEquals(e.inputs(), a.inputs(), where + " inputs");
        assertEquals(e.outputs(), a.outputs(), where + " outputs");
        assertEquals(e.valueInfos(), a.valueInfos(), where + " value infos");
        assertEquals(new ArrayList<>(e.initializers().keySet()), new ArrayList<>(a.initializers().keySet()),
                where + " initializer names");
        for (Map.Entry<String, Tensor> t : e.initializers().entrySet()) {
            assertTensorEquals(t.getValue(), a.initializers().get(t.getKey()),
                    where + " initializer '" + t.getKey() + "'");
        }
        assertEquals(e.nodes().size(), a.nodes().size(), where + " node count");
        for (int i = 0; i < e.nodes().size(); i++) {
            assertNodeEquals(e.nodes().get(i), a.nodes().get(i), where + " node " + i);
        }
    }

    static void assertNodeEquals(Node e, Node a, String where) {
        assertEquals(e.name(), a.name(), where + " name");
        assertEquals(e.op(), a.op(), where + " op");
        assertEquals(e.inputs(), a.inputs(), where + " inputs");
        assertEquals(e.outputs(), a.outputs(), where + " outputs");
        assertEquals(new ArrayList<>(e.attrs().keySet()), new ArrayList<>(a.attrs().keySet()), where + " attrs");
        for (Map.Entry<String, Attr> en : e.attrs().entrySet()) {
            String w = where + " attribute '" + en.getKey() + "'";
            Attr x = en.getValue();
            Attr y = a.attrs().get(en.getKey());
            assertEquals(x.kind(), y.kind(), w + " kind");
            if (x instanceof Attr.GraphValue g) {
                assertGraphEquals(g.value(), ((Attr.GraphValue) y).value(), w);
            } else if (x instanceof Attr.TensorValue t) {
                assertTensorEquals(t.value(), ((Attr.TensorValue) y).value(), w);
            } else if (x instanceof Attr.Float f) {
                assertEquals(Float.floatToRawIntBits(f.value()), Float.floatToRawIntBits(((Attr.Float) y).value()),
                        w + " bits");
            } else {
                assertEquals(x, y, w);
            }
        }
    }

    static void assertTensorEquals(Tensor e, Tensor a, String where) {
        assertNotNull(a, where + " missing");
        assertEquals(e.dtype(), a.dtype(), where + " dtype");
        assertArrayEquals(e.shape(), a.shape(), where + " shape");
        assertEquals(e.quant(), a.quant(), where + " quant");
        assertArrayEquals(bytes(e.data(), e.byteSize()), bytes(a.data(), a.byteSize()), where + " data");
        Sparse es = e.sparse();
        Sparse as = a.sparse();
        if (es == null) {
            assertNull(as, where + " sparse");
        } else {
            assertNotNull(as, where + " sparse");
            assertEquals(List.of(es.format(), es.blockRows(), es.blockCols(), es.indexType(), es.nnzBlocks()),
                    List.of(as.format(), as.blockRows(), as.blockCols(), as.indexType(), as.nnzBlocks()),
                    where + " sparse fields");
            assertArrayEquals(bytes(es.rowPtr(), es.rowPtr().limit()), bytes(as.rowPtr(), as.rowPtr().limit()),
                    where + " row_ptr");
            assertArrayEquals(bytes(es.colIdx(), es.colIdx().limit()), bytes(as.colIdx(), as.colIdx().limit()),
                    where + " col_idx");
        }
        Codebook ec = e.codebook();
        Codebook ac = a.codebook();
        if (ec == null) {
            assertNull(ac, where + " codebook");
        } else {
            assertNotNull(ac, where + " codebook");
            assertArrayEquals(ec.palette(), ac.palette(), where + " palette");
            assertEquals(ec.indexBits(), ac.indexBits(), where + " index bits");
            assertEquals(ec.axis(), ac.axis(), where + " codebook axis");
        }
        assertTrue(a.data().order() == java.nio.ByteOrder.LITTLE_ENDIAN, where + " byte order");
    }

    static byte[] bytes(ByteBuffer b, int n) {
        byte[] out = new byte[n];
        b.get(0, out);
        return out;
    }
}
