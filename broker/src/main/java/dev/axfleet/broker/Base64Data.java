package dev.axfleet.broker;

import java.util.Base64;
import java.util.regex.Pattern;

/** Bytes (images, for now) as clients send them in JSON: every kind that carries an image reads it here. */
public final class Base64Data {
    private static final Pattern WHITESPACE = Pattern.compile("\\s+");

    private Base64Data() {
    }

    /**
     * The bytes of base64 as clients send it: plain base64, with line breaks, or as a {@code data:} URL.
     *
     * @throws IllegalArgumentException when it is not base64
     */
    public static byte[] decode(String b64) {
        String s = b64;
        if (s.startsWith("data:")) {
            int comma = s.indexOf(',');
            if (comma < 0 || !s.substring(0, comma).endsWith(";base64")) {
                throw new IllegalArgumentException("a data: URL without ;base64,");
            }
            s = s.substring(comma + 1);
        }
        return Base64.getDecoder().decode(WHITESPACE.matcher(s).replaceAll(""));
    }

    public static String encode(byte[] data) {
        return Base64.getEncoder().encodeToString(data);
    }
}
