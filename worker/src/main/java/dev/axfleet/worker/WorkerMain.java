package dev.axfleet.worker;

import dev.axfleet.config.Settings;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** {@code axfleet worker}: one resident worker process for the model named in the config. */
public final class WorkerMain {
    private static final Logger log = LoggerFactory.getLogger(WorkerMain.class);

    private WorkerMain() {
    }

    public static void main(String[] args) throws InterruptedException {
        run(Settings.fromEnvironment());
    }

    /** Runs one worker with these settings until the process is stopped. */
    public static void run(Settings settings) throws InterruptedException {
        WorkerConfig config = WorkerConfig.from(settings);
        log.info("axfleet worker, settings from {}", settings.source());
        config.describe().forEach(line -> log.info("  {}", line));
        Worker worker = new Worker(config, config.runtime().create());
        Runtime.getRuntime().addShutdownHook(new Thread(worker::close, "shutdown"));
        worker.start();
        Thread.currentThread().join();
    }
}
