package dev.axfleet.deploy.cli;

import dev.axfleet.config.Settings;
import dev.axfleet.deploy.Axfleet;
import dev.axfleet.deploy.models.ModelCatalog;
import dev.axfleet.worker.WorkerMain;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.ParentCommand;

/** {@code axfleet worker}. */
@Command(name = "worker", description = "One resident worker for worker.model (AXFLEET_WORKER_MODEL); systemd runs it as axfleet-worker@MODEL.")
public final class WorkerCommand implements Callable<Integer> {
    @ParentCommand
    Axfleet root;

    @Override
    public Integer call() throws Exception {
        Settings s = root.settings();
        String model = s.string("worker.model", null);
        // The model's CMM footprint from the catalog unless configured: the worker plans the card's room with it.
        WorkerMain.run(model == null ? s : ModelCatalog.builtIn().withFootprint(s, model));
        return 0;
    }
}
