package dev.axfleet.config;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/** What this build is: the project version and the commit it was built from (written by the build). */
public record Build(String version, String commit) {
    private static final Build CURRENT = read();

    public static Build current() {
        return CURRENT;
    }

    private static Build read() {
        Properties p = new Properties();
        try (InputStream in = Build.class.getResourceAsStream("build.properties")) {
            if (in != null) {
                p.load(in);
            }
        } catch (IOException e) {
            // Unknown below.
        }
        String commit = known(p.getProperty("commit"));
        if (!commit.equals("unknown") && "true".equals(p.getProperty("dirty"))) {
            commit += "-dirty";
        }
        return new Build(known(p.getProperty("version")), commit);
    }

    /** A property the build could not fill in stays as its placeholder: unknown. */
    private static String known(String value) {
        return value == null || value.isBlank() || value.startsWith("${") ? "unknown" : value;
    }
}
