package dev.axfleet.deploy.doctor;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.axfleet.broker.chat.ChatMessage;
import dev.axfleet.broker.chat.ChatParams;
import dev.axfleet.broker.chat.FinishReason;
import dev.axfleet.broker.chat.TokenEstimate;
import dev.axfleet.deploy.doctor.Check.Need;
import dev.axfleet.monitor.probe.DeviceHealth;
import dev.axfleet.monitor.probe.SmiParser;
import dev.axfleet.monitor.probe.Tool;
import dev.axfleet.os.Signals;
import dev.axfleet.worker.runtime.AxllmServeRuntime;
import dev.axfleet.worker.runtime.ChatOutcome;
import dev.axfleet.worker.runtime.EngineException;
import dev.axfleet.worker.runtime.Generation;
import dev.axfleet.worker.runtime.RuntimeStartException;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * {@code axllm serve}, the chat runtime: started by {@link dev.axfleet.worker.runtime.AxllmServeRuntime} from a worker's
 * settings, then asked on the wire ({@link Sse}, what {@code curl -sN} shows) and through the adapter (what a worker
 * makes of it).
 */
final class AxllmChecks {
    private AxllmChecks() {
    }

    private static final Set<Need> ALONE = Set.of(Need.CARD_ALONE);

    static List<Check> unpaced() {
        return List.of(
                Check.of("U1", "axllm serve starts, answers /health, and lists its model", Duration.ofMinutes(6), ALONE, List.of("F2"),
                        AxllmChecks::starts),
                Check.of("U2", "streamed usage, finish reason and chunk size", Duration.ofMinutes(2), ALONE, List.of("F3", "A4", "A11"),
                        AxllmChecks::stream),
                Check.of("U3", "a prompt longer than the context", Duration.ofMinutes(3), ALONE, List.of("F3", "F4", "A6"), AxllmChecks::overflow),
                Check.of("U6", "the max_token_len line", Duration.ofMinutes(6), ALONE, List.of("F6"), AxllmChecks::maxTokenLen),
                Check.of("U8", "first-token and stall timeouts with a long history", Duration.ofMinutes(6), ALONE, List.of(),
                        AxllmChecks::longHistory),
                Check.of("U15", "which processes hold /dev/axcl_host", Duration.ofMinutes(6), ALONE, List.of(), AxllmChecks::deviceNode),
                Check.of("U26", "which card: AXLLM_DEVICES and two cards", Duration.ofMinutes(6), ALONE, List.of("A12", "F31"),
                        AxllmChecks::whichCard));
    }

    static List<Check> paced() {
        return List.of(
                Check.of("U4", "a client that leaves mid-stream", Duration.ofMinutes(6), ALONE, List.of("A3", "F34"), AxllmChecks::clientLeaves),
                Check.of("U22", "thinking, and the prefix cache of kept conversations", Duration.ofMinutes(8), ALONE, List.of("F30"),
                        AxllmChecks::thinkingAndPrefix),
                Check.of("U25", "the stream's deadline (server_timeout_ms in the overlay)", Duration.ofMinutes(8), ALONE, List.of("F1", "F3"),
                        AxllmChecks::deadline),
                // Disruptive: a SIGINT mid-answer may end in a Deinit racing the generation (A7), which could wedge the card.
                Check.of("U5", "signals, idle and mid-answer", Duration.ofMinutes(12), Set.of(Need.DISRUPTIVE), List.of("F16", "A7"),
                        AxllmChecks::signals));
    }

    static ChatParams ask(List<ChatMessage> messages, int maxTokens, boolean think) {
        return new ChatParams(messages, null, null, null, maxTokens, List.of(), null, null, null, null, think);
    }

    static JsonObject request(String model, String prompt, int maxTokens, boolean stream) {
        JsonObject o = new JsonObject();
        o.addProperty("model", model);
        o.addProperty("stream", stream);
        o.addProperty("max_tokens", maxTokens);
        JsonArray messages = new JsonArray();
        JsonObject m = new JsonObject();
        m.addProperty("role", "user");
        m.addProperty("content", prompt);
        messages.add(m);
        o.add("messages", messages);
        return o;
    }

