package dev.axfleet.deploy.cli;

import dev.axfleet.worker.WorkerMain;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** {@code axfleet worker}. */
@Command(name = "worker", description = "One resident worker for worker.model (AXFLEET_WORKER_MODEL); systemd runs it as axfleet-worker@MODEL.")
public final class WorkerCommand implements Callable<Integer> {
    @Override
    public Integer call() throws Exception {
        WorkerMain.main(new String[0]);
        return 0;
    }
}
