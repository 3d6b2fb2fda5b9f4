package dev.axfleet.deploy.doctor;

import dev.axfleet.monitor.probe.Tool;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;

/** Small things about the machine doctor runs on: a command's first line, a file's hash, a free port. */
final class Host {
    private Host() {
    }

    /** The command's output, stripped; {@code fallback} when it cannot run or fails. */
    static String output(List<String> command, String fallback) {
        Tool.Result r = Tool.run(command, null, Duration.ofSeconds(10));
        return r.startError() == null && !r.timedOut() && r.exitCode() == 0 && !r.output().isBlank() ? r.output().strip() : fallback;
    }

    static String firstLine(String text) {
        int nl = text.indexOf('\n');
        return nl < 0 ? text : text.substring(0, nl);
    }

    /** {@code PRETTY_NAME} of /etc/os-release. */
    static String osRelease() {
        try {
            for (String line : Files.readAllLines(Path.of("/etc/os-release"))) {
                if (line.startsWith("PRETTY_NAME=")) {
                    return line.substring(12).replace("\"", "");
                }
            }
        } catch (IOException e) {
            // Below.
        }
        return System.getProperty("os.name");
    }

    /** The board, from the device tree (a Pi says "Raspberry Pi 5 Model B Rev 1.0"). */
    static String board() {
        try {
            return Files.readString(Path.of("/proc/device-tree/model")).replace("\u0000", "").strip();
        } catch (IOException e) {
            return "unknown (no /proc/device-tree/model)";
        }
    }

    static String sha256(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest d = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) {
                d.update(buf, 0, n);
            }
            return HexFormat.of().formatHex(d.digest());
        } catch (IOException e) {
            return "unreadable (" + e.getMessage() + ")";
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException("no free loopback port: " + e.getMessage(), e);
        }
    }

    /** A word for a command line in the settings' syntax (worker CommandLine): single-quoted. */
    static String quote(String word) {
        return "'" + word.replace("'", "'\"'\"'") + "'";
    }
}