    static String model(AxllmServeRuntime r) {
        return r.models().isEmpty() ? "" : r.models().get(0);
    }

    // ---- U1, U2, U3, U6 ----

    static Verdict starts(Lab lab) throws Exception {
        AxllmServeRuntime r = lab.chat(false);
        HttpResponse<String> health = Lab.get(lab.chatPort(), "/health");
        HttpResponse<String> models = Lab.get(lab.chatPort(), "/v1/models");
        lab.note("GET /health -> " + health.statusCode() + " " + health.body());
        lab.note("GET /v1/models -> " + models.statusCode() + " " + Tool.oneLine(models.body(), 300));
        JsonObject h = parse(health.body());
        List<String> off = new ArrayList<>();
        if (h == null || !h.has("status") || !"healthy".equals(h.get("status").getAsString())) {
            off.add("/health answered " + health.statusCode() + " " + Tool.oneLine(health.body(), 120) + " (F2: {\"status\":\"healthy\",...})");
        }
        if (h != null && (!h.has("concurrency") || !h.has("max_concurrency"))) {
            off.add("/health has no concurrency/max_concurrency");
        }
        if (r.models().size() != 1) {
            off.add("/v1/models lists " + r.models().size() + " models: " + r.models());
        }
        String seen = "ready " + lab.chatLoadMillis() + " ms after start; model id " + r.models() + "; /health " + Tool.oneLine(health.body(), 120);
        return off.isEmpty() ? Verdict.verified(seen) : Verdict.differs(String.join("; ", off) + " (" + seen + ")");
    }

    static Verdict stream(Lab lab) throws Exception {
        AxllmServeRuntime r = lab.chat(false);
        Sse.Reply s = Sse.post(lab.chatPort(), "/v1/chat/completions", request(model(r), "Count to ten", 5, true), Duration.ofSeconds(60), 0);
        s.data().forEach(d -> lab.note("data: " + d));
        lab.note(s.done() ? "data: [DONE]" : "(no [DONE])");
        JsonObject last = s.last();
        List<String> off = new ArrayList<>();
        if (s.status() != 200 || !s.done()) {
            off.add("status " + s.status() + (s.done() ? "" : ", no [DONE]"));
        }
        boolean finish = last != null && "stop".equals(Sse.finishReason(last)) && Sse.content(last) == null;
        if (!finish) {
            off.add("the last chunk before [DONE] is not an empty delta with finish_reason \"stop\": " + last);
        }
        if (last != null && last.has("usage")) {
            off.add("the finish chunk carries usage " + last.get("usage") + (zeros(last.get("usage")) ? " (all zeros: A11)" : ""));
        }
        int pieces = s.contents().size();
        String chunks = pieces + " content chunks for max_tokens 5" + (pieces == 5 ? ": one token each (A4)" : pieces < 5
                ? ": more than one token in some (A4)" : "");
        return off.isEmpty() ? Verdict.verified("finish chunk with an empty delta, \"stop\" and no usage, then [DONE]; " + chunks)
                : Verdict.differs(String.join("; ", off) + "; " + chunks);
    }

    private static boolean zeros(JsonElement usage) {
        if (!usage.isJsonObject()) {
            return false;
        }
        for (Map.Entry<String, JsonElement> e : usage.getAsJsonObject().entrySet()) {
            if (e.getValue().isJsonPrimitive() && e.getValue().getAsJsonPrimitive().isNumber() && e.getValue().getAsDouble() != 0) {
                return false;
            }
        }
        return true;
    }

