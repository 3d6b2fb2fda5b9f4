package dev.axfleet.emulator;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;

/**
 * Chat messages read as AXERA-TECH/ax-llm {@code src/main.cpp@00d7aaf} {@code handle_api_messages} reads them: roles
 * system, user and assistant only; {@code content} a string or an array whose {@code text} parts are joined with
 * nothing between them and whose {@code image_url}/{@code image} (and video, audio) parts name media by {@code {"url"}}
 * or a bare string, a {@code video:}/{@code audio:}/{@code image:} prefix overriding the type; {@code data:<mime>;base64,}
 * URLs decoded (percent-decoding, URL-safe alphabet and whitespace tolerated: {@code base64_decode_bytes}), anything else
 * taken as a path on this machine ({@code return uri; // plain file path}); two media types in one message refused;
 * media kept only for user messages. Any failure is the handler's "Failed to parse chat messages."
 *
 * <p>Tool turns as the later revision documents them (docs/tool_calling.md@0c74c77, "Feeding the tool result back"): an
 * assistant message with {@code tool_calls} (its {@code content} may be null) and {@code tool} messages with their
 * {@code tool_call_id}, rendered as Qwen3's template does ({@code <tool_call>}, {@code <tool_response>}). The revision read
 * for the rest (main.cpp@00d7aaf) refuses both; docs/hardware.md F41 says which build the card needs.
 */
final class ApiMessages {
    /** Why main.cpp's handler refused the messages (it logs the reason and answers this). */
    static final String FAILED = "Failed to parse chat messages.";

    /** An image the emulated encoder saw: its size and mean colour, which the emulated answer reports. */
    record Seen(int width, int height, int meanRgb) {
    }

    /**
     * @param messages the messages with their content flattened to text, as the chat template renders them
     * @param images   the images of user messages, in order
     * @param error    what main.cpp logs before answering {@link #FAILED}, or null
     */
    record Parsed(JsonArray messages, List<Seen> images, String error) {
    }

    private ApiMessages() {
    }

    static Parsed parse(JsonArray messages) {
        JsonArray flat = new JsonArray();
        List<Seen> images = new ArrayList<>();
        if (messages == null) {
            return new Parsed(flat, images, null);
        }
        for (JsonElement e : messages) {
            if (!e.isJsonObject()) {
                return failed("content type not support");
            }
            JsonObject item = e.getAsJsonObject();
            String role = item.has("role") && item.get("role").isJsonPrimitive() ? item.get("role").getAsString() : null;
            if (!"system".equals(role) && !"user".equals(role) && !"assistant".equals(role) && !"tool".equals(role)) {
                if (role == null && flat.isEmpty()) {
                    role = "user"; // the emulator's earlier tolerance of a first message without a role (docs/hardware.md A11)
                } else {
                    return failed("content type not support");
                }
            }
            JsonElement content = item.get("content");
            StringBuilder text = new StringBuilder();
            if (item.has("tool_calls") && item.get("tool_calls").isJsonArray()) {
                for (JsonElement c : item.getAsJsonArray("tool_calls")) {
                    JsonObject fn = c.getAsJsonObject().getAsJsonObject("function");
                    text.append("<tool_call>\n{\"name\": ").append(fn.get("name")).append(", \"arguments\": ")
                            .append(fn.get("arguments").getAsString()).append("}\n</tool_call>");
                }
                if (content == null || content.isJsonNull()) {
                    content = new com.google.gson.JsonPrimitive("");
                }
            }
            if ("tool".equals(role)) {
                role = "user";
                text.append("<tool_response>\n");
            }
            List<Seen> own = new ArrayList<>();
            if (content != null && content.isJsonPrimitive() && content.getAsJsonPrimitive().isString()) {
                text.append(content.getAsString());
            } else if (content != null && content.isJsonArray()) {
                String mediaType = null;
                for (JsonElement pe : content.getAsJsonArray()) {
                    if (!pe.isJsonObject()) {
                        continue;
                    }
                    JsonObject part = pe.getAsJsonObject();
                    String type = part.has("type") && part.get("type").isJsonPrimitive() ? part.get("type").getAsString() : "";
                    if (type.equals("text")) {
                        text.append(part.has("text") ? part.get("text").getAsString() : "");
                        continue;
                    }
                    String kind = switch (type) {
                        case "image_url", "image" -> "image";
                        case "video_url", "video" -> "video";
                        case "audio_url", "audio" -> "audio";
                        default -> null;
                    };
                    if (kind == null) {
                        continue;
                    }
                    String url = url(part, kind);
                    if (url == null || url.isEmpty()) {
                        continue;
                    }
                    String lower = url.toLowerCase(Locale.ROOT);
                    for (String prefix : List.of("video:", "audio:", "image:")) {
                        if (lower.startsWith(prefix)) {
                            kind = prefix.substring(0, prefix.length() - 1);
                            url = url.substring(prefix.length()).trim();
                        }
                    }
                    if (mediaType != null && !mediaType.equals(kind)) {
                        return failed("mixed media types in a single message are not supported yet");
                    }
                    mediaType = kind;
                    byte[] bytes = resolve(url);
                    if (bytes == null) {
                        return failed("failed to resolve media uri for message");
                    }
                    if (kind.equals("image")) {
                        Seen seen = look(bytes);
                        if (seen == null) {
                            // The runtime's imread fails on it; what it then answers is not in the revision read (A17).
                            return failed("failed to read image");
                        }
                        own.add(seen);
                    }
                }
            } else {
                return failed("content type not support");
            }
            if (item.has("role") && "tool".equals(item.get("role").getAsString())) {
                text.append("\n</tool_response>");
            }
            JsonObject m = new JsonObject();
            m.addProperty("role", role);
            m.addProperty("content", text.toString());
            flat.add(m);
            if (role.equals("user")) {
                images.addAll(own);
            }
        }
        return new Parsed(flat, images, null);
    }

