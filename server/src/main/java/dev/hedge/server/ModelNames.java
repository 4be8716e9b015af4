package dev.hedge.server;

import java.util.regex.Pattern;

/** Model names are path components on disk and label values in metrics: only a safe alphabet is allowed. */
final class ModelNames {

    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,127}");
    private static final Pattern VERSION = Pattern.compile("[1-9][0-9]{0,8}");

    private ModelNames() {
    }

    static boolean isValid(String name) {
        return name != null && NAME.matcher(name).matches() && !name.contains("..");
    }

    /** Throws a 400 naming the problem; path separators and {@code ..} are always rejected. */
    static String check(String name) {
        if (name == null || name.isEmpty()) {
            throw ApiException.badRequest("model name is empty");
        }
        if (name.contains("/") || name.contains("\\") || name.contains("..")) {
            throw ApiException.badRequest("model name '" + printable(name) + "' contains a path separator or '..'");
        }
        if (!NAME.matcher(name).matches()) {
            throw ApiException.badRequest("model name '" + printable(name) + "' must match " + NAME.pattern());
        }
        return name;
    }

    static boolean isVersion(String s) {
        return VERSION.matcher(s).matches();
    }

    /** Parses a URL version segment: a positive decimal integer. */
    static int checkVersion(String s) {
        if (!isVersion(s)) {
            throw ApiException.badRequest("model version '" + printable(s) + "' must be a positive integer");
        }
        return Integer.parseInt(s);
    }

    /** Client text echoed in an error: shortened, control characters replaced. */
    static String printable(String s) {
        String t = s.length() > 80 ? s.substring(0, 80) + "..." : s;
        StringBuilder b = new StringBuilder(t.length());
        for (int i = 0; i < t.length(); i++) {
            char c = t.charAt(i);
            b.append(c < 0x20 || c == 0x7f ? '?' : c);
        }
        return b.toString();
    }
}
