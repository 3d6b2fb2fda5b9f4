package dev.axfleet.bench;

import com.google.gson.JsonParser;
import com.hivemq.client.mqtt.MqttGlobalPublishFilter;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt5.Mqtt5AsyncClient;
import dev.axfleet.broker.BrokerAddress;
import dev.axfleet.broker.MqttClients;
import dev.axfleet.broker.Topics;
import dev.axfleet.emulator.EmulatedModel;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What the fleet adds on top of the card's runtime, measured in one run on one machine:
 * <ol>
 * <li>latency of a chat completion through gateway → broker → worker → runtime, against the same request
 *     sent straight to the runtime (median, p99, difference and ratio);</li>
 * <li>the same for the first streamed token;</li>
 * <li>jobs per second through broker + worker with a runtime that takes no time;</li>
 * <li>resident memory of the all-in-one process ({@code axfleet up}).</li>
 * </ol>
 * The runtime is the emulator at time scale 0 (no simulated card time), so every millisecond measured is
 * software: HTTP, JSON, MQTT, scheduling. Baseline and fleet requests alternate, so drift hits both.
 */
public final class Bench {
    private static final HttpClient HTTP = Processes.HTTP;
    private static final String BODY = "{\"model\":\"%s\",\"max_tokens\":16,\"messages\":[{\"role\":\"system\",\"content\":\"You are a coyote.\"},"
            + "{\"role\":\"user\",\"content\":\"What do you see tonight?\"}]%s}";

    private Bench() {
    }

    /** One fleet under measurement: {@code axfleet up} from one jar, with ports of its own. */
    private record Fleet(String label, Process process, int gatewayPort, int brokerPort) {
        String url() {
            return "http://127.0.0.1:" + gatewayPort + "/v1/chat/completions";
        }
    }

