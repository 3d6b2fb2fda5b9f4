package dev.axfleet.monitor;

import dev.axfleet.config.Settings;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** {@code axfleet monitor}: the device monitor for this host's cards. */
public final class MonitorMain {
    private static final Logger log = LoggerFactory.getLogger(MonitorMain.class);

    private MonitorMain() {
    }

    public static void main(String[] args) throws InterruptedException {
        Settings settings = Settings.fromEnvironment();
        MonitorConfig config = MonitorConfig.from(settings);
        log.info("axfleet monitor, settings from {}", settings.source());
        config.describe().forEach(line -> log.info("  {}", line));
        Monitor monitor = new Monitor(config);
        Runtime.getRuntime().addShutdownHook(new Thread(monitor::close, "shutdown"));
        monitor.start();
        Thread.currentThread().join();
    }
}
