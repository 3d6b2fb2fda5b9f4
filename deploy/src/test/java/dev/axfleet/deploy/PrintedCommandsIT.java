package dev.axfleet.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every {@code axfleet} command that the installer or a document tells a person to type, typed as printed, into
 * the packaged jar (a download in its dry-run form, against a local stand-in for the model host): none is refused
 * as a command line, none ends in a stack trace. The service commands (up, worker, gateway, monitor) and doctor (it stops the
 * services and works the card for minutes) answer --help.
 */
class PrintedCommandsIT {
    static final Pattern DOC_COMMAND = Pattern.compile("(?m)^\\s*(?:sudo\\s+)?(axfleet\\s[^\\n#]*?)\\s*(?:#.*)?$");
    static final Pattern PRINTED_COMMAND = Pattern.compile("(?:sudo )?(axfleet (?:models|plan|ps|run|config)[^\\n`]*)");

    @TempDir
    Path dir;
    HttpServer host;

    /** A model host that lists one small file for any repository. */
    @BeforeEach
    void host() throws IOException {
        host = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 8);
        host.createContext("/api/models/", ex -> {
            byte[] body = "[{\"type\":\"file\",\"path\":\"config.json\",\"size\":2,\"oid\":\"9e26dfeeb6e641a33dae4961196235bdb965b21b\"}]"
                    .getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(200, body.length);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(body);
            }
        });
        host.start();
    }

    @AfterEach
    void stop() {
        host.stop(0);
    }

    /** The commands in the shell blocks of the README and every document. */
    static Set<String> documented() throws IOException {
        Set<String> out = new LinkedHashSet<>();
        List<Path> docs = new ArrayList<>(List.of(InstallScriptIT.REPO.resolve("README.md"), InstallScriptIT.REPO.resolve("examples/README.md")));
        try (Stream<Path> files = Files.list(InstallScriptIT.REPO.resolve("docs"))) {
            files.filter(p -> p.toString().endsWith(".md")).sorted().forEach(docs::add);
        }
        Pattern block = Pattern.compile("(?s)```(?:sh|bash|shell)\\n(.*?)```");
        for (Path doc : docs) {
            Matcher b = block.matcher(Files.readString(doc));
            while (b.find()) {
                Matcher c = DOC_COMMAND.matcher(b.group(1));
                while (c.find()) {
                    // The shell's part (a redirection, a pipe, a next command) is not axfleet's command line.
                    out.add(c.group(1).split("\\s+(?:\\d?>|\\||&&|;)", 2)[0].trim());
                }
            }
        }
        return out;
    }

    InstallScriptIT.Run axfleet(String command) throws Exception {
        List<String> argv = new ArrayList<>(List.of("java", "-jar", InstallScriptIT.DEPLOY.resolve("target/axfleet.jar").toString()));
        argv.addAll(List.of(command.substring("axfleet ".length()).trim().split("\\s+")));
        if (command.startsWith("axfleet models pull")) {
            argv.add("--dry-run");
        }
        return InstallScriptIT.run(argv, Map.of("AXFLEET_CONFIG", dir.resolve("none.conf").toString(),
                "AXFLEET_MODELS_DIR", dir.resolve("models").toString(),
                "HF_ENDPOINT", "http://127.0.0.1:" + host.getAddress().getPort(),
                "AXFLEET_GATEWAY_PORT", "1"));
    }

    static void worksAsPasted(String command, InstallScriptIT.Run r) {
        assertNotEquals(2, r.exit(), command + ": refused as a command line\n" + r.output());
        assertFalse(r.output().contains("Exception") || r.output().contains("\tat "), command + ": a stack trace\n" + r.output());
    }

    @Test
    void everyAxfleetCommandTheDocumentsShowWorksAsPasted() throws Exception {
        Set<String> commands = documented();
        assertTrue(commands.contains("axfleet models pull qwen3-1.7b"), "the setup guide's pull is among them: " + commands);
        assertTrue(commands.stream().anyMatch(c -> c.contains("sd15-lcm")), "the image model by its one name: " + commands);
        for (String command : commands) {
            String verb = command.split("\\s+")[1];
            InstallScriptIT.Run r = Set.of("up", "worker", "gateway", "monitor", "doctor").contains(verb) ? axfleet(command + " --help") : axfleet(command);
            worksAsPasted(command, r);
            if (command.startsWith("axfleet models pull")) {
                assertEquals(0, r.exit(), command + "\n" + r.output());
                assertTrue(r.output().contains("would get config.json"), r.output());
            }
        }
    }

    @Test
    void everyAxfleetCommandTheInstallerPrintsWorksAsPasted() throws Exception {
        Path prefix = Files.createDirectories(dir.resolve("root"));
        InstallScriptIT.Run install = InstallScriptIT.run(List.of("bash", InstallScriptIT.DEPLOY.resolve("install.sh").toString(), "--dry-run",
                "--prefix", prefix.toString(), "--models", "qwen3-1.7b,lcm-lora-sdv1-5"));
        assertEquals(0, install.exit(), install.output());
        Set<String> printed = new LinkedHashSet<>();
        Matcher m = PRINTED_COMMAND.matcher(install.output());
        while (m.find()) {
            printed.add(m.group(1).trim());
        }
        assertEquals(Set.of("axfleet models pull qwen3-1.7b", "axfleet models pull sd15-lcm"), printed,
                "the installer names each missing model by its one name:\n" + install.output());
        for (String command : printed) {
            InstallScriptIT.Run r = axfleet(command);
            worksAsPasted(command, r);
            assertEquals(0, r.exit(), command + "\n" + r.output());
        }
        assertTrue(install.output().contains("systemctl enable --now axfleet-worker@sd15-lcm.service"), "the alias became the unit's name");
    }
}
