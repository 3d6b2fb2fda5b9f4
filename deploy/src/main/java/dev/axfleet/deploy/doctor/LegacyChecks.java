package dev.axfleet.deploy.doctor;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.axfleet.deploy.doctor.Check.Need;
import dev.axfleet.monitor.probe.Tool;
import dev.axfleet.worker.runtime.MainApiRuntime;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Set;

/** The legacy runtime, {@code main_api_axcl_aarch64} and its tokenizer server, started by the worker's MainApiRuntime. */
final class LegacyChecks {
    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(2)).build();
    private static final String CONTEXT_FULL = "SetKVCache failed";

    private LegacyChecks() {
    }

    static List<Check> all() {
        return List.of(Check.of("U7", "the legacy runtime's poll route and its context-full path", Duration.ofMinutes(8), Set.of(Need.CARD_ALONE),
                List.of("F8", "F10", "F13"), LegacyChecks::pollAndContext));
    }

    static Verdict pollAndContext(Lab lab) throws Exception {
        MainApiRuntime r = lab.legacy();
        r.start(lab.loadTimeout());
        int port = lab.legacyPort();
        int provider = get(port, "/api/generate_provider").statusCode();
        int content = get(port, "/api/content").statusCode();
        lab.note("GET /api/generate_provider -> " + provider + ", GET /api/content -> " + content);
        if (provider != 200 && content != 200) {
            return Verdict.differs("neither /api/generate_provider (" + provider + ") nor /api/content (" + content + ") answers 200");
        }
        int context = r.contextTokens() > 0 ? r.contextTokens() : 2047;
        JsonObject big = new JsonObject();
        big.addProperty("prompt", "word ".repeat(Math.max(2500, context + 500)));
        HttpResponse<String> g = post(port, "/api/generate", big);
        lab.note("POST /api/generate (" + (Math.max(2500, context + 500)) + " words) -> " + g.statusCode() + " " + g.body());
        String poll = provider == 200 ? "/api/generate_provider" : "/api/content";
        StringBuilder text = new StringBuilder();
        boolean done = false;
        // Until the literal comes (30 s: a prompt that long is refused before any prefill), then until done, for 5 s more.
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < deadline) {
            JsonObject o = JsonParser.parseString(get(port, poll).body()).getAsJsonObject();
            boolean before = text.indexOf(CONTEXT_FULL) >= 0;
            text.append(o.get("response").getAsString());
            done = o.get("done").getAsBoolean();
            if (text.indexOf(CONTEXT_FULL) >= 0 && done) {
                break;
            }
            if (!before && text.indexOf(CONTEXT_FULL) >= 0) {
                deadline = Math.min(deadline, System.nanoTime() + Duration.ofSeconds(5).toNanos());
            }
            Thread.sleep(lab.emulated() ? 50 : 500);
        }
        lab.note("polled: " + Tool.oneLine(text.toString(), 200) + " (done " + done + ")");
        JsonObject hi = new JsonObject();
        hi.addProperty("prompt", "hi");
        HttpResponse<String> next = post(port, "/api/generate", hi);
        lab.note("POST /api/generate {\"prompt\":\"hi\"} -> " + next.statusCode() + " " + next.body());
        String route = provider == 200 && content == 200 ? "both poll routes answer 200" : provider == 200
                ? "/api/generate_provider answers (the M5Stack binaries' route), /api/content " + content
                : content == 200 ? "/api/content answers (AXERA's docs/http_api.md), /api/generate_provider " + provider : "neither poll route answers";
        boolean literal = text.indexOf(CONTEXT_FULL) >= 0;
        if (next.statusCode() == 400 && next.body().contains("llm is running")) {
            return Verdict.differs("after the context-full error the runtime stays running: the next generate says `llm is running` (the reported "
                    + "wedge; the worker restarts it); " + route + (literal ? "; the literal `error: SetKVCache failed` came" : ""));
        }
        if (!literal || !done || provider != 200) {
            return Verdict.differs(route + "; " + (literal ? "the context-full literal came" : "no `error: SetKVCache failed` literal") + "; done "
                    + done + "; next generate " + next.statusCode());
        }
        return Verdict.verified(route + "; the literal `error: SetKVCache failed…` came, done went back to true, and the next generate was taken");
    }

    private static HttpResponse<String> get(int port, String path) throws IOException, InterruptedException {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(Duration.ofSeconds(10)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static HttpResponse<String> post(int port, String path, JsonObject body) throws IOException, InterruptedException {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(Duration.ofSeconds(10))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body.toString())).build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
