package dev.axfleet.deploy;

import java.io.FileNotFoundException;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.UnknownHostException;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpTimeoutException;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;

/** An error a person can act on: its message is the whole of what the command line prints. */
public final class UserError extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final int exitCode;

    public UserError(String message) {
        this(message, 1);
    }

    public UserError(String message, int exitCode) {
        super(message);
        this.exitCode = exitCode;
    }

    public int exitCode() {
        return exitCode;
    }

    /** One line for any failure: the message of an error meant for people, else what kind of thing went wrong. */
    public static String describe(Throwable e) {
        Throwable t = e instanceof UncheckedIOException && e.getCause() != null ? e.getCause() : e;
        String m = t.getMessage() == null ? "" : t.getMessage().strip().replaceAll("\\s*\\R\\s*", " ");
        if (t instanceof UserError || t instanceof IllegalArgumentException || t instanceof dev.axfleet.config.StartupException) {
            return m;
        }
        if (t instanceof AccessDeniedException) {
            return "permission denied: " + m + " (run it with sudo?)";
        }
        if (t instanceof NoSuchFileException || t instanceof FileNotFoundException) {
            return "no such file: " + m;
        }
        if (t instanceof UnknownHostException) {
            return "cannot resolve host " + m + " (is this machine online?)";
        }
        if (t instanceof HttpConnectTimeoutException || t instanceof ConnectException) {
            return "cannot connect" + (m.isEmpty() ? "" : ": " + m);
        }
        if (t instanceof HttpTimeoutException) {
            return "no answer in time" + (m.isEmpty() ? "" : ": " + m);
        }
        return (m.isEmpty() ? t.getClass().getSimpleName() : m) + " (AXFLEET_DEBUG=1 shows where)";
    }
}
