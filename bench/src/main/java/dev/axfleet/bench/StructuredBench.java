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
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What a JSON answer's validate-and-retry costs (docs/benchmarks.md): through the whole fleet at the card's pace
 * (Qwen3-0.6B emulated), the same question answered as text, as JSON valid at the first try, and as JSON the emulated
 * model gets wrong every time (its BAD_JSON fault: three tries, then json_validation_failed). The extra time per retry is
 * half the difference between three tries and one. {@code bench/structured [rounds] [time_scale]}.
 */
public final class StructuredBench {
    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private static final String SCHEMA = "{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\"},\"legs\":{\"type\":\"integer\"}},"
            + "\"required\":[\"name\",\"legs\"],\"additionalProperties\":false}";

    private StructuredBench() {
    }

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        String scale = args.length > 1 ? args[1] : "1";
        String text = "{\"model\":\"qwen3-0.6b\",\"max_tokens\":40,\"messages\":[{\"role\":\"user\",\"content\":\"Describe a coyote\"}]}";
        String json = "{\"model\":\"qwen3-0.6b\",\"max_tokens\":40,\"messages\":[{\"role\":\"user\",\"content\":\"Describe a coyote\"}],"
                + "\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"animal\",\"schema\":" + SCHEMA + "}}}";
        double[] good = run("", rounds, scale, text, json);
        double[] bad = run("bad_json:0:100000", rounds, scale, text, json);
        System.out.printf(Locale.ROOT, "Qwen3-0.6B emulated at time scale %s, medians of %d:%n", scale, rounds);
        System.out.printf(Locale.ROOT, "| text answer | %.0f ms | 1× |%n", good[0]);
        System.out.printf(Locale.ROOT, "| JSON, valid at the first try | %.0f ms | %.2f× |%n", good[1], good[1] / good[0]);
        System.out.printf(Locale.ROOT, "| JSON, three tries then json_validation_failed | %.0f ms | %.2f× |%n", bad[1], bad[1] / good[0]);
        System.out.printf(Locale.ROOT, "| extra time per retry | %.0f ms | %.2f× the first try |%n", (bad[1] - good[1]) / 2,
                (bad[1] - good[1]) / 2 / good[1]);
        System.exit(0);
    }

    /** Median wall time of the text request and of the JSON request, in ms, on a fleet with {@code fault}. */
    private static double[] run(String fault, int rounds, String scale, String text, String json) throws Exception {
        Path home = Files.createTempDirectory("axfleet-structured-bench");
        Fleet fleet = Fleet.start(FleetConfig.from(Settings.of(Map.of(
                "fleet.home", home.toString(),
                "fleet.emulate", "true",
                "fleet.monitor", "false",
                "fleet.image_model", "",
                "fleet.models", "qwen3-0.6b=Qwen3-0.6B",
                "emulator.time_scale", scale,
                "emulator.fault", fault,
                "broker.embedded_port", "0",
                "gateway.port", "0"))));
        try {
            String base = "http://127.0.0.1:" + fleet.gatewayPort() + "/v1/chat/completions";
            awaitHealthy("http://127.0.0.1:" + fleet.gatewayPort());
            post(base, text);
            List<Double> t = new ArrayList<>();
            List<Double> j = new ArrayList<>();
            for (int i = 0; i < rounds; i++) {
                t.add(time(base, text));
                j.add(time(base, json));
            }
            return new double[] {median(t), median(j)};
        } finally {
            fleet.close();
        }
    }

    private static double time(String url, String body) throws Exception {
        long start = System.nanoTime();
        post(url, body);
        return (System.nanoTime() - start) / 1e6;
    }

    private static int post(String url, String body) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofMinutes(5)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString()).statusCode();
    }

    private static void awaitHealthy(String base) throws Exception {
        for (int i = 0; i < 600; i++) {
            HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/health")).build(), HttpResponse.BodyHandlers.ofString());
            JsonObject o = JsonParser.parseString(r.body()).getAsJsonObject();
            if ("ok".equals(o.get("status").getAsString())) {
                return;
            }
            Thread.sleep(200);
        }
        throw new IllegalStateException("fleet not healthy");
    }

    private static double median(List<Double> xs) {
        List<Double> s = new ArrayList<>(xs);
        Collections.sort(s);
        return s.get(s.size() / 2);
    }
}
