package dev.axfleet.deploy.cli;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.axfleet.deploy.Axfleet;
import dev.axfleet.deploy.UserError;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/**
 * {@code axfleet run MODEL [PROMPT]}, as {@code ollama run}: the answer printed as it streams (the gateway's Ollama
 * {@code /api/chat}); without a prompt a small chat that keeps the conversation, until {@code /bye} or end of input.
 */
@Command(name = "run", description = "Ask a model and print the answer as it is generated. Without PROMPT: a chat, one line a turn, "
        + "the conversation kept (/bye or Ctrl-D ends it, /clear forgets it).")
public final class RunCommand implements Callable<Integer> {
    @ParentCommand
    Axfleet root;

    @Parameters(index = "0", paramLabel = "MODEL", description = "a model the fleet serves (axfleet ps)")
    String model;

    @Parameters(index = "1..*", arity = "0..*", paramLabel = "PROMPT", description = "what to ask (several words are one prompt)")
    String[] prompt;

    @Mixin
    GatewayOption gateway;

    @Option(names = "--system", paramLabel = "TEXT", description = "a system message put first")
    String system;

    @Override
    public Integer call() throws Exception {
        GatewayApi api = gateway.api(root.settings());
        JsonArray messages = new JsonArray();
        if (system != null) {
            messages.add(message("system", system));
        }
        PrintStream out = root.out();
        if (prompt != null && prompt.length > 0) {
            messages.add(message("user", String.join(" ", prompt)));
            ask(api, messages, out);
            return 0;
        }
        boolean person = System.console() != null;
        BufferedReader in = new BufferedReader(new InputStreamReader(root.in(), StandardCharsets.UTF_8));
        for (int turn = 0; turn < 100_000; turn++) {
            if (person) {
                out.print(">>> ");
                out.flush();
            }
            String line = in.readLine();
            if (line == null || line.strip().equals("/bye")) {
                return 0;
            }
            if (line.isBlank()) {
                continue;
            }
            if (line.strip().equals("/clear")) {
                messages = new JsonArray();
                if (system != null) {
                    messages.add(message("system", system));
                }
                out.println("(conversation cleared)");
                continue;
            }
            messages.add(message("user", line));
            String answer = ask(api, messages, out);
            messages.add(message("assistant", answer));
            out.println();
        }
        return 0;
    }

    /** Streams one answer to {@code out}; returns it whole. */
    private String ask(GatewayApi api, JsonArray messages, PrintStream out) throws IOException, InterruptedException {
        JsonObject body = new JsonObject();
        body.addProperty("model", model);
        body.addProperty("stream", true);
        body.add("messages", messages);
        HttpRequest request = api.request("/api/chat").header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body.toString())).build();
        HttpResponse<InputStream> r = api.send(request, HttpResponse.BodyHandlers.ofInputStream());
        if (r.statusCode() != 200) {
            try (InputStream in = r.body()) {
                throw new UserError(GatewayApi.error(r.statusCode(), in));
            }
        }
        StringBuilder answer = new StringBuilder();
        try (BufferedReader lines = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
            for (String line; (line = lines.readLine()) != null; ) {
                if (line.isBlank()) {
                    continue;
                }
                JsonObject chunk = JsonParser.parseString(line).getAsJsonObject();
                if (chunk.has("error")) {
                    out.println();
                    throw new UserError(chunk.get("error").getAsString());
                }
                if (chunk.has("message") && chunk.getAsJsonObject("message").has("content")) {
                    String text = chunk.getAsJsonObject("message").get("content").getAsString();
                    answer.append(text);
                    out.print(text);
                    out.flush();
                }
                if (chunk.has("done") && chunk.get("done").getAsBoolean()) {
                    break;
                }
            }
        }
        out.println();
        return answer.toString();
    }

    private static JsonObject message(String role, String content) {
        JsonObject m = new JsonObject();
        m.addProperty("role", role);
        m.addProperty("content", content);
        return m;
    }
}
