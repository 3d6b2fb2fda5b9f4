package dev.axfleet.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonParser;
import dev.axfleet.config.BuildInfo;
import dev.axfleet.config.Settings;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The axfleet command line as a person types it, against a running (emulated) fleet: help on every command,
 * --version, ps, run with a prompt and as a chat, config check, and one line for every error.
 */
class CommandLineTest {
    static final String MODEL = "qwen3-cli";
    static final HttpClient HTTP = HttpClient.newHttpClient();

    @TempDir
    static Path home;
    static Fleet fleet;
    static Settings settings;

    @BeforeAll
    static void start() throws Exception {
        fleet = Fleet.start(FleetConfig.from(Settings.of(Map.of(
                "fleet.home", home.toString(),
                "fleet.emulate", "true",
                "fleet.monitor", "false",
                "fleet.models", MODEL + "=Qwen3-0.6B",
                "fleet.image_model", "",
                "emulator.time_scale", "0.05",
                "broker.embedded_port", "0",
                "gateway.port", "0"))));
        TestFleets.awaitHealthy("http://127.0.0.1:" + fleet.gatewayPort());
        settings = Settings.of(Map.of("gateway.port", String.valueOf(fleet.gatewayPort())));
    }

    @AfterAll
    static void stop() {
        fleet.close();
    }

    record Result(int exit, String out, String err) {
    }