    static Verdict overflow(Lab lab) throws Exception {
        AxllmServeRuntime r = lab.chat(false);
        int context = r.contextTokens() > 0 ? r.contextTokens() : 2559;
        String prompt = "word ".repeat(context + 500);
        Sse.Reply s = Sse.post(lab.chatPort(), "/v1/chat/completions", request(model(r), prompt, 16, true), Duration.ofSeconds(120), 0);
        lab.note("streamed: HTTP " + s.status() + " " + s.contentType() + (s.body().isEmpty() ? "" : " body " + Tool.oneLine(s.body(), 200)));
        s.data().forEach(d -> lab.note("data: " + Tool.oneLine(d.toString(), 300)));
        Sse.Reply plain = Sse.post(lab.chatPort(), "/v1/chat/completions", request(model(r), prompt, 16, false), Duration.ofSeconds(120), 0);
        lab.note("not streamed: HTTP " + plain.status() + " " + Tool.oneLine(plain.body(), 300));
        String kind;
        try {
            r.chat(ask(List.of(new ChatMessage("user", prompt)), 16, false), new Generation(List.of(), 16, x -> { }, () -> false));
            kind = "answered";
        } catch (EngineException e) {
            kind = e.kind().name().toLowerCase(java.util.Locale.ROOT) + " (" + e.getMessage() + ")";
        }
        lab.note("the worker's adapter makes it: " + kind);
        JsonObject error = s.data().stream().filter(d -> d.has("error")).findFirst().orElse(null);
        String message = error == null ? null : error.get("error").isJsonObject() && error.getAsJsonObject("error").has("message")
                ? error.getAsJsonObject("error").get("message").getAsString() : error.get("error").toString();
        String type = error == null || !error.get("error").isJsonObject() || !error.getAsJsonObject("error").has("type") ? null
                : error.getAsJsonObject("error").get("type").getAsString();
        List<String> off = new ArrayList<>();
        if (s.status() != 200 || error == null) {
            off.add("streamed, it answered HTTP " + s.status() + (error == null ? " with no SSE error chunk" : "") + ": "
                    + Tool.oneLine(s.body().isEmpty() ? String.valueOf(s.data()) : s.body(), 200) + " (F3: a 200 stream with data: {\"error\":…})");
        } else if (!"model_error".equals(type)) {
            off.add("the SSE error's type is " + type + ", not model_error");
        }
        if (!kind.startsWith("context_full")) {
            off.add("the worker's adapter makes it " + kind + ", not context_full: adjust AxllmServeRuntime.contextFull to the real words");
        }
        String words = "the error's words: \"" + (message == null ? "-" : message) + "\" (record them: A6); not streamed: HTTP " + plain.status();
        return off.isEmpty() ? Verdict.verified("a 200 stream with a model_error chunk, read as context_full; " + words)
                : Verdict.differs(String.join("; ", off) + "; " + words);
    }

    static Verdict maxTokenLen(Lab lab) throws Exception {
        AxllmServeRuntime r = lab.chat(false);
        return r.contextTokens() > 0 ? Verdict.verified("max_token_len : " + r.contextTokens())
                : Verdict.differs("no `max_token_len : N` line in the runtime's start-up log (the worker reports context_tokens 0): "
                + Tool.oneLine(r.recentOutput(), 300));
    }

    // ---- U8, U15, U26 ----

    static Verdict longHistory(Lab lab) throws Exception {
        AxllmServeRuntime r = lab.chat(false);
        int context = r.contextTokens() > 0 ? r.contextTokens() : 2047;
        int want = Math.min(2000, context - 300);
        List<ChatMessage> history = new ArrayList<>();
        String turn = "Tell me again about the desert, the coyote, the stars over the red rock and the river in the morning light. ";
        while (TokenEstimate.of(history) < want) {
            history.add(new ChatMessage("user", turn.repeat(3)));
            history.add(new ChatMessage("assistant", turn.repeat(2)));
        }
        history.add(new ChatMessage("user", "And now, in one sentence?"));
        int tokens = TokenEstimate.of(history);
        Generation g = new Generation(List.of(), 16, x -> { }, () -> false);
        long t0 = System.nanoTime();
        try {
            ChatOutcome o = r.chat(ask(history, 16, false), g);
            long firstMs = g.firstTextNanos() == 0 ? -1 : (g.firstTextNanos() - t0) / 1_000_000;
            long runMs = (System.nanoTime() - t0) / 1_000_000;
            return Verdict.verified("a history of about " + tokens + " tokens: first token after " + firstMs + " ms, " + g.tokens() + " tokens in "
                    + runMs + " ms (" + o.finishReason().name().toLowerCase(java.util.Locale.ROOT) + "); runtime.first_token_timeout "
                    + lab.settings().duration("runtime.first_token_timeout", Duration.ofSeconds(60)).toSeconds() + " s and stall_timeout "
                    + lab.settings().duration("runtime.stall_timeout", Duration.ofSeconds(20)).toSeconds() + " s did not fire");
        } catch (EngineException e) {
            return Verdict.differs(e.kind().name().toLowerCase(java.util.Locale.ROOT) + " after " + (System.nanoTime() - t0) / 1_000_000
                    + " ms with a history of about " + tokens + " tokens: " + e.getMessage());
        }
    }

