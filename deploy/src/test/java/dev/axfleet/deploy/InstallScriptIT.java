package dev.axfleet.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.axfleet.broker.testing.TestTools;
import dev.axfleet.config.Settings;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * deploy/install.sh as a person runs it, into a folder instead of / (--prefix), after `package` built the
 * jar; ShellCheck on every script; systemd-analyze on every unit; the settings file against its reference.
 */
class InstallScriptIT {
    static final Path DEPLOY = Path.of("").toAbsolutePath();
    static final Path REPO = DEPLOY.getParent();

    record Run(int exit, String output) {
    }

    static Run run(List<String> command) throws IOException, InterruptedException {
        return run(command, Map.of());
    }

    static Run run(List<String> command, Map<String, String> env) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().putAll(env);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS));
        return new Run(p.exitValue(), out);
    }

    static Run install(Path prefix, String... more) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("bash", DEPLOY.resolve("install.sh").toString(), "--prefix", prefix.toString(),
                "--models", "qwen3-1.7b,qwen3-0.6b"));
        command.addAll(List.of(more));
        return run(command);
    }

    @Test
    void aDryRunPrintsEveryActionAndChangesNothing(@TempDir Path prefix) throws Exception {
        Run r = install(prefix, "--dry-run");
        assertEquals(0, r.exit(), r.output());
        for (String action : List.of("apt-get install -y mosquitto mosquitto-clients default-jre-headless ffmpeg",
                "useradd --system", "/opt/axfleet/axfleet.jar", "/etc/systemd/system/axfleet-worker@.service",
                "/etc/mosquitto/conf.d/axfleet.conf", "systemctl enable --now axfleet-gateway.service",
                "systemctl enable --now axfleet-monitor.service",
                "systemctl enable --now axfleet-worker@qwen3-1.7b.service", "systemctl enable --now axfleet-worker@qwen3-0.6b.service")) {
            assertTrue(r.output().contains(action), "prints: " + action);
        }
        try (Stream<Path> files = Files.walk(prefix)) {
            assertEquals(1, files.count(), "nothing written");
        }
    }

    @Test
    void anInstallWritesTheFilesAndASecondRunKeepsThem(@TempDir Path prefix) throws Exception {
        TestTools.require("mosquitto_passwd", "apt-get install mosquitto", Files.isExecutable(Path.of("/usr/bin/mosquitto_passwd")));
        Run first = install(prefix);
        assertEquals(0, first.exit(), first.output());
        assertTrue(first.output().contains("(not run) systemctl"), "system actions are only printed under --prefix");
        for (String file : List.of("opt/axfleet/axfleet.jar", "opt/axfleet/docs/configuration.md", "etc/axfleet/axfleet.conf",
                "etc/systemd/system/axfleet-gateway.service", "etc/systemd/system/axfleet-worker@.service",
                "etc/systemd/system/axfleet-monitor.service", "etc/mosquitto/conf.d/axfleet.conf", "etc/mosquitto/axfleet.acl")) {
            assertTrue(Files.isRegularFile(prefix.resolve(file)), file);
        }
        try (Stream<Path> libs = Files.list(prefix.resolve("opt/axfleet/lib"))) {
            assertTrue(libs.anyMatch(p -> p.getFileName().toString().startsWith("axfleet-worker")), "the jar's class path is there");
        }
        assertTrue(Files.readString(prefix.resolve("etc/axfleet/axfleet.conf")).contains("\ngateway.models = qwen3-1.7b,qwen3-0.6b\n"));
        assertEquals("rwxr-xr-x", PosixFilePermissions.toString(Files.getPosixFilePermissions(prefix.resolve("usr/local/bin/axfleet"))),
                "the axfleet command (models, plan) is installed");
        for (String secret : List.of("etc/mosquitto/axfleet.passwd", "etc/axfleet/secrets.env", "etc/axfleet/device-password",
                "etc/axfleet/monitor-password", "etc/axfleet/homeassistant-password", "etc/axfleet/admin-token")) {
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(prefix.resolve(secret))), secret);
        }
        Settings conf = Settings.load(prefix.resolve("etc/axfleet/axfleet.conf"), Map.of());
        assertEquals("/etc/axfleet/admin-token", conf.string("gateway.admin_token_file", null), "admin routes enabled with the made token");
        assertTrue(Files.readString(prefix.resolve("etc/axfleet/admin-token")).trim().matches("\\w{20,}"));
        assertEquals(null, conf.string("gateway.api_key_file", null), "no API key unless asked: existing clients send none");
        assertFalse(Files.exists(prefix.resolve("etc/axfleet/api-key")));
        List<String> users = Files.readAllLines(prefix.resolve("etc/mosquitto/axfleet.passwd")).stream()
                .map(l -> l.substring(0, l.indexOf(':'))).toList();
        assertEquals(List.of("device", "gateway", "worker", "monitor", "homeassistant"), users, "one broker user per ACL user");
        String secrets = Files.readString(prefix.resolve("etc/axfleet/secrets.env"));
        assertTrue(secrets.matches("(?s)AXFLEET_GATEWAY_MQTT_USERNAME=gateway\nAXFLEET_GATEWAY_MQTT_PASSWORD=\\w{20,}\n"
                + "AXFLEET_WORKER_MQTT_USERNAME=worker\nAXFLEET_WORKER_MQTT_PASSWORD=\\w{20,}\n"
                + "AXFLEET_MONITOR_MQTT_USERNAME=monitor\nAXFLEET_MONITOR_MQTT_PASSWORD=\\w{20,}\n"), secrets);

        Files.writeString(prefix.resolve("etc/axfleet/axfleet.conf"), "gateway.port = 9090\n", java.nio.file.StandardOpenOption.APPEND);
        Run second = install(prefix);
        assertEquals(0, second.exit(), second.output());
        assertFalse(second.output().contains("+ install"), "nothing rewritten:\n" + second.output());
        assertTrue(second.output().contains("kept " + prefix.resolve("etc/axfleet/axfleet.conf")));
        assertTrue(Files.readString(prefix.resolve("etc/axfleet/axfleet.conf")).endsWith("gateway.port = 9090\n"), "the operator's edit stays");
        assertEquals(secrets, Files.readString(prefix.resolve("etc/axfleet/secrets.env")), "passwords stay");
    }

    @Test
    void theImageModelGetsItsWorkerSettings(@TempDir Path prefix) throws Exception {
        TestTools.require("mosquitto_passwd", "apt-get install mosquitto", Files.isExecutable(Path.of("/usr/bin/mosquitto_passwd")));
        Run r = run(List.of("bash", DEPLOY.resolve("install.sh").toString(), "--prefix", prefix.toString(), "--models", "qwen3-1.7b,sd15-lcm"));
        assertEquals(0, r.exit(), r.output());
        Path env = prefix.resolve("etc/axfleet/worker-sd15-lcm.env");
        assertTrue(Files.readString(env).contains("\nAXFLEET_RUNTIME_KIND=sd15-lcm\n"), Files.readString(env));
        assertFalse(Files.exists(prefix.resolve("etc/axfleet/worker-qwen3-1.7b.env")), "chat models keep the shared settings");
        assertTrue(r.output().contains("systemctl enable --now axfleet-worker@sd15-lcm.service"));
        assertTrue(Files.readString(prefix.resolve("etc/axfleet/axfleet.conf")).contains("\ngateway.models = qwen3-1.7b,sd15-lcm\n"));
    }

    @Test
    void withApiKeyTheInstallMakesAKeyTheGatewayWillRequire(@TempDir Path prefix) throws Exception {
        TestTools.require("mosquitto_passwd", "apt-get install mosquitto", Files.isExecutable(Path.of("/usr/bin/mosquitto_passwd")));
        Run r = install(prefix, "--api-key");
        assertEquals(0, r.exit(), r.output());
        Path key = prefix.resolve("etc/axfleet/api-key");
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(key)));
        assertTrue(Files.readString(key).trim().matches("\\w{20,}"), "a key of at least 20 characters");
        assertTrue(r.output().contains("(not run) chown axfleet:axfleet /etc/axfleet/api-key"), "owned by the gateway's user");
        Settings conf = Settings.load(prefix.resolve("etc/axfleet/axfleet.conf"), Map.of());
        assertEquals("/etc/axfleet/api-key", conf.string("gateway.api_key_file", null));
        String again = Files.readString(key);
        assertEquals(0, install(prefix, "--api-key").exit());
        assertEquals(again, Files.readString(key), "a second run keeps the key");
    }

    /** The release archive made by `package`, unpacked as a person on the Pi unpacks it. */
    static Path unpackRelease(Path into) throws Exception {
        Path archive;
        try (Stream<Path> files = Files.list(DEPLOY.resolve("target"))) {
            archive = files.filter(p -> p.getFileName().toString().matches("axfleet-.+\\.tar\\.gz")).findFirst().orElseThrow(
                    () -> new AssertionError("mvn package made no axfleet-VERSION.tar.gz in deploy/target"));
        }
        Files.createDirectories(into);
        Run tar = run(List.of("tar", "-xzf", archive.toString(), "-C", into.toString()));
        assertEquals(0, tar.exit(), tar.output());
        String top = archive.getFileName().toString().replace(".tar.gz", "");
        return into.resolve(top);
    }

    /** A PATH with every program of this machine but Maven: the archive must install without it. */
    static String pathWithoutMaven(Path dir) throws IOException {
        Path bin = Files.createDirectories(dir);
        for (String d : List.of("/usr/local/bin", "/usr/bin", "/bin", "/usr/sbin", "/sbin")) {
            if (!Files.isDirectory(Path.of(d))) {
                continue;
            }
            try (Stream<Path> programs = Files.list(Path.of(d))) {
                for (Path p : programs.toList()) {
                    String name = p.getFileName().toString();
                    if (!name.startsWith("mvn") && !Files.exists(bin.resolve(name), java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                        Files.createSymbolicLink(bin.resolve(name), p);
                    }
                }
            }
        }
        return bin.toString();
    }

    @Test
    void theReleaseArchiveInstallsWithoutMavenUpgradesKeepingWhatIsYoursAndUninstalls(@TempDir Path dir) throws Exception {
        TestTools.require("mosquitto_passwd", "apt-get install mosquitto", Files.isExecutable(Path.of("/usr/bin/mosquitto_passwd")));
        Path release = unpackRelease(dir.resolve("unpacked"));
        for (String shipped : List.of("axfleet.jar", "install.sh", "axfleet.conf", "bin/axfleet", "systemd/axfleet-worker@.service",
                "systemd/axfleet-gateway.service", "systemd/axfleet-monitor.service", "mosquitto/axfleet.conf", "mosquitto/axfleet.acl",
                "docs/RASPBERRY_PI_SETUP.md")) {
            assertTrue(Files.isRegularFile(release.resolve(shipped)), "the archive holds " + shipped);
        }
        assertTrue(Files.isExecutable(release.resolve("install.sh")));
        Map<String, String> noMaven = Map.of("PATH", pathWithoutMaven(dir.resolve("bin")));
        assertEquals(1, run(List.of("bash", "-c", "command -v mvn"), noMaven).exit(), "no Maven on this PATH");
        Path root = Files.createDirectories(dir.resolve("root"));
        List<String> install = List.of("bash", release.resolve("install.sh").toString(), "--prefix", root.toString(), "--models", "qwen3-1.7b");

        Run first = run(install, noMaven);
        assertEquals(0, first.exit(), first.output());
        assertFalse(first.output().contains("mvn"), first.output());
        assertTrue(first.output().contains("every setting is known and its value valid"), "the installed version checked the settings:\n" + first.output());
        for (String file : List.of("opt/axfleet/axfleet.jar", "etc/axfleet/axfleet.conf", "etc/systemd/system/axfleet-worker@.service",
                "etc/mosquitto/conf.d/axfleet.conf", "usr/local/bin/axfleet")) {
            assertTrue(Files.isRegularFile(root.resolve(file)), file);
        }
        Run version = run(List.of("java", "-jar", root.resolve("opt/axfleet/axfleet.jar").toString(), "--version"), noMaven);
        assertEquals(0, version.exit(), version.output());
        assertTrue(version.output().startsWith("axfleet " + dev.axfleet.config.BuildInfo.current().version() + " (commit "), version.output());

        // What an operator has by the time a new version comes: edits, models, conversations, and an older class path.
        Path conf = root.resolve("etc/axfleet/axfleet.conf");
        Files.writeString(conf, "gateway.port = 9090\n", java.nio.file.StandardOpenOption.APPEND);
        Path model = Files.createDirectories(root.resolve("var/lib/axfleet/models/qwen3-1.7b")).resolve("config.json");
        Files.writeString(model, "{}");
        Path conversation = Files.createDirectories(root.resolve("var/lib/axfleet/conversations")).resolve("kiosk.json");
        Files.writeString(conversation, "[]");
        Path stale = root.resolve("opt/axfleet/lib/hivemq-old-1.0.jar");
        Files.writeString(stale, "an older version's library");
        Files.write(root.resolve("opt/axfleet/axfleet.jar"), new byte[] {1, 2, 3});
        String secrets = Files.readString(root.resolve("etc/axfleet/secrets.env"));

        Run upgrade = run(install, noMaven);
        assertEquals(0, upgrade.exit(), upgrade.output());
        assertTrue(upgrade.output().contains("an upgrade"), upgrade.output());
        assertTrue(Files.readString(conf).endsWith("gateway.port = 9090\n"), "the operator's settings stay");
        assertEquals(Files.readString(release.resolve("axfleet.conf")), Files.readString(root.resolve("opt/axfleet/axfleet.conf")),
                "the new version's settings file, to compare with the kept one");
        assertEquals("{}", Files.readString(model), "models stay");
        assertEquals("[]", Files.readString(conversation), "conversations stay");
        assertEquals(secrets, Files.readString(root.resolve("etc/axfleet/secrets.env")), "passwords stay");
        assertFalse(Files.exists(stale), "a library the new version does not ship is removed");
        assertTrue(Files.size(root.resolve("opt/axfleet/axfleet.jar")) > 1000, "the new jar is in place");
        assertTrue(upgrade.output().contains("systemctl try-restart axfleet-gateway.service axfleet-monitor.service"),
                "running services move onto the new version:\n" + upgrade.output());

        Run uninstall = run(List.of("bash", release.resolve("install.sh").toString(), "--prefix", root.toString(), "--uninstall"), noMaven);
        assertEquals(0, uninstall.exit(), uninstall.output());
        for (String gone : List.of("opt/axfleet", "usr/local/bin/axfleet", "etc/systemd/system/axfleet-worker@.service",
                "etc/systemd/system/axfleet-gateway.service", "etc/mosquitto/conf.d/axfleet.conf")) {
            assertFalse(Files.exists(root.resolve(gone)), gone + " removed");
        }
        assertTrue(uninstall.output().contains("systemctl disable --now axfleet-gateway.service axfleet-monitor.service"), uninstall.output());
        assertTrue(Files.exists(conf) && Files.exists(model) && Files.exists(conversation), "settings, models and conversations are kept");

        Run purge = run(List.of("bash", release.resolve("install.sh").toString(), "--prefix", root.toString(), "--uninstall", "--purge"), noMaven);
        assertEquals(0, purge.exit(), purge.output());
        assertFalse(Files.exists(root.resolve("etc/axfleet")) || Files.exists(root.resolve("var/lib/axfleet")), purge.output());
        assertTrue(purge.output().contains("(not run) userdel axfleet"), purge.output());
    }

    @Test
    void shellCheckFindsNothingInAnyScript() throws Exception {
        TestTools.require("shellcheck", "apt-get install shellcheck", Files.isExecutable(Path.of("/usr/bin/shellcheck")));
        Run r = run(List.of("shellcheck", DEPLOY.resolve("install.sh").toString(), DEPLOY.resolve("bin/axfleet").toString(),
                REPO.resolve("axfleet").toString(),
                REPO.resolve(".ci/run").toString(), REPO.resolve("bench/run").toString(), REPO.resolve("bench/start-times").toString(), REPO.resolve("bench/soak").toString(),
                REPO.resolve("examples/ask.sh").toString()));
        assertEquals(0, r.exit(), r.output());
        assertEquals("", r.output());
    }

    @Test
    void systemdAcceptsEveryUnitWithoutAWarning(@TempDir Path dir) throws Exception {
        TestTools.require("systemd-analyze", "apt-get install systemd", Files.isExecutable(Path.of("/usr/bin/systemd-analyze")));
        Files.copy(DEPLOY.resolve("systemd/axfleet-worker@.service"), dir.resolve("axfleet-worker@qwen3-1.7b.service"));
        for (Path unit : List.of(DEPLOY.resolve("systemd/axfleet-gateway.service"), DEPLOY.resolve("systemd/axfleet-worker@.service"),
                DEPLOY.resolve("systemd/axfleet-monitor.service"),
                dir.resolve("axfleet-worker@qwen3-1.7b.service"))) {
            Run r = run(List.of("systemd-analyze", "verify", unit.toString()));
            assertEquals(0, r.exit(), r.output());
            assertEquals("", r.output(), unit + " is verified without warnings");
        }
    }

    @Test
    void theSettingsFileListsExactlyTheSettingsTheReferenceDocuments() throws Exception {
        Set<String> inFile = new TreeSet<>();
        Matcher m = Pattern.compile("(?m)^# ([a-z_]+\\.[a-z_.]+) =").matcher(Files.readString(DEPLOY.resolve("axfleet.conf")));
        while (m.find()) {
            inFile.add(m.group(1));
        }
        Set<String> inDocs = new TreeSet<>();
        Matcher d = Pattern.compile("`([a-z_]+\\.[a-z_.]+)`").matcher(Files.readString(REPO.resolve("docs/configuration.md")));
        while (d.find()) {
            inDocs.add(d.group(1));
        }
        assertEquals(inDocs, inFile, "deploy/axfleet.conf and docs/configuration.md list the same settings");
    }
}
