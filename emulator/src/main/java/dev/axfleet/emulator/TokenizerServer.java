package dev.axfleet.emulator;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Stands in for the legacy runtime's tokenizer server, {@code python qwen3_tokenizer_uid.py --port 12345}
 * (gregm123456/Qwen3-4B:qwen3_tokenizer_uid.py, a copy of the model repo's file; ../shared/axera.md §1.3):
 * a chat history per uid, {@code /encode} appends the previous reply and the new user turn (with
 * {@code /no_think}) and returns all ids plus the new ones, every reply is HTTP 200 (errors included).
 * {@code /decode} is left out: the emulated {@link MainApi} produces text itself and never calls it.
 */
public final class TokenizerServer {
    static final int EOS_ID = 151_645;

    private final Map<String, List<String[]>> histories = new ConcurrentHashMap<>();

    /** {@code [--host H] [--port P]}. */
    static void main(List<String> args) throws IOException {
        Map<String, String> flags = Flags.parse(args);
        String host = flags.getOrDefault("host", "127.0.0.1");
        int port = Integer.parseInt(flags.getOrDefault("port", "12345"));
        new TokenizerServer().serve(host, port);
    }

    void serve(String host, int port) throws IOException {
        Map<String, HttpHandler> routes = new HashMap<>();
        routes.put("/get_uid", Http.only("GET", this::getUid));
        routes.put("/bos_id", Http.only("GET", ex -> withUid(ex, uid -> number("bos_id", -1))));
        routes.put("/eos_id", Http.only("GET", ex -> withUid(ex, uid -> number("eos_id", EOS_ID))));
        routes.put("/encode", Http.only("POST", this::encode));
        routes.put("/reset", Http.only("POST", this::reset));
        Http.server(host, port, routes).start();
        AxllmServe.say("EMULATOR: axfleet's stand-in for qwen3_tokenizer_uid.py");
        AxllmServe.say("Server running at http://" + host + ":" + port);
    }

    private void getUid(HttpExchange ex) throws IOException {
        String uid = UUID.randomUUID().toString();
        histories.put(uid, new ArrayList<>());
        JsonObject o = new JsonObject();
        o.addProperty("uid", uid);
        Http.json(ex, 200, o);
    }

    private void encode(HttpExchange ex) throws IOException {
        JsonObject req = Http.jsonBody(Http.body(ex));
        List<String[]> history = history(req);
        if (history == null) {
            Http.json(ex, 200, invalidUid());
            return;
        }
        String before = render(history, false);
        if (req.has("last_reply") && !req.get("last_reply").getAsString().isEmpty()) {
            history.add(new String[] {"assistant", req.get("last_reply").getAsString()});
        }
        history.add(new String[] {"user", req.get("text").getAsString() + " /no_think"});
        String after = render(history, true);
        List<Integer> all = Tokens.ids(after);
        List<Integer> diff = Tokens.ids(after.substring(before.length()));
        JsonObject o = new JsonObject();
        o.add("token_ids", array(all));
        o.add("diff", array(diff));
        Http.json(ex, 200, o);
    }

    private void reset(HttpExchange ex) throws IOException {
        JsonObject req = Http.jsonBody(Http.body(ex));
        List<String[]> history = history(req);
        if (history == null) {
            Http.json(ex, 200, invalidUid());
            return;
        }
        history.clear();
        String system = req.has("system_prompt") ? req.get("system_prompt").getAsString() : "";
        history.add(new String[] {"system", system});
        JsonObject o = new JsonObject();
        o.add("token_ids", array(Tokens.ids(render(history, false))));
        Http.json(ex, 200, o);
    }

    private List<String[]> history(JsonObject req) {
        return req == null || !req.has("uid") ? null : histories.get(req.get("uid").getAsString());
    }

    private void withUid(HttpExchange ex, java.util.function.Function<String, JsonObject> answer) throws IOException {
        String query = ex.getRequestURI().getQuery();
        String uid = query != null && query.startsWith("uid=") ? query.substring(4) : "";
        Http.json(ex, 200, histories.containsKey(uid) ? answer.apply(uid) : invalidUid());
    }

    private static String render(List<String[]> history, boolean generationPrompt) {
        StringBuilder sb = new StringBuilder();
        for (String[] turn : history) {
            sb.append("<|im_start|>").append(turn[0]).append('\n').append(turn[1]).append("<|im_end|>\n");
        }
        if (generationPrompt) {
            sb.append("<|im_start|>assistant\n");
        }
        return sb.toString();
    }

    private static JsonObject number(String key, int value) {
        JsonObject o = new JsonObject();
        o.addProperty(key, value);
        return o;
    }

    private static JsonObject invalidUid() {
        JsonObject o = new JsonObject();
        o.addProperty("error", "Invalid uid");
        return o;
    }

    private static JsonArray array(List<Integer> ids) {
        JsonArray a = new JsonArray();
        ids.forEach(a::add);
        return a;
    }
}
