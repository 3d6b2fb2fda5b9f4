package dev.axfleet.config;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/**
 * axfleet's own version and the commit it was built from, written into {@code build.properties} at build time
 * (maven-antrun-plugin asks git, in broker/pom.xml). A build outside a git checkout has no commit: "unknown".
 *
 * @param dirty whether the build had changes that were not committed
 */
public record BuildInfo(String version, String commit, String commitTime, boolean dirty) {
    private static final BuildInfo CURRENT = read();

    public static BuildInfo current() {
        return CURRENT;
    }

    /** {@code 0.1.0 (commit 1a2b3c4, 2026-12-01T08:00:00Z)}, with {@code , modified} for an uncommitted build. */
    public String describe() {
        return version + " (commit " + commit + (commitTime.equals("unknown") ? "" : ", " + commitTime) + (dirty ? ", modified" : "") + ")";
    }

    private static BuildInfo read() {
        Properties p = new Properties();
        try (InputStream in = BuildInfo.class.getResourceAsStream("build.properties")) {
            if (in != null) {
                p.load(in);
            }
        } catch (IOException e) {
            // an unreadable resource leaves every field "unknown"
        }
        String version = p.getProperty("version");
        return new BuildInfo(version == null ? "unknown" : version, p.getProperty("commit", "unknown"),
                p.getProperty("commit_time", "unknown"), Boolean.parseBoolean(p.getProperty("dirty", "false")));
    }
}
