package dev.hedge.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hedge.schema.fb.OpType;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class OpTest {

    /** The Java vocabulary and the FlatBuffers enum are one list: same names, same codes, both ways. */
    @Test
    void javaOpsAndSchemaEnumAreTheSameVocabulary() throws Exception {
        Set<String> schemaNames = new HashSet<>();
        for (Field f : OpType.class.getFields()) {
            if (Modifier.isStatic(f.getModifiers()) && f.getType() == int.class && !f.getName().equals("UNDEFINED")) {
                schemaNames.add(f.getName());
                Op op = Op.byName(f.getName());
                assertNotNull(op, "schema op " + f.getName() + " has no dev.hedge.ops.Op constant");
                assertEquals(f.getInt(null), op.code(), f.getName());
                assertEquals(f.getName(), OpType.name(op.code()));
            }
        }
        for (Op op : Op.values()) {
            assertTrue(schemaNames.contains(op.name()), op + " is missing from hedge.fbs");
            assertEquals(op, Op.fromCode(op.code()));
        }
    }

    @Test
    void arityAndDefaultsAreSane() {
        for (Op op : Op.values()) {
            assertTrue(op.minInputs() <= op.maxInputs(), op.name());
            assertTrue(op.minOutputs() <= op.maxOutputs(), op.name());
            for (AttrDef d : op.attrs().values()) {
                if (d.required()) {
                    assertEquals(null, d.defaultValue(), op + "." + d.name());
                }
            }
        }
        assertEquals(1L, Op.Conv.attr("group").defaultValue());
        assertTrue(Op.Gemm.acceptsFusedActivation());
    }
}
