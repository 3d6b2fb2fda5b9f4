package dev.axfleet.deploy.cli;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import dev.axfleet.deploy.Axfleet;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/** {@code axfleet unload MODEL}: the gateway's {@code POST /v1/models/unload}. */
@Command(name = "unload", description = "Unload a model from the card (the gateway's POST /v1/models/unload, with the admin token); a model "
        + "running a job unloads after it. Its next job loads it again. A pinned model (models.pinned) is not unloaded: exit 1.")
public final class UnloadCommand implements Callable<Integer> {
    @ParentCommand
    Axfleet root;

    @Mixin
    GatewayOption gateway;

    @Parameters(paramLabel = "MODEL", description = "the model's name")
    String model;

    @Override
    public Integer call() throws Exception {
        GatewayApi api = gateway.api(root.settings());
        JsonObject body = new JsonObject();
        body.addProperty("model", model);
        JsonObject o = api.postAdmin("/v1/models/unload", "unload " + model, body);
        if (o.getAsJsonArray("workers").isEmpty()) {
            root.out().println(model + ": asked to unload; no worker answered yet (one running a job unloads after it)");
        }
        for (JsonElement e : o.getAsJsonArray("workers")) {
            JsonObject w = e.getAsJsonObject();
            root.out().println(model + " on " + w.get("worker").getAsString() + ": " + w.get("outcome").getAsString()
                    + (w.has("message") ? " (" + w.get("message").getAsString() + ")" : ""));
        }
        return 0;
    }
}
