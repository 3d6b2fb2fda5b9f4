package dev.axfleet.deploy.doctor;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The raw HTTP a person's {@code curl -sN} sees, over one loopback socket: the status, every SSE {@code data:} line as it
 * came, whether {@code [DONE]} ended it, and when; or a client that leaves after some chunks ({@code timeout 2 curl}).
 * The checks look at the wire itself here, where the adapter would already have interpreted it.
 */
final class Sse {
    private Sse() {
    }

    /**
     * What came back.
     *
     * @param data       each {@code data:} payload but {@code [DONE]}, parsed (non-JSON payloads as a {@code raw} string)
     * @param done       {@code data: [DONE]} came
     * @param body       a body that was not an event stream (an error's JSON)
     * @param firstMillis when the first data line came, from the request; -1 for none
     * @param left       the client left before the end, as asked
     */
    record Reply(int status, String contentType, List<JsonObject> data, boolean done, String body, long firstMillis, long totalMillis,
                 boolean left) {
        /** The content pieces of the deltas, in order. */
        List<String> contents() {
            List<String> out = new ArrayList<>();
            for (JsonObject o : data) {
                String c = content(o);
                if (c != null && !c.isEmpty()) {
                    out.add(c);
                }
            }
            return out;
        }

        /** The last chunk before [DONE], or null. */
        JsonObject last() {
            return data.isEmpty() ? null : data.get(data.size() - 1);
        }
    }

    static String content(JsonObject chunk) {
        try {
            JsonElement d = chunk.getAsJsonArray("choices").get(0).getAsJsonObject().get("delta");
            JsonElement c = d == null || !d.isJsonObject() ? null : d.getAsJsonObject().get("content");
            return c == null || c.isJsonNull() ? null : c.getAsString();
        } catch (RuntimeException e) {
            return null;
        }
    }

    static String finishReason(JsonObject chunk) {
        try {
            JsonElement f = chunk.getAsJsonArray("choices").get(0).getAsJsonObject().get("finish_reason");
            return f == null || f.isJsonNull() ? null : f.getAsString();
        } catch (RuntimeException e) {
            return null;
        }
    }

    /** POSTs {@code body} as JSON to {@code port}'s {@code path}; {@code leaveAfter} > 0: closes after that many data lines. */
    static Reply post(int port, String path, JsonObject body, Duration timeout, int leaveAfter) throws IOException {
        return post(port, path, body, timeout, leaveAfter, n -> { });
    }

    /** As {@link #post(int, String, JsonObject, Duration, int)}; {@code onData} hears the count of data lines so far. */
    static Reply post(int port, String path, JsonObject body, Duration timeout, int leaveAfter, java.util.function.IntConsumer onData)
            throws IOException {
        long start = System.nanoTime();
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 2000);
            s.setSoTimeout((int) Math.min(Integer.MAX_VALUE, timeout.toMillis()));
            byte[] payload = body.toString().getBytes(StandardCharsets.UTF_8);
            OutputStream out = s.getOutputStream();
            out.write(("POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nContent-Type: application/json\r\nAccept: */*\r\n"
                    + "Content-Length: " + payload.length + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(payload);
            out.flush();
            InputStream raw = s.getInputStream();
            String statusLine = line(raw);
            if (statusLine == null || !statusLine.startsWith("HTTP/")) {
                throw new IOException("no HTTP answer (" + statusLine + ")");
            }
            int status = Integer.parseInt(statusLine.split(" ")[1]);
            boolean chunked = false;
            long length = -1;
            String type = "";
            for (String h; (h = line(raw)) != null && !h.isEmpty(); ) {
                String lower = h.toLowerCase(Locale.ROOT);
                if (lower.startsWith("transfer-encoding:") && lower.contains("chunked")) {
                    chunked = true;
                } else if (lower.startsWith("content-length:")) {
                    length = Long.parseLong(h.substring(15).strip());
                } else if (lower.startsWith("content-type:")) {
                    type = h.substring(13).strip();
                }
            }
            InputStream in = chunked ? new Chunked(raw) : length >= 0 ? new Limited(raw, length) : raw;
            List<JsonObject> data = new ArrayList<>();
            boolean done = false;
            long first = -1;
            StringBuilder other = new StringBuilder();
            try {
                for (String l; (l = line(in)) != null; ) {
                    if (!l.startsWith("data:")) {
                        if (!l.isEmpty()) {
                            other.append(l).append('\n');
                        }
                        continue;
                    }
                    String d = l.substring(5).strip();
                    if (first < 0) {
                        first = (System.nanoTime() - start) / 1_000_000;
                    }
                    if (d.equals("[DONE]")) {
                        done = true;
                        break;
                    }
                    data.add(parse(d));
                    onData.accept(data.size());
                    if (leaveAfter > 0 && data.size() >= leaveAfter) {
                        return new Reply(status, type, data, false, other.toString(), first, (System.nanoTime() - start) / 1_000_000, true);
                    }
                }
            } catch (SocketTimeoutException e) {
                other.append("(no more bytes within ").append(timeout.toMillis()).append(" ms)\n");
            }
            return new Reply(status, type, data, done, other.toString().strip(), first, (System.nanoTime() - start) / 1_000_000, false);
        }
    }

    private static JsonObject parse(String d) {
        try {
            JsonElement e = JsonParser.parseString(d);
            if (e.isJsonObject()) {
                return e.getAsJsonObject();
            }
        } catch (RuntimeException e) {
            // Kept raw below.
        }
        JsonObject o = new JsonObject();
        o.addProperty("raw", d);
        return o;
    }

    /** One line (LF or CRLF), or null at the end. */
    private static String line(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int c;
        while ((c = in.read()) >= 0 && c != '\n') {
            if (c != '\r') {
                b.write(c);
            }
            if (b.size() > 1 << 20) {
                break;
            }
        }
        return c < 0 && b.size() == 0 ? null : b.toString(StandardCharsets.UTF_8);
    }

    /** HTTP/1.1 chunked transfer coding (RFC 9112 section 7.1), undone. */
    private static final class Chunked extends InputStream {
        private final InputStream in;
        private long left;
        private boolean end;

        Chunked(InputStream in) {
            this.in = in;
        }

        @Override
        public int read() throws IOException {
            if (end) {
                return -1;
            }
            if (left == 0) {
                String size = line(in);
                if (size != null && size.isEmpty()) {
                    size = line(in); // the CRLF after the previous chunk's data
                }
                if (size == null) {
                    end = true;
                    return -1;
                }
                int semi = size.indexOf(';');
                left = Long.parseLong((semi < 0 ? size : size.substring(0, semi)).strip(), 16);
                if (left == 0) {
                    end = true;
                    return -1;
                }
            }
            int c = in.read();
            if (c < 0) {
                end = true;
                return -1;
            }
            left--;
            return c;
        }
    }

    private static final class Limited extends InputStream {
        private final InputStream in;
        private long left;

        Limited(InputStream in, long left) {
            this.in = in;
            this.left = left;
        }

        @Override
        public int read() throws IOException {
            if (left <= 0) {
                return -1;
            }
            left--;
            return in.read();
        }
    }
}
