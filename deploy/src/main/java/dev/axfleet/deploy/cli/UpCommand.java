package dev.axfleet.deploy.cli;

import dev.axfleet.config.Settings;
import dev.axfleet.deploy.Axfleet;
import dev.axfleet.deploy.Fleet;
import dev.axfleet.deploy.FleetConfig;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.ParentCommand;

/** {@code axfleet up}: the whole fleet in one process. */
@Command(name = "up", description = "The whole fleet in one process: broker, workers, gateway, monitor. Without the AX650 card "
        + "(/dev/axcl_host) it runs axfleet's emulator and says so everywhere.")
public final class UpCommand implements Callable<Integer> {
    private static final Logger log = LoggerFactory.getLogger(UpCommand.class);

    @ParentCommand
    Axfleet root;

    @Override
    public Integer call() throws InterruptedException {
        Settings settings = root.settings();
        FleetConfig config = FleetConfig.from(settings);
        log.info("axfleet up, settings from {}", settings.source());
        log.info("  fleet.home={} fleet.models={} card={} emulate={}{}", config.home(), config.models(),
                config.cardPresent() ? "present" : "absent", config.emulate(),
                config.emulate() ? " emulator.time_scale=" + config.emulatorTimeScale() : "");
        Fleet fleet = Fleet.start(config);
        Runtime.getRuntime().addShutdownHook(new Thread(fleet::close, "shutdown"));
        Thread.currentThread().join();
        return 0;
    }
}