    static Verdict deviceNode(Lab lab) throws Exception {
        AxllmServeRuntime r = lab.chat(false);
        Path node = lab.monitor().deviceNode().toAbsolutePath();
        List<String> held = new ArrayList<>();
        for (long pid : r.pids()) {
            try (Stream<Path> fds = Files.list(Path.of("/proc", String.valueOf(pid), "fd"))) {
                for (Path fd : fds.toList()) {
                    try {
                        Path to = Files.readSymbolicLink(fd);
                        String name = to.getFileName() == null ? "" : to.getFileName().toString();
                        if (to.startsWith("/dev/") && (name.startsWith("ax") || name.contains("msg") || name.contains("mmb"))
                                || to.equals(node) || to.getParent() != null && to.getParent().equals(node.getParent())) {
                            held.add(pid + ": " + to);
                        }
                    } catch (IOException e) {
                        // Closed while listed.
                    }
                }
            }
        }
        held.forEach(lab::note);
        boolean holds = held.stream().anyMatch(h -> h.endsWith(": " + node));
        return holds ? Verdict.verified("axllm serve holds " + node + " (monitor.device_node)" + (held.size() > 1 ? "; also " + held : ""))
                : Verdict.differs("axllm serve (pid " + r.pids() + ") does not hold " + node + "; it holds " + (held.isEmpty() ? "no device node"
                : held) + ": set monitor.device_node to the node it holds");
    }

    static Verdict whichCard(Lab lab) throws Exception {
        Tool.Result t = lab.smi();
        boolean second = SmiParser.table(t.output(), 1).status() == DeviceHealth.Status.ANSWERING;
        if (second) {
            AxllmServeRuntime r = lab.freshChat(Map.of("card.index", "1"), "", false);
            r.start(lab.loadTimeout());
            Tool.Result after = lab.smi();
            boolean onOne = SmiParser.table(after.output(), 1).readings().processes().stream().anyMatch(p -> r.pids().contains(p.pid()));
            return onOne ? Verdict.verified("two cards: a runtime with card.index 1 runs on card 1 (axcl-smi lists it there)")
                    : Verdict.differs("two cards: a runtime with card.index 1 is not listed on card 1 by axcl-smi");
        }
        AxllmServeRuntime r = lab.freshChat(Map.of(), "AXLLM_DEVICES=1", false);
        try {
            r.start(lab.loadTimeout());
        } catch (RuntimeStartException e) {
            lab.output("AXLLM_DEVICES=1 axllm serve, on a one-card host", e.getMessage());
            return e.getMessage().contains("Invalid AXCL device id 1")
                    ? Verdict.verified("one card: AXLLM_DEVICES=1 is refused with `Invalid AXCL device id 1` (the variable is honoured, A12)")
                    : Verdict.differs("one card: AXLLM_DEVICES=1 failed otherwise: " + Tool.oneLine(e.getMessage(), 200));
        }
        lab.output("AXLLM_DEVICES=1 axllm serve, on a one-card host", r.recentOutput());
        return Verdict.differs("one card: AXLLM_DEVICES=1 started anyway (on card 0): this build ignores the variable and only config.json's devices "
                + "counts (axfleet writes both, so workers still pick their card; A12)");
    }