    private static Parsed failed(String why) {
        return new Parsed(null, List.of(), why);
    }

    /** {@code extract_media_url}: {@code {"url": …}} or a bare string under the part's key ({@code image_url}, else {@code image}). */
    private static String url(JsonObject part, String kind) {
        for (String key : List.of(kind + "_url", kind)) {
            JsonElement f = part.get(key);
            if (f == null) {
                continue;
            }
            if (f.isJsonObject() && f.getAsJsonObject().has("url")) {
                return f.getAsJsonObject().get("url").getAsString();
            }
            if (f.isJsonPrimitive()) {
                return f.getAsString();
            }
        }
        return null;
    }

    /** A data URL's bytes ({@code parse_base64_data_uri}, {@code base64_decode_bytes}), else the file at that path. */
    private static byte[] resolve(String uri) {
        if (uri.startsWith("data:")) {
            int semi = uri.indexOf(';');
            if (semi < 0 || !uri.startsWith("base64,", semi + 1)) {
                return readPath(uri); // not a data URI to main.cpp: a path
            }
            String payload = URLDecoder.decode(uri.substring(semi + 1 + "base64,".length()).replace("+", "%2B"), StandardCharsets.UTF_8);
            StringBuilder clean = new StringBuilder(payload.length());
            for (char c : payload.toCharArray()) {
                if (c == '=') {
                    break;
                }
                if (c == ' ') {
                    clean.append('+');
                } else if (!Character.isWhitespace(c)) {
                    clean.append(c == '-' ? '+' : c == '_' ? '/' : c);
                }
            }
            try {
                byte[] bytes = Base64.getDecoder().decode(clean.toString());
                return bytes.length == 0 ? null : bytes;
            } catch (IllegalArgumentException e) {
                return null; // "invalid base64 character": the decoded payload is empty and no file is written
            }
        }
        return readPath(uri);
    }

    /** A path on the runtime's machine: read as the runtime would (axfleet never sends one: docs/hardware.md F40). */
    private static byte[] readPath(String path) {
        try {
            return Files.readAllBytes(Path.of(path));
        } catch (IOException | RuntimeException e) {
            return new byte[] {0}; // the path is passed on as it is; the image read then fails
        }
    }

    private static Seen look(byte[] bytes) {
        try {
            BufferedImage img = ImageIO.read(new ByteArrayInputStream(bytes));
            if (img == null) {
                return null;
            }
            long r = 0;
            long g = 0;
            long b = 0;
            int step = Math.max(1, Math.max(img.getWidth(), img.getHeight()) / 64);
            long n = 0;
            for (int y = 0; y < img.getHeight(); y += step) {
                for (int x = 0; x < img.getWidth(); x += step) {
                    int p = img.getRGB(x, y);
                    r += (p >> 16) & 0xFF;
                    g += (p >> 8) & 0xFF;
                    b += p & 0xFF;
                    n++;
                }
            }
            return new Seen(img.getWidth(), img.getHeight(), (int) (r / n) << 16 | (int) (g / n) << 8 | (int) (b / n));
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }
}
