package dev.axfleet.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import dev.axfleet.config.Settings;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Clients that stop waiting, on the whole fleet (real worker, emulated runtime at a third of the card's pace):
 * a queued job whose client has gone never reaches the runtime, and a client that gives up and retries (the kiosk,
 * the OpenAI SDK) costs one run.
 */
class AbandonedJobsTest {
    static final String MODEL = "qwen3-0.6b";
    static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    static String chatBody(String text) {
        return "{\"model\":\"" + MODEL + "\",\"stream\":false,\"messages\":[{\"role\":\"user\",\"content\":\"" + text + "\"}]}";
    }

    static CompletableFuture<HttpResponse<String>> ask(int port, String text) {
        return HTTP.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/chat"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(chatBody(text))).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** A request on a connection of its own, which the test closes when the client gives up. */
    static Socket send(int port, String text) throws Exception {
        byte[] body = chatBody(text).getBytes(StandardCharsets.UTF_8);
        Socket s = new Socket("127.0.0.1", port);
        s.setSoTimeout(30_000);
        s.getOutputStream().write(("POST /api/chat HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: "
                + body.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        s.getOutputStream().write(body);
        s.getOutputStream().flush();
        return s;
    }

    static JsonObject stats() throws Exception {
        return JsonParser.parseString(HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + Fleet.EMULATED_RUNTIME_PORTS.get(MODEL)
                + "/_emulator/stats")).build(), HttpResponse.BodyHandlers.ofString()).body()).getAsJsonObject();
    }

    static long promptsContaining(JsonObject stats, String marker) {
        JsonArray prompts = stats.getAsJsonArray("prompts");
        return prompts.asList().stream().filter(p -> p.getAsString().contains(marker)).count();
    }

    /** A prompt of about 1,500 tokens: its prefill holds the emulated runtime for a few seconds. */
    static String longPrompt(String first) {
        return first + IntStream.range(0, 1500).mapToObj(i -> "w" + i).collect(Collectors.joining(" "));
    }

    @TempDir
    static Path home;
    static Fleet fleet;
    static int port;

    @BeforeAll
    static void start() throws Exception {
        fleet = Fleet.start(FleetConfig.from(Settings.of(Map.of(
                "fleet.home", home.toString(),
                "fleet.emulate", "true",
                "fleet.monitor", "false",
                "fleet.models", MODEL + "=Qwen3-0.6B",
                "fleet.image_model", "",
                "emulator.time_scale", "0.3",
                "broker.embedded_port", "0",
                "gateway.port", "0"))));
        port = fleet.gatewayPort();
        TestFleets.awaitHealthy("http://127.0.0.1:" + port);
    }

    @AfterAll
    static void stop() {
        fleet.close();
    }

    /** Long jobs that hold the runtime, returned once the first of them has reached it. */
    static List<CompletableFuture<HttpResponse<String>>> jobsAhead(String... names) throws Exception {
        long before = stats().get("requests").getAsLong();
        List<CompletableFuture<HttpResponse<String>>> ahead = new ArrayList<>();
        for (String n : names) {
            ahead.add(ask(port, longPrompt(n)));
        }
        for (int i = 0; i < 100 && stats().get("requests").getAsLong() == before; i++) {
            Thread.sleep(50);
        }
        return ahead;
    }

    @Test
    void aQueuedJobWhoseClientHasGoneNeverRunsAndTheKiosksRetryCostsOneRun() throws Exception {
        JsonObject start = stats();
        List<CompletableFuture<HttpResponse<String>>> ahead = jobsAhead("first", "second");
        Socket gone = send(port, "nobody waits for this answer");
        Socket kiosk = send(port, "the kiosk asks once");
        Thread.sleep(300);
        gone.close();
        kiosk.close();
        Thread.sleep(500);
        try (Socket retry = send(port, "the kiosk asks once")) {
            for (CompletableFuture<HttpResponse<String>> a : ahead) {
                assertEquals(200, a.get(60, TimeUnit.SECONDS).statusCode());
            }
            String reply = readAll(retry.getInputStream());
            assertTrue(reply.startsWith("HTTP/1.1 200") && reply.contains("(emulated"), "the retry took over the first try's job: " + reply);
        }
        assertEquals(200, ask(port, "and one after").get(60, TimeUnit.SECONDS).statusCode());
        JsonObject after = stats();
        assertEquals(0, promptsContaining(after, "nobody waits for this answer"), "the abandoned job never reached the runtime");
        assertEquals(1, promptsContaining(after, "the kiosk asks once"), "the kiosk's try and retry ran once");
        assertEquals(start.get("executions").getAsLong() + 4, after.get("executions").getAsLong(),
                "the runtime ran four: two ahead, the kiosk's, the one after: " + after);
    }

    /**
     * The OpenAI SDK gives up after its timeout and sends the request again by itself, up to its retry limit: each
     * try takes over the job, or the answer it left, and the runtime runs it once.
     */
    @Test
    void theOpenAiSdksOwnRetriesAfterItsTimeoutCostOneRun() throws Exception {
        OpenAIClient impatient = OpenAIOkHttpClient.builder().baseUrl("http://127.0.0.1:" + port + "/v1").apiKey("not-needed")
                .timeout(Duration.ofSeconds(2)).maxRetries(3).build();
        JsonObject start = stats();
        long triesBefore = chatRequests();
        List<CompletableFuture<HttpResponse<String>>> ahead = jobsAhead("third");
        ChatCompletion c = impatient.chat().completions().create(ChatCompletionCreateParams.builder().model(MODEL)
                .addUserMessage("the sdk asks again and again").build());
        assertTrue(c.choices().get(0).message().content().orElseThrow().startsWith("(emulated"), c.toString());
        assertEquals(200, ahead.get(0).get(60, TimeUnit.SECONDS).statusCode());
        assertTrue(chatRequests() - triesBefore >= 2, "the SDK timed out and tried again");
        JsonObject after = stats();
        assertEquals(1, promptsContaining(after, "the sdk asks again and again"), "every try of the SDK's was one run");
        assertEquals(start.get("executions").getAsLong() + 2, after.get("executions").getAsLong(), after.toString());
    }

    /** POST /v1/chat/completions requests the gateway has finished, as its metrics count them. */
    static long chatRequests() throws Exception {
        String metrics = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        return metrics.lines().filter(l -> l.startsWith("axfleet_gateway_requests_total{") && l.contains("route=\"/v1/chat/completions\""))
                .mapToLong(l -> (long) Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
    }

    /** The whole reply of a request sent with Content-Length framing (bounded by the socket timeout). */
    static String readAll(InputStream in) throws Exception {
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        byte[] buf = new byte[4096];
        while (true) {
            String s = got.toString(StandardCharsets.UTF_8);
            int head = s.indexOf("\r\n\r\n");
            if (head > 0) {
                int at = s.toLowerCase().indexOf("content-length: ");
                if (at > 0 && at < head) {
                    int length = Integer.parseInt(s.substring(at + 16, s.indexOf("\r\n", at)).trim());
                    if (got.size() >= head + 4 + length) {
                        return s;
                    }
                }
            }
            int n = in.read(buf);
            if (n < 0) {
                return got.toString(StandardCharsets.UTF_8);
            }
            got.write(buf, 0, n);
        }
    }
}
