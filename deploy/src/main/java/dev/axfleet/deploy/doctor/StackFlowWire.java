package dev.axfleet.deploy.doctor;

import com.google.gson.Gson;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.axfleet.worker.speech.StackFlowTtsRuntime;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * llm-sys's TCP JSON port as {@code nc 127.0.0.1 10001} shows it (docs/hardware.md U35, F49): one request written as the
 * worker's adapter writes them (braces in strings escaped, {@code data} last), and every line that comes back, with the
 * time it came, so a check can look at what the adapter reads for it ({@code request_id}, {@code index}, {@code finish}).
 */
final class StackFlowWire implements AutoCloseable {
    private static final Gson GSON = new Gson();

    /** A line llm-sys sent, {@code ms} after its request was written. */
    record Line(long ms, JsonObject json) {
        int code() {
            JsonElement e = json.get("error");
            return e != null && e.isJsonObject() && e.getAsJsonObject().has("code") ? e.getAsJsonObject().get("code").getAsInt() : 0;
        }

        String message() {
            JsonElement e = json.get("error");
            return e != null && e.isJsonObject() && e.getAsJsonObject().has("message") ? e.getAsJsonObject().get("message").getAsString() : "";
        }

        String string(String key) {
            JsonElement e = json.get(key);
            return e == null || e.isJsonNull() ? null : e.isJsonPrimitive() ? e.getAsString() : e.toString();
        }
    }

    private final Socket socket;
    private final BufferedReader in;
    private long sentAt;

    private StackFlowWire(Socket socket) throws IOException {
        this.socket = socket;
        this.in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8), 1 << 16);
    }

    /** A connection of its own to llm-sys, or a skip saying StackFlow is not there. */
    static StackFlowWire open(String host, int port) throws Verdict.Skip {
        Socket s = new Socket();
        try {
            s.connect(new InetSocketAddress(host, port), 2000);
            return new StackFlowWire(s);
        } catch (IOException e) {
            try {
                s.close();
            } catch (IOException ignored) {
                // Not open.
            }
            throw new Verdict.Skip("llm-sys does not listen on " + host + ":" + port + " (" + e.getMessage() + "): install StackFlow's units "
                    + "(sudo apt install lib-llm llm-sys llm-melotts llm-model-melotts-en-default-axcl; M5 docs) or set fleet.stackflow_port");
        }
    }

    /** Writes one request. */
    void send(String requestId, String workId, String action, String object, JsonElement data) throws IOException {
        String text = "{\"request_id\":" + StackFlowTtsRuntime.escapeBraces(GSON.toJsonTree(requestId)) + ",\"work_id\":"
                + StackFlowTtsRuntime.escapeBraces(GSON.toJsonTree(workId)) + ",\"action\":" + StackFlowTtsRuntime.escapeBraces(GSON.toJsonTree(action))
                + ",\"object\":" + StackFlowTtsRuntime.escapeBraces(GSON.toJsonTree(object)) + ",\"data\":" + StackFlowTtsRuntime.escapeBraces(data) + "}";
        socket.getOutputStream().write(text.getBytes(StandardCharsets.UTF_8));
        socket.getOutputStream().flush();
        sentAt = System.nanoTime();
    }

    /** The next JSON line, or null when nothing came within {@code timeout}. */
    Line next(Duration timeout) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            long left = (deadline - System.nanoTime()) / 1_000_000;
            if (left <= 0) {
                return null;
            }
            String line;
            try {
                socket.setSoTimeout((int) Math.min(Integer.MAX_VALUE, left));
                line = in.readLine();
            } catch (SocketTimeoutException e) {
                return null;
            }
            if (line == null) {
                throw new IOException("llm-sys closed the connection");
            }
            if (line.isBlank()) {
                continue;
            }
            try {
                return new Line((System.nanoTime() - sentAt) / 1_000_000, JsonParser.parseString(line).getAsJsonObject());
            } catch (RuntimeException e) {
                JsonObject o = new JsonObject();
                o.addProperty("unparsed", line.length() > 200 ? line.substring(0, 200) + "..." : line);
                return new Line((System.nanoTime() - sentAt) / 1_000_000, o);
            }
        }
    }

    /** One request and the first line answering it (by {@code request_id}); null when none came within {@code timeout}. */
    Line call(String requestId, String workId, String action, String object, JsonElement data, Duration timeout) throws IOException {
        send(requestId, workId, action, object, data);
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            Line l = next(Duration.ofNanos(Math.max(1, deadline - System.nanoTime())));
            if (l == null) {
                return null;
            }
            if (requestId.equals(l.string("request_id"))) {
                return l;
            }
        }
        return null;
    }

    static JsonElement none() {
        return GSON.toJsonTree("None");
    }

    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException ignored) {
            // Closing anyway.
        }
    }
}
