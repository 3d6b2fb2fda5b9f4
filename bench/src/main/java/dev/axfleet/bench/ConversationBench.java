package dev.axfleet.bench;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.axfleet.config.Settings;
import dev.axfleet.deploy.Fleet;
import dev.axfleet.deploy.FleetConfig;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A coyote conversation kept on the server: time to first token (Ollama's prompt_eval_duration, the worker's
 * measure) of turn 1 and of turn 20, with the emulated runtime's prefix cache on and off, in one run. Each
 * configuration runs {@code rounds} conversations of {@code turns} turns from a reset; medians per turn.
 *
 * <p>{@code bench/conversation [turns] [rounds] [time_scale]}
 */
public final class ConversationBench {
    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private static final String PERSONA = "You are Wile, a coyote of the high desert. You speak to visitors of the museum in short,"
            + " warm sentences, you remember what they told you, and you never mention that you are a program.";

    public static void main(String[] args) throws Exception {
        int turns = args.length > 0 ? Integer.parseInt(args[0]) : 20;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        String scale = args.length > 2 ? args[2] : "0.1";
        System.out.printf(Locale.ROOT, "coyote conversation: %d turns x %d rounds, Qwen3-1.7B emulated at time scale %s%n", turns, rounds, scale);
        double[] on = run(true, turns, rounds, scale);
        double[] off = run(false, turns, rounds, scale);
        System.out.printf(Locale.ROOT, "prefix cache on:  turn 1 %.0f ms, turn %d %.0f ms, turn %d / turn 1 = %.2f%n", on[0], turns, on[1], turns, on[1] / on[0]);
        System.out.printf(Locale.ROOT, "prefix cache off: turn 1 %.0f ms, turn %d %.0f ms, turn %d / turn 1 = %.2f%n", off[0], turns, off[1], turns, off[1] / off[0]);
        System.out.printf(Locale.ROOT, "turn %d with the cache against without: %.2f%n", turns, on[1] / off[1]);
        System.exit(0);
    }

    /** Median time to first token of turn 1 and of the last turn, in ms. */
    private static double[] run(boolean prefixCache, int turns, int rounds, String scale) throws Exception {
        Path home = Files.createTempDirectory("axfleet-conversation-bench");
        Fleet fleet = Fleet.start(FleetConfig.from(Settings.of(Map.ofEntries(
                Map.entry("fleet.home", home.toString()),
                Map.entry("fleet.emulate", "true"),
                Map.entry("fleet.monitor", "false"),
                Map.entry("fleet.image_model", ""),
                Map.entry("fleet.models", "qwen3-1.7b=Qwen3-1.7B"),
                Map.entry("emulator.time_scale", scale),
                Map.entry("emulator.prefix_cache", String.valueOf(prefixCache)),
                Map.entry("broker.embedded_port", "0"),
                Map.entry("gateway.port", "0"),
                Map.entry("gateway.aliases", names(rounds, "=qwen3-1.7b")),
                Map.entry("gateway.conversational_models", names(rounds, ""))))));
        try {
            String base = "http://127.0.0.1:" + fleet.gatewayPort();
            awaitHealthy(base);
            List<Double> first = new ArrayList<>();
            List<Double> last = new ArrayList<>();
            for (int r = 0; r < rounds; r++) {
                // Each round is a conversation of its own, started from nothing.
                for (int t = 1; t <= turns; t++) {
                    String prompt = (t == 1 ? PERSONA + " " : "") + "Visitor, turn " + t + ": what do you see in the desert tonight?";
                    JsonObject o = post(base + "/api/generate", "{\"model\":\"coyote" + r + "\",\"stream\":false,\"prompt\":\"" + prompt + "\"}");
                    double ttft = o.get("prompt_eval_duration").getAsLong() / 1e6;
                    if (t == 1) {
                        first.add(ttft);
                    } else if (t == turns) {
                        last.add(ttft);
                    }
                }
            }
            return new double[] {median(first), median(last)};
        } finally {
            fleet.close();
        }
    }

    /** coyote0..coyoteN-1, each followed by {@code suffix}, comma-separated. */
    private static String names(int rounds, String suffix) {
        List<String> out = new ArrayList<>();
        for (int r = 0; r < rounds; r++) {
            out.add("coyote" + r + suffix);
        }
        return String.join(",", out);
    }

    private static double median(List<Double> xs) {
        List<Double> s = new ArrayList<>(xs);
        s.sort(null);
        int n = s.size();
        return n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2;
    }

    private static JsonObject post(String url, String body) throws Exception {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(120))
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
            throw new IllegalStateException(url + " answered " + r.statusCode() + ": " + r.body());
        }
        return JsonParser.parseString(r.body()).getAsJsonObject();
    }

    private static void awaitHealthy(String base) throws Exception {
        for (int i = 0; i < 600; i++) {
            if (HTTP.send(HttpRequest.newBuilder(URI.create(base + "/health")).build(), HttpResponse.BodyHandlers.ofString()).statusCode() == 200) {
                return;
            }
            Thread.sleep(100);
        }
        throw new IllegalStateException("fleet not healthy in 60 s");
    }
}