    /**
     * {@code Bench JAR [JAR...]}: with two jars (an older build and this one) both fleets run at once and their requests
     * alternate with the baseline's, so the comparison is in one run and drift hits all alike ({@code -Dlabels=old,new}).
     */
    public static void main(String[] args) throws Exception {
        List<Path> jars = args.length == 0 ? List.of(Path.of("deploy/target/axfleet.jar").toAbsolutePath())
                : Arrays.stream(args).map(a -> Path.of(a).toAbsolutePath()).toList();
        List<String> labels = Arrays.asList(System.getProperty("labels", jars.size() == 1 ? "fleet" : "first,second").split(","));
        int rounds = Integer.parseInt(System.getProperty("rounds", "1000"));
        int jobs = Integer.parseInt(System.getProperty("jobs", "5000"));
        int warmup = Integer.parseInt(System.getProperty("warmup", "1000"));
        Path home = Files.createTempDirectory("axfleet-bench");

        int runtimePort = Processes.freePort();
        Process runtime = Processes.start(EmulatedModel.axllmServe(EmulatedModel.writeModelDir(home, "baseline", "Qwen3-1.7B"), runtimePort),
                Map.of("AXFLEET_EMULATOR_TIME_SCALE", "0"), home.resolve("baseline.log"));
        boolean mosquitto = "mosquitto".equals(System.getProperty("broker"));
        List<Process> brokers = new ArrayList<>();
        List<Fleet> fleets = new ArrayList<>();
        try {
            for (int i = 0; i < jars.size(); i++) {
                int gatewayPort = Processes.freePort();
                int brokerPort = Processes.freePort();
                if (mosquitto) {
                    brokers.add(mosquitto(home.resolve("broker-" + i), brokerPort));
                }
                fleets.add(new Fleet(labels.get(Math.min(i, labels.size() - 1)), start(jars.get(i), home.resolve("fleet-" + i), gatewayPort,
                        brokerPort, mosquitto), gatewayPort, brokerPort));
            }
            String direct = "http://127.0.0.1:" + runtimePort + "/v1/chat/completions";
            Processes.awaitOk("http://127.0.0.1:" + runtimePort + "/health");
            for (Fleet f : fleets) {
                Processes.awaitOk("http://127.0.0.1:" + f.gatewayPort() + "/health");
            }
            String runtimeModel = "Qwen3-1.7B";
            String fleetModel = "qwen3-1.7b";

            // Warm-up until the JIT has compiled the hot paths (C2 takes 0.3-0.6 s per method on 2 slow cores):
            // measured runs are steady state, not the first minute after start.
            for (int i = 0; i < warmup; i++) {
                for (boolean stream : new boolean[] {false, true}) {
                    call(direct, runtimeModel, stream);
                    for (Fleet f : fleets) {
                        call(f.url(), fleetModel, stream);
                    }
                }
            }
            for (Fleet f : fleets) {
                throughput(BrokerAddress.loopback(f.brokerPort()), fleetModel, jobs, "warmup");
            }
            long[] rssIdle = fleets.stream().mapToLong(f -> Processes.rssKiB(f.process().pid())).toArray();

            double[] d = new double[rounds];
            double[] dFirst = new double[rounds];
            double[][] g = new double[fleets.size()][rounds];
            double[][] gFirst = new double[fleets.size()][rounds];
            for (int i = 0; i < rounds; i++) {
                d[i] = call(direct, runtimeModel, false);
                for (int f = 0; f < fleets.size(); f++) {
                    g[f][i] = call(fleets.get(f).url(), fleetModel, false);
                }
                dFirst[i] = call(direct, runtimeModel, true);
                for (int f = 0; f < fleets.size(); f++) {
                    gFirst[f][i] = call(fleets.get(f).url(), fleetModel, true);
                }
            }

            System.out.println("## Fleet overhead, " + rounds + " rounds (baseline = the same request straight to the runtime)");
            System.out.println();
            System.out.println("| measure | baseline p50 | fleet p50 | added p50 | ratio p50 | baseline p99 | fleet p99 | added p99 |");
            System.out.println("|---|---|---|---|---|---|---|---|");
            for (int f = 0; f < fleets.size(); f++) {
                String label = fleets.size() == 1 ? "" : " (" + fleets.get(f).label() + ")";
                row("chat completion, whole answer" + label, d, g[f]);
                row("chat completion, first streamed token" + label, dFirst, gFirst[f]);
            }
            if (fleets.size() == 2) {
                System.out.println();
                System.out.printf(Locale.ROOT, "Added latency, %s against %s (p50 of fleet minus p50 of baseline): whole answer **%.2f×**, "
                        + "first streamed token **%.2f×**%n", fleets.get(1).label(), fleets.get(0).label(),
                        added(d, g[1]) / added(d, g[0]), added(dFirst, gFirst[1]) / added(dFirst, gFirst[0]));
            }
            System.out.println();
            for (int f = 0; f < fleets.size(); f++) {
                Fleet fleet = fleets.get(f);
                AtomicLong peak = new AtomicLong(rssIdle[f]);
                Thread sampler = new Thread(() -> {
                    while (!Thread.currentThread().isInterrupted()) {
                        peak.accumulateAndGet(Processes.rssKiB(fleet.process().pid()), Math::max);
                        try {
                            Thread.sleep(100);
                        } catch (InterruptedException e) {
                            return;
                        }
                    }
                });
                sampler.start();
                double jobsPerSecond = throughput(BrokerAddress.loopback(fleet.brokerPort()), fleetModel, jobs, "measure");
                sampler.interrupt();
                sampler.join();
                long rssAfter = Processes.rssKiB(fleet.process().pid());
                String label = fleets.size() == 1 ? "" : " (" + fleet.label() + ")";
                System.out.printf(Locale.ROOT, "Throughput through broker + worker%s (%s, zero-time runtime, %d jobs, max_tokens 1): **%.0f jobs/s**%n%n",
                        label, mosquitto ? "Mosquitto" : "embedded broker", jobs, jobsPerSecond);
                System.out.printf(Locale.ROOT, "Resident memory of the all-in-one process%s (`axfleet up`, -Xmx128m): after warm-up **%d MiB**, "
                        + "peak during the throughput run **%d MiB**, after it %d MiB (the emulated runtime is a separate process: %d MiB)%n%n",
                        label, rssIdle[f] / 1024, peak.get() / 1024, rssAfter / 1024, Processes.rssKiB(runtime.pid()) / 1024);
            }
        } finally {
            for (Fleet f : fleets) {
                f.process().destroy();
            }
            runtime.destroy();
            brokers.forEach(Process::destroy);
            for (Fleet f : fleets) {
                f.process().waitFor(20, TimeUnit.SECONDS);
            }
            runtime.waitFor(20, TimeUnit.SECONDS);
        }
    }

