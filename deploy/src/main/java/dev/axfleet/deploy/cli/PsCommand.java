package dev.axfleet.deploy.cli;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.axfleet.deploy.Axfleet;
import dev.axfleet.deploy.UserError;
import java.io.PrintStream;
import java.net.http.HttpResponse;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.ParentCommand;

/** {@code axfleet ps}: what runs, as {@code ollama ps} shows it, read from the gateway's {@code /health}. */
@Command(name = "ps", description = "The models the fleet serves: each worker's phase, runtime, card and queue, and each card's state "
        + "(from the gateway's /health). Exit 0 when all is ready, 1 otherwise.")
public final class PsCommand implements Callable<Integer> {
    @ParentCommand
    Axfleet root;

    @Mixin
    GatewayOption gateway;

    @Override
    public Integer call() throws Exception {
        GatewayApi api = gateway.api(root.settings());
        HttpResponse<String> r = api.send(api.request("/health").GET().build(), HttpResponse.BodyHandlers.ofString());
        JsonObject h;
        try {
            h = JsonParser.parseString(r.body()).getAsJsonObject();
        } catch (RuntimeException e) {
            throw new UserError(api.base() + "/health answered " + r.statusCode() + " without the gateway's JSON: is that axfleet's gateway?");
        }
        PrintStream out = root.out();
        JsonObject cards = h.has("cards") ? h.getAsJsonObject("cards") : new JsonObject();
        out.printf("%-18s %-26s %-11s %-19s %-22s %7s %6s%n", "MODEL", "WORKER", "PHASE", "RUNTIME", "CARD", "PENDING", "DONE");
        for (Map.Entry<String, JsonElement> m : h.getAsJsonObject("models").entrySet()) {
            JsonObject model = m.getValue().getAsJsonObject();
            int pending = model.get("pending").getAsInt();
            if (model.getAsJsonArray("workers").isEmpty()) {
                out.printf("%-18s %-26s %-11s %-19s %-22s %7d %6s%n", m.getKey(), "-", "no worker", "-", "-", pending, "-");
            }
            for (JsonElement we : model.getAsJsonArray("workers")) {
                JsonObject w = we.getAsJsonObject();
                String card = w.has("card") ? w.get("card").getAsString() : "-";
                if (cards.has(card)) {
                    JsonObject c = cards.getAsJsonObject(card);
                    card += " " + c.get("state").getAsString() + (c.has("temperature_c") ? " " + Math.round(c.get("temperature_c").getAsDouble()) + "C" : "");
                }
                out.printf("%-18s %-26s %-11s %-19s %-22s %7d %6d%n", m.getKey(), w.get("worker").getAsString(), w.get("phase").getAsString(),
                        w.get("runtime").getAsString() + (w.get("emulated").getAsBoolean() ? " EMULATED" : ""), card, pending,
                        w.get("jobs_done").getAsInt());
                if (w.has("held")) {
                    out.println("    held: " + w.get("held").getAsString());
                }
                if (w.has("last_error") && !"ready".equals(w.get("phase").getAsString())) {
                    out.println("    last error: " + w.get("last_error").getAsString());
                }
            }
        }
        String status = h.get("status").getAsString();
        out.println("status " + status + ", broker " + h.get("broker").getAsString() + (h.get("emulated").getAsBoolean()
                ? " (EMULATED: no AX650 card; answers come from axfleet's emulator)" : ""));
        if (h.has("version")) {
            out.println("gateway: axfleet " + h.get("version").getAsString() + " (commit " + h.get("commit").getAsString() + ")");
        }
        return "ok".equals(status) ? 0 : 1;
    }
}
