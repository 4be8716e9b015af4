package dev.hedge.format;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The structural checker's description of the schema must match hedge.fbs field for field. */
class SchemaDescriptionTest {

    private static final Map<String, Integer> SCALARS = Map.of("bool", 1, "byte", 1, "ubyte", 1, "short", 2,
            "ushort", 2, "int", 4, "uint", 4, "float", 4, "long", 8, "ulong", 8);

    @Test
    void checkerDescriptionMatchesHedgeFbs() throws IOException {
        String fbs = Files.readString(Path.of("../schema/src/main/fbs/hedge.fbs")).replaceAll("//[^\n]*", "");
        Map<String, Integer> enums = new HashMap<>();
        Matcher em = Pattern.compile("enum (\\w+) : (\\w+)").matcher(fbs);
        while (em.find()) {
            enums.put(em.group(1), SCALARS.get(em.group(2)));
        }
        Map<String, Integer> structs = new HashMap<>();
        Matcher sm = Pattern.compile("struct (\\w+) \\{([^}]*)\\}").matcher(fbs);
        while (sm.find()) {
            int size = 0;
            for (String f : fields(sm.group(2)).values()) {
                size += SCALARS.get(f);
            }
            structs.put(sm.group(1), size);
        }
        Map<String, List<String>> schema = new LinkedHashMap<>();
        Matcher tm = Pattern.compile("table (\\w+) \\{([^}]*)\\}").matcher(fbs);
        while (tm.find()) {
            List<String> l = new ArrayList<>();
            for (Map.Entry<String, String> f : fields(tm.group(2)).entrySet()) {
                l.add(f.getKey() + ":" + kind(f.getValue(), enums, structs));
            }
            schema.put(tm.group(1), l);
        }
        Map<String, List<String>> described = new LinkedHashMap<>();
        collect(FlatBufferChecker.MODEL, described);
        assertEquals(schema.keySet(), described.keySet());
        for (String t : schema.keySet()) {
            assertEquals(schema.get(t), described.get(t), "table " + t);
        }
    }

    private static Map<String, String> fields(String body) {
        Map<String, String> m = new LinkedHashMap<>();
        Matcher fm = Pattern.compile("(\\w+)\\s*:\\s*([\\[\\]\\w]+)[^;]*;").matcher(body);
        while (fm.find()) {
            m.put(fm.group(1), fm.group(2));
        }
        return m;
    }

    private static String kind(String type, Map<String, Integer> enums, Map<String, Integer> structs) {
        boolean vector = type.startsWith("[");
        String t = vector ? type.substring(1, type.length() - 1) : type;
        String k;
        if (t.equals("string")) {
            k = "STRING";
        } else if (SCALARS.containsKey(t) || enums.containsKey(t)) {
            k = "SCALAR" + (SCALARS.containsKey(t) ? SCALARS.get(t) : enums.get(t));
        } else if (structs.containsKey(t)) {
            k = "STRUCT" + structs.get(t);
        } else {
            k = "TABLE " + t;
        }
        return vector ? "[" + k + "]" : k;
    }

    private static void collect(FlatBufferChecker.Table t, Map<String, List<String>> out) {
        List<String> l = new ArrayList<>();
        out.put(t.name(), l);
        for (FlatBufferChecker.Field f : t.fields()) {
            String k;
            switch (f.kind()) {
                case SCALAR: k = "SCALAR" + f.size(); break;
                case STRUCT: k = "STRUCT" + f.size(); break;
                case STRING: k = "STRING"; break;
                case TABLE: k = "TABLE " + f.table().name(); break;
                case SCALAR_VECTOR: k = "[SCALAR" + f.size() + "]"; break;
                case STRUCT_VECTOR: k = "[STRUCT" + f.size() + "]"; break;
                case STRING_VECTOR: k = "[STRING]"; break;
                default: k = "[TABLE " + f.table().name() + "]";
            }
            l.add(f.name() + ":" + k);
            if (f.table() != null && !out.containsKey(f.table().name())) {
                collect(f.table(), out);
            }
        }
    }
}
