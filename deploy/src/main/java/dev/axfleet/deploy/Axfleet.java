package dev.axfleet.deploy;

import dev.axfleet.config.Settings;
import dev.axfleet.deploy.models.ModelsCommand;
import dev.axfleet.gateway.GatewayMain;
import dev.axfleet.monitor.MonitorMain;
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
 * axfleet monitor   card health, thermal guard and recovery (systemd: axfleet-monitor)
 * axfleet models    list | pull | verify | remove model folders
 * axfleet plan      whether models fit on the card together
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
            case "monitor" -> MonitorMain.main(rest);
            case "models" -> System.exit(new ModelsCommand(Settings.fromEnvironment(), System.out).models(Arrays.asList(rest)));
            case "plan" -> System.exit(new ModelsCommand(Settings.fromEnvironment(), System.out).plan(Arrays.asList(rest)));
            default -> {
                System.err.println("usage: axfleet up | worker | gateway | monitor | models | plan");
                System.err.println("  up       the whole fleet in one process; without the AX650 card it runs the emulator");
                System.err.println("  worker   one resident worker for worker.model (AXFLEET_WORKER_MODEL)");
                System.err.println("  gateway  the REST facades (OpenAI /v1, Ollama /api, /health, /metrics)");
                System.err.println("  monitor  card health on MQTT, thermal guard, recovery ladder (axcl-smi)");
                System.err.println("  models   list | pull MODEL | verify MODEL | remove MODEL: model folders from the manufacturer's host");
                System.err.println("  plan     [MODEL...]: whether the models fit on the card together");
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
