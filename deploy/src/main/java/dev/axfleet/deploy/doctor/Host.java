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

    /** Whether {@code program} (a path, or a name looked up on PATH) is an executable file here. */
    static boolean onPath(String program) {
        String p = program.replace("'", "").replace("\"", "");
        if (p.contains("/")) {
            return Files.isExecutable(Path.of(p));
        }
        String path = System.getenv().getOrDefault("PATH", "/usr/local/bin:/usr/bin:/bin");
        return java.util.Arrays.stream(path.split(":")).anyMatch(d -> !d.isEmpty() && Files.isExecutable(Path.of(d, p)));
    }

    /**
     * The local addresses of the TCP sockets listening on {@code port} (/proc/net/tcp and tcp6: {@code 0.0.0.0}, {@code ::},
     * {@code 127.0.0.1}, ...), as {@code ss -ltn} would show them.
     */
    static List<String> listening(int port) {
        List<String> out = new java.util.ArrayList<>();
        for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
            List<String> lines;
            try {
                lines = Files.readAllLines(Path.of(table));
            } catch (IOException e) {
                continue;
            }
            for (String line : lines.subList(Math.min(1, lines.size()), lines.size())) {
                String[] f = line.strip().split("\\s+");
                if (f.length < 4 || !f[3].equals("0A")) {
                    continue; // not LISTEN
                }
                String[] local = f[1].split(":");
                if (local.length == 2 && Integer.parseInt(local[1], 16) == port) {
                    out.add(address(local[0]));
                }
            }
        }
        return out;
    }

    /** /proc/net/tcp's hex address: four bytes (or sixteen) in the kernel's order, each 32-bit word little-endian. */
    private static String address(String hex) {
        byte[] b = HexFormat.of().parseHex(hex);
        for (int i = 0; i + 3 < b.length; i += 4) {
            byte t = b[i];
            b[i] = b[i + 3];
            b[i + 3] = t;
            t = b[i + 1];
            b[i + 1] = b[i + 2];
            b[i + 2] = t;
        }
        try {
            return InetAddress.getByAddress(b).getHostAddress().replace("0:0:0:0:0:0:0:0", "::");
        } catch (java.net.UnknownHostException e) {
            return hex;
        }
    }

    /** A word for a command line in the settings' syntax (worker CommandLine): single-quoted. */
    static String quote(String word) {
        return "'" + word.replace("'", "'\"'\"'") + "'";
    }
}
