package dev.axfleet.emulator;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reads a {@code multipart/form-data} body into its parts by name (what {@code curl -F} sends). */
final class Multipart {
    private static final Pattern BOUNDARY = Pattern.compile("boundary=\"?([^\";]+)\"?");
    private static final Pattern NAME = Pattern.compile("(?<![A-Za-z])name=\"([^\"]*)\"");
    private static final Pattern FILENAME = Pattern.compile("filename=\"([^\"]*)\"");

    private Multipart() {
    }

    /** The parts of {@code body}, or null when {@code contentType} is not multipart with a boundary. */
    static Map<String, byte[]> parse(String contentType, byte[] body) {
        return read(contentType, body, false);
    }

    /** The file names of the parts that carry one, by part name (empty when none, null when not multipart). */
    static Map<String, String> fileNames(String contentType, byte[] body) {
        Map<String, byte[]> names = read(contentType, body, true);
        if (names == null) {
            return Map.of();
        }
        Map<String, String> out = new HashMap<>();
        names.forEach((k, v) -> out.put(k, new String(v, StandardCharsets.UTF_8)));
        return out;
    }

    private static Map<String, byte[]> read(String contentType, byte[] body, boolean fileNames) {
        if (contentType == null || !contentType.startsWith("multipart/form-data")) {
            return null;
        }
        Matcher b = BOUNDARY.matcher(contentType);
        if (!b.find()) {
            return null;
        }
        byte[] delimiter = ("--" + b.group(1)).getBytes(StandardCharsets.ISO_8859_1);
        Map<String, byte[]> parts = new HashMap<>();
        int at = indexOf(body, delimiter, 0);
        while (at >= 0) {
            int start = at + delimiter.length;
            if (start + 2 <= body.length && body[start] == '-' && body[start + 1] == '-') {
                break;
            }
            int headersEnd = indexOf(body, "\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1), start);
            int next = indexOf(body, delimiter, start);
            if (headersEnd < 0 || next < 0) {
                break;
            }
            String headers = new String(body, start, headersEnd - start, StandardCharsets.ISO_8859_1);
            Matcher n = NAME.matcher(headers);
            if (n.find()) {
                Matcher file = FILENAME.matcher(headers);
                if (!fileNames) {
                    parts.put(n.group(1), Arrays.copyOfRange(body, headersEnd + 4, next - 2));
                } else if (file.find()) {
                    parts.put(n.group(1), file.group(1).getBytes(StandardCharsets.UTF_8));
                }
            }
            at = next;
        }
        return parts;
    }

    private static int indexOf(byte[] data, byte[] pattern, int from) {
        outer:
        for (int i = from; i <= data.length - pattern.length; i++) {
            for (int j = 0; j < pattern.length; j++) {
                if (data[i + j] != pattern[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
