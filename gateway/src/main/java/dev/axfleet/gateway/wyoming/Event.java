package dev.axfleet.gateway.wyoming;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import dev.axfleet.broker.JsonFields;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/**
 * One Wyoming event, as OHF-Voice/wyoming@22f8dea README.md "Format" and wyoming/event.py define it: a JSON header on one
 * line ({@code type}, optional {@code data}, {@code data_length}, {@code payload_length}), then {@code data_length} bytes
 * of JSON merged on top of the header's {@code data}, then {@code payload_length} bytes of payload (PCM audio). Written as
 * the Python library writes it ({@code write_event}): the data in its own section after the header line, the header
 * carrying {@code version}.
 *
 * <p>Every length is bounded before anything is buffered ({@link Limits}); what breaks the format is a {@link
 * BadEvent}, which the session answers with an {@code error} event before it closes the connection.
 */
record Event(String type, JsonObject data, byte[] payload) {
    /** The protocol version this server writes (the Python library's VERSION when its README was read). */
    static final String VERSION = "1.9.0";

    Event {
        data = data == null ? new JsonObject() : data;
        payload = payload == null ? new byte[0] : payload;
    }

    static Event of(String type, JsonObject data) {
        return new Event(type, data, null);
    }

    /** How much one event may carry. */
    record Limits(int headerBytes, int dataBytes, int payloadBytes) {
        /** A header line and its data hold a sentence or two of text; a payload holds a few seconds of 16 kHz audio. */
        static final Limits DEFAULT = new Limits(64 << 10, 64 << 10, 1 << 20);
    }

    /** The peer broke the format or a bound; {@code code} is the error event's. */
    static final class BadEvent extends Exception {
        private final String code;

        BadEvent(String code, String message) {
            super(message);
            this.code = code;
        }

        String code() {
            return code;
        }
    }

    /** The next event, or null when the peer closed the connection between events. */
    static Event read(InputStream in, Limits limits) throws IOException, BadEvent {
        byte[] line = line(in, limits.headerBytes());
        if (line == null) {
            return null;
        }
        JsonObject header = object(new String(line, StandardCharsets.UTF_8), "the header line");
        JsonElement type = header.get("type");
        if (type == null || !type.isJsonPrimitive() || !type.getAsJsonPrimitive().isString() || type.getAsString().isEmpty()
                || type.getAsString().length() > 64) {
            throw new BadEvent("bad-event", "the header has no type (a string of 1 to 64 characters)");
        }
        JsonObject data = new JsonObject();
        JsonElement inline = header.get("data");
        if (inline != null && !inline.isJsonNull()) {
            if (!inline.isJsonObject()) {
                throw new BadEvent("bad-event", "data must be a JSON object");
            }
            data = inline.getAsJsonObject();
        }
        int dataLength = length(header, "data_length", limits.dataBytes());
        if (dataLength > 0) {
            JsonObject extra = object(new String(exactly(in, dataLength), StandardCharsets.UTF_8), "the additional data");
            for (var e : extra.entrySet()) {
                data.add(e.getKey(), e.getValue());
            }
        }
        int payloadLength = length(header, "payload_length", limits.payloadBytes());
        byte[] payload = payloadLength > 0 ? exactly(in, payloadLength) : new byte[0];
        return new Event(type.getAsString(), data, payload);
    }

    /** Writes the event as wyoming/event.py {@code write_event} does, and flushes. */
    void write(OutputStream out) throws IOException {
        JsonObject header = new JsonObject();
        header.addProperty("type", type);
        header.addProperty("version", VERSION);
        byte[] dataBytes = data.size() == 0 ? null : data.toString().getBytes(StandardCharsets.UTF_8);
        if (dataBytes != null) {
            header.addProperty("data_length", dataBytes.length);
        }
        if (payload.length > 0) {
            header.addProperty("payload_length", payload.length);
        }
        ByteArrayOutputStream b = new ByteArrayOutputStream(128 + (dataBytes == null ? 0 : dataBytes.length) + payload.length);
        b.writeBytes(header.toString().getBytes(StandardCharsets.UTF_8));
        b.write('\n');
        if (dataBytes != null) {
            b.writeBytes(dataBytes);
        }
        b.writeBytes(payload);
        out.write(b.toByteArray());
        out.flush();
    }

    /** The header line without its newline; null at a clean end of stream; a BadEvent past {@code max} bytes. */
    private static byte[] line(InputStream in, int max) throws IOException, BadEvent {
        ByteArrayOutputStream b = new ByteArrayOutputStream(256);
        while (true) {
            int c = in.read();
            if (c < 0) {
                if (b.size() == 0) {
                    return null;
                }
                throw new BadEvent("bad-event", "the connection ended in the middle of a header line");
            }
            if (c == '\n') {
                return b.toByteArray();
            }
            if (b.size() >= max) {
                throw new BadEvent("too-large", "a header line longer than " + max + " bytes");
            }
            b.write(c);
        }
    }

    private static JsonObject object(String text, String what) throws BadEvent {
        try {
            return JsonFields.parseObject(text.strip());
        } catch (JsonParseException | IllegalStateException | StackOverflowError e) {
            throw new BadEvent("bad-event", what + " is not a JSON object");
        }
    }

    private static int length(JsonObject header, String key, int max) throws BadEvent {
        JsonElement e = header.get(key);
        if (e == null || e.isJsonNull()) {
            return 0;
        }
        long n;
        try {
            if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isNumber()) {
                throw new NumberFormatException();
            }
            n = e.getAsJsonPrimitive().getAsBigDecimal().longValueExact();
        } catch (NumberFormatException | ArithmeticException ex) {
            throw new BadEvent("bad-event", key + " must be a whole number of bytes");
        }
        if (n < 0) {
            throw new BadEvent("bad-event", key + " must not be negative");
        }
        if (n > max) {
            throw new BadEvent("too-large", key + " " + n + " is more than the " + max + " bytes taken");
        }
        return (int) n;
    }

    private static byte[] exactly(InputStream in, int n) throws IOException, BadEvent {
        byte[] b = in.readNBytes(n);
        if (b.length < n) {
            throw new BadEvent("bad-event", "the connection ended after " + b.length + " of " + n + " bytes");
        }
        return b;
    }
}
