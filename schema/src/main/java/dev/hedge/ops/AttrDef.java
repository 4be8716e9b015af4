package dev.hedge.ops;

/**
 * One attribute an op accepts: its name, kind and default. A {@code null} default with {@code required}
 * false means "absent unless given" (the kernel decides what absence means).
 */
public record AttrDef(String name, AttrKind kind, Object defaultValue, boolean required) {

    static AttrDef i(String name, long def) {
        return new AttrDef(name, AttrKind.INT, def, false);
    }

    static AttrDef i(String name) {
        return new AttrDef(name, AttrKind.INT, null, false);
    }

    static AttrDef iReq(String name) {
        return new AttrDef(name, AttrKind.INT, null, true);
    }

    static AttrDef f(String name, float def) {
        return new AttrDef(name, AttrKind.FLOAT, def, false);
    }

    static AttrDef f(String name) {
        return new AttrDef(name, AttrKind.FLOAT, null, false);
    }

    static AttrDef s(String name, String def) {
        return new AttrDef(name, AttrKind.STRING, def, false);
    }

    static AttrDef s(String name) {
        return new AttrDef(name, AttrKind.STRING, null, false);
    }

    static AttrDef ints(String name) {
        return new AttrDef(name, AttrKind.INTS, null, false);
    }

    static AttrDef intsReq(String name) {
        return new AttrDef(name, AttrKind.INTS, null, true);
    }

    static AttrDef floats(String name) {
        return new AttrDef(name, AttrKind.FLOATS, null, false);
    }

    static AttrDef strings(String name) {
        return new AttrDef(name, AttrKind.STRINGS, null, false);
    }

    static AttrDef graph(String name) {
        return new AttrDef(name, AttrKind.GRAPH, null, true);
    }

    static AttrDef tensor(String name) {
        return new AttrDef(name, AttrKind.TENSOR, null, false);
    }
}