    // ---- paced: U4, U22, U25, U5 ----

    static Verdict clientLeaves(Lab lab) throws Exception {
        AxllmServeRuntime r = lab.chat(true);
        int port = lab.chatPort();
        JsonObject shortAsk = request(model(r), "hi", 5, true);
        Sse.post(port, "/v1/chat/completions", shortAsk, Duration.ofSeconds(60), 0);
        Sse.Reply base = Sse.post(port, "/v1/chat/completions", shortAsk, Duration.ofSeconds(60), 0);
        Sse.Reply left = Sse.post(port, "/v1/chat/completions", request(model(r), "Tell a long story", 400, true), Duration.ofSeconds(60), 3);
        Sse.Reply again = Sse.post(port, "/v1/chat/completions", shortAsk, Duration.ofSeconds(120), 0);
        double perToken = Math.max(1, (left.totalMillis() - left.firstMillis()) / 2.0);
        long threshold = Math.round(base.totalMillis() + Math.max(10 * perToken, base.totalMillis() / 2.0));
        String figures = "a 5-token answer alone " + base.totalMillis() + " ms; right after a client left a 400-token story after 3 chunks ("
                + Math.round(perToken) + " ms a token) " + again.totalMillis() + " ms, HTTP " + again.status();
        lab.note(figures);
        if (again.status() == 503 || again.status() == 429) {
            return Verdict.verified("still generating for the gone client: the next request waited for the slot and got " + again.status() + "; "
                    + figures);
        }
        return again.totalMillis() >= threshold
                ? Verdict.verified("still generating for the gone client (A3): the next answer waited; " + figures)
                : Verdict.differs("the generation stopped when its client left (A3 assumes it goes on; cancellation is then faster); " + figures);
    }

    static Verdict thinkingAndPrefix(Lab lab) throws Exception {
        AxllmServeRuntime r = lab.chat(true);
        List<String> off = new ArrayList<>();
        StringBuilder thought = new StringBuilder();
        Generation think = new Generation(List.of(), 256, x -> { }, () -> false).keepThinking(thought::append);
        ChatOutcome withThinking = r.chat(ask(List.of(new ChatMessage("user", "Why is the sky blue?")), 256, true), think);
        lab.note("think on: thinking " + Tool.oneLine(String.valueOf(think.thinking()), 120) + " | answer " + Tool.oneLine(withThinking.text(), 120));
        if (think.thinking() == null || withThinking.text().contains("<think>")) {
            off.add("with thinking on, the thinking did not come apart from the answer (" + Tool.oneLine(withThinking.text(), 80) + ")");
        }
        Generation plain = new Generation(List.of(), 64, x -> { }, () -> false).keepThinking(x -> { });
        ChatOutcome noThinking = r.chat(ask(List.of(new ChatMessage("user", "Why is the sky blue?")), 64, false), plain);
        lab.note("think off: thinking " + plain.thinking() + " | answer " + Tool.oneLine(noThinking.text(), 120));
        if (plain.thinking() != null || noThinking.text().contains("<think>")) {
            off.add("with thinking off, there was thinking (" + Tool.oneLine(String.valueOf(plain.thinking()), 80) + ")");
        }
        List<ChatMessage> conversation = new ArrayList<>();
        List<Long> ttft = new ArrayList<>();
        String line = "At the canyon's edge at dusk the wind picks up over the red rocks; what do you see? ";
        for (int turn = 1; turn <= 20; turn++) {
            conversation.add(new ChatMessage("user", "Turn " + turn + ". " + line));
            Generation g = new Generation(List.of(), 8, x -> { }, () -> false);
            long t0 = System.nanoTime();
            ChatOutcome o = r.chat(ask(conversation, 8, false), g);
            ttft.add(g.firstTextNanos() == 0 ? -1 : (g.firstTextNanos() - t0) / 1_000_000);
            conversation.add(new ChatMessage("assistant", o.text()));
        }
        lab.note("time to first token, turns 1-20 (ms): " + ttft);
        double first = median(ttft.subList(0, 3));
        double last = median(ttft.subList(17, 20));
        double ratio = first <= 0 ? Double.NaN : last / first;
        String figures = String.format(java.util.Locale.ROOT, "turn 20 / turn 1 = %.2f (median of turns 18-20 %.0f ms, of turns 1-3 %.0f ms; a history of "
                + "about %d tokens)", ratio, last, first, TokenEstimate.of(conversation));
        if (!(ratio <= 1.2)) {
            off.add("the prefix of a kept conversation is not reused: " + figures);
        }
        return off.isEmpty() ? Verdict.verified("thinking apart from the answer, none when off; " + figures)
                : Verdict.differs(String.join("; ", off) + (off.get(off.size() - 1).contains(figures) ? "" : "; " + figures));
    }

