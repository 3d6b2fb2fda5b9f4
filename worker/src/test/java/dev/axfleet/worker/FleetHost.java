package dev.axfleet.worker;

import dev.axfleet.broker.BrokerAddress;
import dev.axfleet.broker.CardRef;
import dev.axfleet.broker.residency.KeepAlive;
import dev.axfleet.broker.testing.TestBroker;
import dev.axfleet.emulator.EmulatedModel;
import dev.axfleet.worker.residency.ResidencyConfig;
import dev.axfleet.worker.runtime.AxllmServeRuntime;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * One Pi of {@link FleetNetnsTest}'s fleet, as a process of its own (run inside its network namespace): a worker per
 * model named on the command line, each on the emulated {@code axllm serve} at this host's own pace, all on this
 * host's one card.
 *
 * <p>{@code FleetHost BROKER_HOST BROKER_PORT HOST DIR TIME_SCALE MODEL[:unloaded] ...}: a model marked
 * {@code unloaded} is not preloaded (models.preload does not name it), so its worker starts with the model off the card.
 */
public final class FleetHost {
    private FleetHost() {
    }

    public static void main(String[] args) throws InterruptedException {
        BrokerAddress broker = BrokerAddress.parse("mqtt://" + args[0] + ":" + args[1]);
        String host = args[2];
        Path dir = Path.of(args[3]);
        Map<String, String> env = Map.of("AXFLEET_EMULATOR_TIME_SCALE", args[4]);
        List<Worker> workers = new ArrayList<>();
        for (int i = 5; i < args.length; i++) {
            String[] spec = args[i].split(":");
            String model = spec[0];
            boolean preload = spec.length == 1;
            Path state = dir.resolve(model).resolve("state");
            Path modelDir = EmulatedModel.writeModelDir(dir.resolve(model), "models", "Qwen3-0.6B");
            AxllmServeRuntime.Config rc = EmulatedWorkers.axllmRuntime(modelDir, state, TestBroker.freePort(), env, 0, Duration.ofMinutes(30));
            ResidencyConfig residency = new ResidencyConfig(false, preload, KeepAlive.FOREVER, 0, 0, dir.resolve("card-0.lock"), Duration.ofSeconds(30));
            WorkerConfig c = new WorkerConfig(model, host + "-" + model, broker, state, 512, Duration.ofHours(1), Duration.ofMillis(500),
                    Duration.ofSeconds(30), new WorkerConfig.AxllmServe(rc), new CardRef(host, 0), Duration.ofSeconds(20), 0,
                    WorkerConfig.ContextOverflow.TRUNCATE, residency);
            Worker w = new Worker(c, c.runtime().create());
            workers.add(w);
        }
        Runtime.getRuntime().addShutdownHook(new Thread(() -> workers.forEach(Worker::close), "shutdown"));
        workers.forEach(Worker::start);
        Thread.currentThread().join();
    }
}
