package dev.axfleet.deploy.cli;

import com.google.gson.JsonObject;
import dev.axfleet.deploy.Axfleet;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/** {@code axfleet load MODEL [--keep-alive D]}: the gateway's {@code POST /v1/models/load}. */
@Command(name = "load", description = "Load a model onto the card now (the gateway's POST /v1/models/load, with the admin token): idle "
        + "models that are not pinned are unloaded to make room, the least recently used first. Exit 0 once it is loaded.")
public final class LoadCommand implements Callable<Integer> {
    @ParentCommand
    Axfleet root;

    @Mixin
    GatewayOption gateway;

    @Parameters(paramLabel = "MODEL", description = "the model's name")
    String model;

    @Option(names = "--keep-alive", paramLabel = "DURATION", description = "how long it stays loaded after its last use: 10m, 1h30m, 300 "
            + "(seconds), -1 for ever (default: models.keep_alive)")
    String keepAlive;

    @Override
    public Integer call() throws Exception {
        GatewayApi api = gateway.api(root.settings());
        JsonObject body = new JsonObject();
        body.addProperty("model", model);
        if (keepAlive != null) {
            if (keepAlive.matches("-?\\d+(\\.\\d+)?")) {
                body.addProperty("keep_alive", new java.math.BigDecimal(keepAlive));
            } else {
                body.addProperty("keep_alive", keepAlive);
            }
        }
        root.out().println("loading " + model + " (a model takes 20-130 s to load on the card) ...");
        JsonObject o = api.postAdmin("/v1/models/load", "load " + model, body);
        long ms = o.get("load_ms").getAsLong();
        root.out().println(model + " is loaded on " + o.get("worker").getAsString() + (ms > 0 ? String.format(" (it loaded in %.1f s)", ms / 1000.0)
                : " (it was loaded already)"));
        return 0;
    }
}