    private static double median(List<Long> values) {
        List<Long> sorted = new ArrayList<>(values);
        sorted.sort(null);
        return sorted.get(sorted.size() / 2);
    }

    static Verdict deadline(Lab lab) throws Exception {
        long deadlineMs = lab.emulated() ? Math.round(2000 * lab.target().pace()) : 5000;
        AxllmServeRuntime r = lab.freshChat(Map.of("runtime.server_timeout", deadlineMs + "ms"), "", true);
        r.start(lab.loadTimeout());
        int maxTokens = lab.emulated() ? 2048 : 80;
        AtomicLong last = new AtomicLong();
        Generation g = new Generation(List.of(), maxTokens, x -> last.set(System.nanoTime()), () -> false);
        long t0 = System.nanoTime();
        ChatOutcome o;
        try {
            o = r.chat(ask(List.of(new ChatMessage("user", "Tell a long story")), maxTokens, false), g);
        } catch (EngineException e) {
            return Verdict.differs("with server_timeout_ms " + deadlineMs + " the answer failed: " + e.getMessage());
        }
        long took = (System.nanoTime() - t0) / 1_000_000;
        boolean cut = g.warnings().stream().anyMatch(w -> w.startsWith("answer cut short"));
        String seen = g.tokens() + " tokens in " + took + " ms with server_timeout_ms " + deadlineMs + " (the overlay's config.json; its links "
                + "to the model's files loaded the model), finish " + o.finishReason().name().toLowerCase(java.util.Locale.ROOT);
        // The card goes on generating the rest after the cut (F3): let it finish before the runtime is stopped (F33).
        long perToken = g.tokens() > 1 ? (last.get() - t0) / 1_000_000 / g.tokens() : 1000;
        long rest = Math.min(Duration.ofSeconds(90).toMillis(), Math.max(0, maxTokens - g.tokens()) * perToken * 3 / 2);
        if (cut && !lab.emulated()) {
            lab.note("waiting up to " + rest + " ms for the rest of the answer the card goes on generating");
            Thread.sleep(rest);
        }
        if (cut && o.finishReason() == FinishReason.LENGTH) {
            return Verdict.verified("[DONE] with no finish chunk after about " + deadlineMs + " ms: read as cut short; " + seen);
        }
        return Verdict.differs((took < deadlineMs ? "the answer ended before the deadline, so nothing was cut: " : "not cut short at the deadline (a finish "
                + "chunk before [DONE], or no [DONE]): ") + seen);
    }

