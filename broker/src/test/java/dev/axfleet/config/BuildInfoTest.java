package dev.axfleet.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The version and commit written at build time are this checkout's. */
class BuildInfoTest {
    @Test
    void theBuildSaysWhichVersionAndCommitItIs() throws Exception {
        BuildInfo b = BuildInfo.current();
        assertTrue(b.version().matches("\\d+\\.\\d+\\.\\d+(-SNAPSHOT)?"), b.version());
        String head;
        boolean checkout;
        try {
            Process git = new ProcessBuilder("git", "rev-parse", "--short=12", "HEAD").redirectErrorStream(true).start();
            head = new String(git.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            checkout = git.waitFor(10, TimeUnit.SECONDS) && git.exitValue() == 0;
        } catch (java.io.IOException noGit) {
            head = "no git: " + noGit.getMessage();
            checkout = false;
        }
        if (checkout) {
            assertEquals(head, b.commit(), "the commit this build was made from");
        } else {
            assertEquals("unknown", b.commit(), "outside a git checkout: " + head);
        }
        assertTrue(b.describe().startsWith(b.version() + " (commit " + b.commit()), b.describe());
    }
}
