package dev.hedge.cli;

import dev.hedge.runtime.InvalidInputException;
import dev.hedge.runtime.ModelFormatException;
import dev.hedge.runtime.UnsupportedModelException;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.util.concurrent.ExecutionException;

/** Exit codes and one-line messages for failures. */
final class Errors {

    static final int OK = 0;
    static final int FAILURE = 1;
    static final int BAD_INPUT = 2;

    private Errors() {
    }

    static Throwable unwrap(Throwable t) {
        while ((t instanceof UncheckedIOException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    static int exitCode(Throwable t) {
        if (t instanceof UnsupportedModelException || t instanceof ModelFormatException
                || t instanceof InvalidInputException || t instanceof NoSuchFileException
                || t instanceof FileNotFoundException || t instanceof NotDirectoryException) {
            return BAD_INPUT;
        }
        return FAILURE;
    }

    static String message(Throwable t) {
        if (t instanceof NoSuchFileException) {
            return "no such file: " + ((NoSuchFileException) t).getFile();
        }
        if (t instanceof AccessDeniedException) {
            return "permission denied: " + ((AccessDeniedException) t).getFile();
        }
        if (t instanceof NotDirectoryException) {
            return "not a directory: " + ((NotDirectoryException) t).getFile();
        }
        if (t instanceof FileSystemException) {
            FileSystemException f = (FileSystemException) t;
            return f.getFile() + ": " + (f.getReason() == null ? t.getClass().getSimpleName() : f.getReason());
        }
        if (t instanceof dev.hedge.runtime.HedgeException && t.getMessage() != null) {
            return t.getMessage();
        }
        if (t instanceof IOException) {
            return "I/O error: " + t.getMessage();
        }
        return t.getMessage() == null ? t.getClass().getName() : t.getClass().getSimpleName() + ": " + t.getMessage();
    }

    /** Folds a multi-line message (the importer lists nodes one per line) into a single line. */
    static String oneLine(String s) {
        return s == null ? "" : s.strip().replaceAll("\\s*\\R\\s*", "; ");
    }
}
