package dev.axfleet.gateway;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.security.MessageDigest;
import java.util.Set;

/** Tokens and keys read from files only their owner can read, and compared in constant time. */
final class Secrets {
    private static final Set<PosixFilePermission> TOO_OPEN = Set.of(PosixFilePermission.GROUP_READ, PosixFilePermission.GROUP_WRITE,
            PosixFilePermission.OTHERS_READ, PosixFilePermission.OTHERS_WRITE);

    private Secrets() {
    }

    /** The secret in {@code file}; refuses a file others can read (as ssh does with keys) or a short secret. */
    static String read(Path file, String setting) {
        try {
            Set<PosixFilePermission> perms = Files.getPosixFilePermissions(file);
            if (perms.stream().anyMatch(TOO_OPEN::contains)) {
                throw new IllegalStateException(setting + " " + file + " is readable by others; chmod 600 it");
            }
            String t = Files.readString(file).strip();
            if (t.length() < 16) {
                throw new IllegalStateException(setting + " " + file + " holds fewer than 16 characters");
            }
            return t;
        } catch (IOException e) {
            throw new IllegalStateException(setting + " " + file + " cannot be read: " + e.getMessage(), e);
        }
    }

    /** Whether {@code authorization} is HTTP Basic with {@code secret} as the password (any user name). */
    static boolean basicMatches(String authorization, byte[] secret) {
        String auth = authorization == null ? "" : authorization;
        if (!auth.regionMatches(true, 0, "Basic ", 0, 6)) {
            return false;
        }
        byte[] decoded;
        try {
            decoded = java.util.Base64.getDecoder().decode(auth.substring(6).strip());
        } catch (IllegalArgumentException e) {
            return false;
        }
        String pair = new String(decoded, StandardCharsets.UTF_8);
        int colon = pair.indexOf(':');
        return colon >= 0 && MessageDigest.isEqual(pair.substring(colon + 1).getBytes(StandardCharsets.UTF_8), secret);
    }

    /** Whether {@code value} (a header such as X-API-Key) is the secret itself. */
    static boolean plainMatches(String value, byte[] secret) {
        return value != null && MessageDigest.isEqual(value.strip().getBytes(StandardCharsets.UTF_8), secret);
    }

    /** Whether {@code authorization} is {@code Bearer <secret>}. */
    static boolean bearerMatches(String authorization, byte[] secret) {
        String auth = authorization == null ? "" : authorization;
        byte[] given = auth.startsWith("Bearer ") ? auth.substring(7).strip().getBytes(StandardCharsets.UTF_8) : new byte[0];
        return MessageDigest.isEqual(given, secret);
    }
}