    /** The command line with {@code input} typed at it. */
    static Result typing(String input, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int exit = Axfleet.run(args, settings, new ByteArrayInputStream(input.getBytes(StandardCharsets.UTF_8)),
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Result(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    static Result axfleet(String... args) {
        return typing("", args);
    }

    static void allCommands(CommandLine c, List<List<String>> out, List<String> path) {
        for (Map.Entry<String, CommandLine> e : c.getSubcommands().entrySet()) {
            List<String> p = new ArrayList<>(path);
            p.add(e.getKey());
            out.add(p);
            allCommands(e.getValue(), out, p);
        }
    }

    @Test
    void everyCommandAnswersHelpWithExitZero() {
        List<List<String>> commands = new ArrayList<>();
        commands.add(List.of());
        allCommands(new CommandLine(new Axfleet()), commands, List.of());
        for (String wanted : List.of("up", "worker", "gateway", "monitor", "models", "plan", "ps", "run", "config")) {
            assertTrue(commands.contains(List.of(wanted)), wanted + " is a command: " + commands);
        }
        for (List<String> command : commands) {
            for (String help : List.of("-h", "--help")) {
                List<String> args = new ArrayList<>(command);
                args.add(help);
                Result r = axfleet(args.toArray(String[]::new));
                assertEquals(0, r.exit(), args + ": " + r.err());
                assertTrue(r.out().contains("Usage: axfleet"), args + ": " + r.out());
            }
        }
    }

    @Test
    void versionSaysWhichAxfleetAndCommit() {
        Result r = axfleet("--version");
        assertEquals(0, r.exit());
        assertTrue(r.out().startsWith("axfleet " + BuildInfo.current().version() + " (commit " + BuildInfo.current().commit()), r.out());
    }

    @Test
    void aMistypedCommandLineIsRefusedWithItsUsage() {
        Result r = axfleet("serve");
        assertEquals(2, r.exit());
        assertTrue(r.err().startsWith("Unmatched argument at index 0: 'serve'"), r.err());
        assertEquals(2, axfleet("models", "pull").exit(), "a missing MODEL");
    }

    @Test
    void psShowsEachModelsWorkersLikeOllamaPs() {
        Result r = axfleet("ps");
        assertEquals(0, r.exit(), r.err() + r.out());
        List<String> lines = r.out().lines().toList();
        assertTrue(lines.get(0).matches("MODEL\\s+WORKER\\s+PHASE\\s+RUNTIME\\s+CARD\\s+PENDING\\s+DONE"), lines.get(0));
        assertTrue(lines.get(1).matches(MODEL + "\\s+local-" + MODEL + "\\s+ready\\s+axllm-serve EMULATED\\s+\\S+.*\\s+0\\s+\\d+"), lines.get(1));
        assertTrue(r.out().contains("status ok, broker connected (EMULATED"), r.out());
        assertTrue(r.out().contains("gateway: axfleet " + BuildInfo.current().version() + " (commit " + BuildInfo.current().commit() + ")"), r.out());
    }

    @Test
    void runStreamsTheAnswerToAPrompt() {
        Result r = axfleet("run", MODEL, "Say", "hello");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().startsWith("(emulated Qwen3-0.6B)"), r.out());
    }

    @Test
    void runWithoutAPromptIsAChatThatKeepsTheConversation() throws Exception {
        Result r = typing("First question\n\nSecond question\n/bye\nnever asked\n", "run", MODEL);
        assertEquals(0, r.exit(), r.err());
        assertEquals(2, r.out().split("\\(emulated Qwen3-0.6B\\)", -1).length - 1, "two answers: " + r.out());
        String stats = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + Fleet.EMULATED_RUNTIME_PORTS.get(MODEL)
                + "/_emulator/stats")).build(), HttpResponse.BodyHandlers.ofString()).body();
        JsonArray prompts = JsonParser.parseString(stats).getAsJsonObject().getAsJsonArray("prompts");
        String last = prompts.get(prompts.size() - 1).getAsString();
        assertTrue(last.contains("First question") && last.contains("Second question"), "the second turn carries the first: " + last);
        assertFalse(stats.contains("never asked"));
    }

    @Test
    void errorsAreOneLineThatSaysWhatToDo() {
        Result unknown = axfleet("run", "no-such-model", "hi");
        assertEquals(1, unknown.exit());
        assertEquals(1, unknown.err().lines().count(), unknown.err());
        assertTrue(unknown.err().startsWith("axfleet run: 404 model \"no-such-model\" not found"), unknown.err());

        Result noGateway = withSettings(Settings.of(Map.of("gateway.port", "1")), "ps");
        assertEquals(1, noGateway.exit());
        assertEquals("axfleet ps: no gateway answers at http://127.0.0.1:1: is it running? (systemctl status axfleet-gateway, or"
                + " ./axfleet up; --url names another)\n", noGateway.err());

        Result noFile = axfleet("config", "check", home.resolve("missing.conf").toString());
        assertEquals(1, noFile.exit());
        assertEquals("axfleet config check: " + home.resolve("missing.conf") + " does not exist\n", noFile.err());
    }

    static Result withSettings(Settings s, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int exit = Axfleet.run(args, s, new ByteArrayInputStream(new byte[0]), new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Result(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void configCheckNamesUnknownKeysAndBadValuesWithTheirLine() throws Exception {
        Path conf = home.resolve("axfleet.conf");
        Files.writeString(conf, String.join("\n",
                "# mine",
                "worker.session_expiry = 1d",
                "gateway.prot = 9090",
                "gateway.request_timeout = 5 minutes",
                "runtime.kind = axllm",
                "monitor.hot_c = hot",
                "gateway.port = 8080",
                "gateway.port = 8081",
                "fleet.emulate = perhaps",
                "gateway.models = qwen3-1.7b,lcm-lora-sdv1-5",
                ""));
        Result r = axfleet("config", "check", conf.toString());
        assertEquals(1, r.exit(), r.out());
        assertEquals(List.of(
                conf + ":3: unknown setting gateway.prot (did you mean gateway.port?)",
                conf + ":4: gateway.request_timeout must be a duration like 300ms, 30s, 5m, 2h or 1d, not '5 minutes'",
                conf + ":5: runtime.kind must be axllm-serve, main-api, sd15-lcm, axllm-serve-images, axllm-serve-embeddings, asr-server or stackflow-melotts, not axllm",
                conf + ":6: monitor.hot_c must be a whole number, not 'hot'",
                conf + ":8: gateway.port is set again (line 7's value is ignored)",
                conf + ":9: fleet.emulate must be true or false, not 'perhaps'",
                conf + ":10: gateway.models names lcm-lora-sdv1-5, which is the model sd15-lcm: write sd15-lcm (the name its unit,"
                        + " folder and topic use)",
                conf + ": 7 problem(s)"), r.out().lines().toList());

        Result shipped = axfleet("config", "check", InstallScriptIT.DEPLOY.resolve("axfleet.conf").toString());
        assertEquals(0, shipped.exit(), shipped.out());
        Path uncommented = home.resolve("every-default.conf");
        Files.writeString(uncommented, Files.readString(InstallScriptIT.DEPLOY.resolve("axfleet.conf"))
                .replaceAll("(?m)^# ([a-z_]+\\.[a-z_.]+ =[ \\t]*)((?:(?![ \\t]{2,}\\().)*)(?:[ \\t]{2,}\\(.*)?$", "$1$2")
                .replaceAll("(?m)^(worker\\.model|worker\\.id|card\\.host|gateway\\.id|fleet\\.models|runtime\\.command|runtime\\.tokenizer_command"
                        + "|runtime\\.workdir|runtime\\.model_dir|worker\\.state_dir|runtime\\.system_prompt|monitor\\.host_reboot) =.*$", "# $0"));
        Result defaults = axfleet("config", "check", uncommented.toString());
        assertEquals(0, defaults.exit(), "every shipped default, 1d included, is valid:\n" + defaults.out());
    }
}