    /** {@code axfleet up} from {@code jar} with one chat model, Qwen3-1.7B's, on an emulated runtime that takes no time. */
    private static Process start(Path jar, Path home, int gatewayPort, int brokerPort, boolean mosquitto) throws IOException {
        Files.createDirectories(home);
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xms32m", "-Xmx128m", "-XX:+UseSerialGC", "-XX:MaxMetaspaceSize=96m", "-Xss512k",
                System.getProperty("fleetJvmOption", "-Dbench=1")));
        // An older build's jar names its embedded broker in its manifest; a newer one keeps it beside, in embedded-broker/.
        command.addAll(Processes.up(jar));
        return Processes.start(command,
                Map.of("AXFLEET_CONFIG", home.resolve("none.conf").toString(),
                        "AXFLEET_FLEET_HOME", home.toString(),
                        "AXFLEET_EMULATOR_TIME_SCALE", "0",
                        "AXFLEET_FLEET_MODELS", "qwen3-1.7b=Qwen3-1.7B",
                        "AXFLEET_FLEET_IMAGE_MODEL", "",
                        // The monitor would probe the emulated card with a JVM-based axcl-smi every 5 s, noise that the
                        // Pi's C binary does not make; bench/start-times measures the monitor on its own.
                        "AXFLEET_FLEET_MONITOR", "false",
                        "AXFLEET_GATEWAY_PORT", String.valueOf(gatewayPort),
                        mosquitto ? "AXFLEET_BROKER_URL" : "AXFLEET_BROKER_EMBEDDED_PORT",
                        mosquitto ? "mqtt://127.0.0.1:" + brokerPort : String.valueOf(brokerPort)),
                home.resolve("fleet.log"));
    }

    private static double added(double[] base, double[] fleet) {
        return percentile(fleet, 50) - percentile(base, 50);
    }

    /** Milliseconds until the whole answer (plain) or the first content delta (stream). */
    static double call(String url, String model, boolean stream) throws IOException, InterruptedException {
        String body = String.format(BODY, model, stream ? ",\"stream\":true" : "");
        HttpRequest request = HttpRequest.newBuilder(URI.create(url)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build();
        long start = System.nanoTime();
        if (!stream) {
            HttpResponse<String> r = HTTP.send(request, HttpResponse.BodyHandlers.ofString());
            long ns = System.nanoTime() - start;
            check(r.statusCode() == 200 && JsonParser.parseString(r.body()).getAsJsonObject().has("choices"), r.body());
            return ns / 1e6;
        }
        HttpResponse<InputStream> r = HTTP.send(request, HttpResponse.BodyHandlers.ofInputStream());
        check(r.statusCode() == 200, "status " + r.statusCode());
        double first = -1;
        try (BufferedReader reader = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
            for (String line; (line = reader.readLine()) != null; ) {
                if (first < 0 && line.startsWith("data: {") && line.contains("\"content\":\"") && !line.contains("\"content\":\"\"")) {
                    first = (System.nanoTime() - start) / 1e6;
                }
            }
        }
        check(first >= 0, "no content delta");
        return first;
    }

    /** Publishes {@code n} jobs at once over MQTT and waits for every result. */
    private static double throughput(BrokerAddress broker, String model, int n, String run) throws Exception {
        Mqtt5AsyncClient c = MqttClients.builder(broker, "bench-" + run).buildAsync();
        CountDownLatch results = new CountDownLatch(n);
        c.publishes(MqttGlobalPublishFilter.ALL, p -> results.countDown());
        c.connect().get(10, TimeUnit.SECONDS);
        c.subscribeWith().topicFilter(Topics.replies(run)).qos(MqttQos.AT_LEAST_ONCE).send().get(10, TimeUnit.SECONDS);
        long start = System.nanoTime();
        for (int i = 0; i < n; i++) {
            String id = run + i;
            c.publishWith().topic(Topics.jobs(model)).qos(MqttQos.AT_LEAST_ONCE)
                    .payload(("{\"id\":\"" + id + "\",\"reply_to\":\"" + Topics.reply(run, id)
                            + "\",\"params\":{\"prompt\":\"hi\",\"max_tokens\":1}}").getBytes(StandardCharsets.UTF_8))
                    .send();
        }
        check(results.await(10, TimeUnit.MINUTES), "not every job was answered: " + results.getCount() + " left");
        double seconds = (System.nanoTime() - start) / 1e9;
        c.disconnect().get(10, TimeUnit.SECONDS);
        return n / seconds;
    }

    private static void row(String name, double[] base, double[] fleet) {
        double b50 = percentile(base, 50);
        double f50 = percentile(fleet, 50);
        double b99 = percentile(base, 99);
        double f99 = percentile(fleet, 99);
        System.out.printf(Locale.ROOT, "| %s | %.2f ms | %.2f ms | %.2f ms | %.2f× | %.2f ms | %.2f ms | %.2f ms |%n",
                name, b50, f50, f50 - b50, f50 / b50, b99, f99, f99 - b99);
    }

    static double percentile(double[] values, int p) {
        double[] s = values.clone();
        Arrays.sort(s);
        return s[Math.min(s.length - 1, (int) Math.ceil(p / 100.0 * s.length) - 1)];
    }

    /** Mosquitto with the tuning of deploy/mosquitto/axfleet.conf, without its ACL, on a free port. */
    static Process mosquitto(Path home, int port) throws IOException {
        Files.createDirectories(home);
        Path conf = home.resolve("mosquitto.conf");
        Files.writeString(conf, String.join("\n", "listener " + port + " 127.0.0.1", "allow_anonymous true",
                "set_tcp_nodelay true", "max_queued_messages 100000", "persistence false", ""));
        return Processes.start(List.of("mosquitto", "-c", conf.toString()), Map.of(), home.resolve("mosquitto.log"));
    }

    private static void check(boolean ok, String what) {
        if (!ok) {
            throw new IllegalStateException(what);
        }
    }
}
