package dev.axfleet.gateway;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import jakarta.servlet.http.HttpServletResponse;

/**
 * A streamed response body (SSE, NDJSON) on the raw servlet response. Nothing is committed until the first
 * write, so an error before any output still gets a proper status code; each write is flushed, and an
 * IOException means the caller has gone.
 */
public final class ResponseStream {
    private final HttpServletResponse raw;
    private final String contentType;
    private OutputStream out;

    public ResponseStream(HttpServletResponse raw, String contentType) {
        this.raw = raw;
        this.contentType = contentType;
    }

    public boolean started() {
        return out != null;
    }

    public void write(String text) throws IOException {
        if (out == null) {
            raw.setStatus(200);
            raw.setContentType(contentType);
            raw.setCharacterEncoding("UTF-8");
            raw.setHeader("Cache-Control", "no-cache");
            raw.setHeader("X-Accel-Buffering", "no");
            out = raw.getOutputStream();
        }
        out.write(text.getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    /** A last write when the caller may have gone already: nobody is left to tell if it fails. */
    public void writeQuietly(String text) {
        try {
            write(text);
        } catch (IOException ignored) {
            // The caller has gone.
        }
    }
}
