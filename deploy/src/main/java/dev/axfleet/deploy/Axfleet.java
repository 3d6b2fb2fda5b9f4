package dev.axfleet.deploy;

import dev.axfleet.config.Settings;
import dev.axfleet.gateway.GatewayMain;
import dev.axfleet.worker.WorkerMain;
import java.util.Arrays;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code axfleet} command.
 * <pre>
 * axfleet up        the whole fleet in one process (broker, workers, gateway)
 * axfleet worker    one resident worker (systemd: axfleet-worker@MODEL)
 * axfleet gateway   the REST facades (systemd: axfleet-gateway)
 * </pre>
 * Settings come from {@code /etc/axfleet/axfleet.conf} (or {@code AXFLEET_CONFIG}) and {@code AXFLEET_*}
 * environment variables.
 */
public final class Axfleet {
    private static final Logger log = LoggerFactory.getLogger(Axfleet.class);

    private Axfleet() {
    }

    public static void main(String[] args) throws Exception {
        String command = args.length == 0 ? "help" : args[0];
        String[] rest = Arrays.copyOfRange(args, Math.min(1, args.length), args.length);
        switch (command) {
            case "up" -> up();
            case "worker" -> WorkerMain.main(rest);
            case "gateway" -> GatewayMain.main(rest);
            default -> {
                System.err.println("usage: axfleet up | worker | gateway");
                System.err.println("  up       the whole fleet in one process; without the AX650 card it runs the emulator");
                System.err.println("  worker   one resident worker for worker.model (AXFLEET_WORKER_MODEL)");
                System.err.println("  gateway  the REST facades (OpenAI /v1/chat/completions, /v1/models, /health, /metrics)");
                System.exit(command.equals("help") || command.equals("--help") ? 0 : 2);
            }
        }
    }

    private static void up() throws InterruptedException {
        Settings settings = Settings.fromEnvironment();
        FleetConfig config = FleetConfig.from(settings);
        log.info("axfleet up, settings from {}", settings.source());
        log.info("  fleet.home={} fleet.models={} card={} emulate={}{}", config.home(), config.models(),
                config.cardPresent() ? "present" : "absent", config.emulate(),
                config.emulate() ? " emulator.time_scale=" + config.emulatorTimeScale() : "");
        Fleet fleet = Fleet.start(config);
        Runtime.getRuntime().addShutdownHook(new Thread(fleet::close, "shutdown"));
        Thread.currentThread().join();
    }
}