    static Verdict signals(Lab lab) throws Exception {
        List<String> off = new ArrayList<>();
        // 1. SIGINT while idle.
        AxllmServeRuntime idle = lab.freshChat(Map.of(), "", false);
        idle.start(lab.loadTimeout());
        long pid = idle.pids().get(0);
        long intMs = signal(pid, Signals.SIGINT, lab.stopGrace());
        boolean clean = !listed(lab, pid);
        String one = intMs < 0 ? "idle SIGINT: still running after runtime.stop_grace " + lab.stopGrace().toSeconds() + " s"
                : "idle SIGINT: exited in " + intMs + " ms, " + (clean ? "axcl-smi lists no process of it" : "axcl-smi STILL LISTS it");
        lab.output("the runtime's last lines after SIGINT", idle.recentOutput());
        if (intMs < 0 || !clean) {
            off.add(one);
        }
        idle.close();
        // 2. SIGTERM while idle: before ax-llm PR #66 the process dies at once, after it, it shuts down as on SIGINT (F16).
        AxllmServeRuntime term = lab.freshChat(Map.of(), "", false);
        term.start(lab.loadTimeout());
        long termPid = term.pids().get(0);
        long termMs = signal(termPid, Signals.SIGTERM, lab.stopGrace());
        lab.output("the runtime's last lines after SIGTERM", term.recentOutput());
        String two = "idle SIGTERM: " + (termMs < 0 ? "still running after " + lab.stopGrace().toSeconds() + " s" : "exited in " + termMs + " ms")
                + ", its last line `" + lastLine(term.recentOutput()) + "` (a shutdown log means a build after ax-llm PR #66)";
        term.close();
        // 3. SIGINT while it streams an answer (A7).
        AxllmServeRuntime busy = lab.freshChat(Map.of(), "", true);
        busy.start(lab.loadTimeout());
        long busyPid = busy.pids().get(0);
        long[] sentAt = {0};
        Sse.Reply s = Sse.post(busy.base().getPort(), "/v1/chat/completions", request(model(busy), "Tell a long story", 400, true),
                Duration.ofSeconds(120), 0, n -> {
                    if (n == 3) {
                        sentAt[0] = System.nanoTime();
                        Signals.send(busyPid, Signals.SIGINT);
                    }
                });
        long streamEnd = sentAt[0] == 0 ? -1 : (System.nanoTime() - sentAt[0]) / 1_000_000;
        long exitMs = signal(busyPid, 0, lab.stopGrace().plusSeconds(60));
        boolean finished = s.last() != null && Sse.finishReason(s.last()) != null;
        lab.output("the runtime's last lines after SIGINT mid-answer", busy.recentOutput());
        String three = "SIGINT after 3 chunks: the stream " + (finished ? "ran to its finish chunk" : s.done() ? "ended with [DONE] and no finish chunk"
                : "broke off") + " (" + s.contents().size() + " chunks, " + streamEnd + " ms after the signal), the process "
                + (exitMs < 0 ? "was still running " + lab.stopGrace().plusSeconds(60).toSeconds() + " s later" : "exited " + exitMs + " ms after the stream ended")
                + ", axcl-smi " + (listed(lab, busyPid) ? "STILL LISTS it" : "lists no process of it");
        busy.close();
        String all = one + "; " + two + "; " + three;
        return off.isEmpty() ? Verdict.verified(all) : Verdict.differs(all);
    }

    /** Sends {@code signal} (0: none, only waits) and waits up to {@code wait} for the exit; the milliseconds it took, or -1. */
    private static long signal(long pid, int signal, Duration wait) {
        Optional<ProcessHandle> h = ProcessHandle.of(pid);
        if (h.isEmpty()) {
            return 0;
        }
        long t0 = System.nanoTime();
        if (signal != 0) {
            Signals.send(pid, signal);
        }
        return Signals.awaitExit(h.get(), wait) ? (System.nanoTime() - t0) / 1_000_000 : -1;
    }

    private static boolean listed(Lab lab, long pid) {
        return lab.smiProbe().probe(0).readings().processes().stream().anyMatch(p -> p.pid() == pid);
    }

    private static String lastLine(String text) {
        List<String> lines = text.strip().lines().toList();
        return lines.isEmpty() ? "" : lines.get(lines.size() - 1);
    }

    private static JsonObject parse(String body) {
        try {
            JsonElement e = JsonParser.parseString(body);
            return e.isJsonObject() ? e.getAsJsonObject() : null;
        } catch (RuntimeException e) {
            return null;
        }
    }
}
