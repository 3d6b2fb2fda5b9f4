package dev.axfleet.bench;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.hivemq.client.mqtt.MqttGlobalPublishFilter;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt5.Mqtt5AsyncClient;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5PublishResult;
import com.hivemq.client.mqtt.mqtt5.message.publish.puback.Mqtt5PubAckReasonCode;
import dev.axfleet.broker.BrokerAddress;
import dev.axfleet.broker.MqttClients;
import dev.axfleet.broker.Topics;
import dev.axfleet.emulator.EmulatedModel;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;

/**
 * The soak: Mosquitto (persistent), two worker processes for one model (emulated runtime), a gateway, and
 * clients over HTTP and MQTT for a set time, with faults injected at random — a worker killed with SIGKILL
 * (restarted 2 s later, as systemd would), a runtime hang, a broker restart. It counts jobs sent, answered,
 * refused (503, retryable), failed and lost, and results delivered twice to a caller, and samples the
 * services' heap, resident memory and threads. Stops by itself.
 * <pre>bench/soak [-Dminutes=30] [-Dhttp=3] [-Dmqtt=3] [-DfaultEvery=75] [-Dfaults=kill,hang,broker]</pre>
 */
public final class Soak {
    private static final String MODEL = "qwen3-1.7b";
    private static final Random RANDOM = new Random(Long.getLong("seed", 650L));

    private final Path home;
    private final Path jar;
    private final int brokerPort;
    private final int gatewayPort;
    private final Map<String, Process> workers = new ConcurrentHashMap<>();
    private final Map<String, Integer> runtimePorts = new ConcurrentHashMap<>();
    private Process broker;
    private Process gateway;

    private final AtomicLong sent = new AtomicLong();
    private final AtomicLong answered = new AtomicLong();
    private final AtomicLong refused = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();
    private final AtomicLong lostHttp = new AtomicLong();
    private final AtomicLong duplicates = new AtomicLong();
    private final Map<String, AtomicInteger> mqttResults = new ConcurrentHashMap<>();
    private final Map<String, Integer> failures = new ConcurrentHashMap<>();
    private final List<String> faults = new ArrayList<>();
    private final List<String> samples = new ArrayList<>();
    private volatile boolean running = true;

    private Soak(Path home, Path jar) throws IOException {
        this.home = home;
        this.jar = jar;
        this.brokerPort = Processes.freePort();
        this.gatewayPort = Processes.freePort();
    }

    public static void main(String[] args) throws Exception {
        Path jar = Path.of(args.length > 0 ? args[0] : "deploy/target/axfleet.jar").toAbsolutePath();
        Soak soak = new Soak(Files.createTempDirectory("axfleet-soak"), jar);
        soak.run(Duration.ofMinutes(Long.getLong("minutes", 30)), Integer.getInteger("http", 3), Integer.getInteger("mqtt", 3),
                Duration.ofSeconds(Long.getLong("faultEvery", 75)));
        // The MQTT clients' threads would keep the JVM alive.
        System.exit(0);
    }

    private void run(Duration length, int httpClients, int mqttClients, Duration faultEvery) throws Exception {
        // Interrupted (Ctrl-C), the soak takes its fleet down with it.
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            workers.values().forEach(Process::destroy);
            if (gateway != null) {
                gateway.destroy();
            }
            if (broker != null) {
                broker.destroy();
            }
        }));
        startBroker();
        startWorker("w1");
        startWorker("w2");
        gateway = Processes.start(java("gateway"), Map.of("AXFLEET_CONFIG", "/nonexistent", "AXFLEET_BROKER_URL", brokerUrl(),
                "AXFLEET_GATEWAY_PORT", String.valueOf(gatewayPort), "AXFLEET_GATEWAY_MODELS", MODEL,
                "AXFLEET_GATEWAY_REQUEST_TIMEOUT", "120s"), home.resolve("gateway.log"));
        Processes.awaitOk("http://127.0.0.1:" + gatewayPort + "/health");
        long start = System.nanoTime();
        List<Thread> clients = new ArrayList<>();
        for (int i = 0; i < httpClients; i++) {
            clients.add(thread("http-" + i, this::httpClient));
        }
        for (int i = 0; i < mqttClients; i++) {
            int n = i;
            clients.add(thread("mqtt-" + i, () -> mqttClient(n)));
        }
        long end = start + length.toNanos();
        long nextSample = start;
        long nextFault = start + faultEvery.toNanos();
        while (System.nanoTime() < end) {
            if (System.nanoTime() >= nextSample) {
                sample((System.nanoTime() - start) / 1_000_000_000L);
                nextSample += Duration.ofMinutes(1).toNanos();
            }
            if (System.nanoTime() >= nextFault) {
                fault((System.nanoTime() - start) / 1_000_000_000L);
                long jitter = faultEvery.toNanos() / 2;
                nextFault = System.nanoTime() + faultEvery.toNanos() - jitter + (long) (RANDOM.nextDouble() * 2 * jitter);
            }
            Thread.sleep(500);
        }
        running = false;
        for (Thread t : clients) {
            t.join(Duration.ofMinutes(3).toMillis());
        }
        sample((System.nanoTime() - start) / 1_000_000_000L);
        report(length, httpClients, mqttClients);
        workers.values().forEach(Process::destroy);
        gateway.destroy();
        broker.destroy();
    }

    // ---- the fleet ----

    private List<String> java(String command) {
        return List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xms24m", "-Xmx96m", "-XX:+UseSerialGC",
                "-XX:MaxMetaspaceSize=64m", "-Xss512k", "-jar", jar.toString(), command);
    }

    private String brokerUrl() {
        return "mqtt://127.0.0.1:" + brokerPort;
    }

    private void startBroker() throws Exception {
        Path conf = home.resolve("mosquitto.conf");
        // "user": started as root, Mosquitto would drop to user "mosquitto" and could not write its database here.
        Files.writeString(conf, String.join("\n", "listener " + brokerPort + " 127.0.0.1", "allow_anonymous true",
                "user " + System.getProperty("user.name"),
                "set_tcp_nodelay true", "max_queued_messages 100000", "persistence true",
                "persistence_location " + home + "/", "autosave_interval 1", ""));
        broker = Processes.start(List.of("mosquitto", "-c", conf.toString()), Map.of(), home.resolve("mosquitto.log"));
        Thread.sleep(500);
    }

    private void startWorker(String id) throws IOException {
        int port = runtimePorts.computeIfAbsent(id, k -> freePort());
        Path modelDir = EmulatedModel.writeModelDir(home.resolve("models-" + id), MODEL, "Qwen3-1.7B");
        String command = EmulatedModel.axllmServe(modelDir, port).stream().map(a -> "'" + a + "'").collect(Collectors.joining(" "));
        workers.put(id, Processes.start(java("worker"), Map.of("AXFLEET_CONFIG", "/nonexistent", "AXFLEET_BROKER_URL", brokerUrl(),
                "AXFLEET_WORKER_MODEL", MODEL, "AXFLEET_WORKER_ID", id, "AXFLEET_WORKER_STATE_DIR", home.resolve("state-" + id).toString(),
                "AXFLEET_RUNTIME_PORT", String.valueOf(port), "AXFLEET_RUNTIME_MODEL_DIR", modelDir.toString(),
                "AXFLEET_RUNTIME_COMMAND", command, "AXFLEET_RUNTIME_ENV", "AXFLEET_EMULATOR_TIME_SCALE=0.02",
                "AXFLEET_RUNTIME_STALL_TIMEOUT", "5s"), home.resolve("worker-" + id + ".log")));
    }

    private static int freePort() {
        try {
            return Processes.freePort();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private void fault(long atSeconds) throws Exception {
        List<String> kinds = List.of(System.getProperty("faults", "kill,hang,broker").split(","));
        int kind = List.of("kill", "hang", "broker").indexOf(kinds.get(RANDOM.nextInt(kinds.size())));
        String worker = RANDOM.nextBoolean() ? "w1" : "w2";
        String what;
        switch (kind) {
            case 0 -> {
                Process p = workers.get(worker);
                p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                Thread.sleep(2000);
                startWorker(worker);
                what = "worker " + worker + " killed (SIGKILL), restarted after 2 s";
            }
            case 1 -> {
                what = "runtime of " + worker + " hangs mid-answer: " + post("http://127.0.0.1:" + runtimePorts.get(worker)
                        + "/_emulator/fault", "{\"mode\":\"hang\",\"after_tokens\":2}");
            }
            default -> {
                broker.destroy();
                broker.waitFor(10, TimeUnit.SECONDS);
                Thread.sleep(2000);
                broker = Processes.start(List.of("mosquitto", "-c", home.resolve("mosquitto.conf").toString()), Map.of(),
                        home.resolve("mosquitto.log"));
                what = "broker restarted (SIGTERM, persistence on), 2 s down";
            }
        }
        synchronized (faults) {
            faults.add(String.format(Locale.ROOT, "| %d:%02d | %s |", atSeconds / 60, atSeconds % 60, what));
        }
    }

    private static String post(String url, String body) {
        try {
            HttpResponse<String> r = Processes.HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(5))
                    .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
            return "HTTP " + r.statusCode();
        } catch (IOException | InterruptedException e) {
            return "not set (" + e.getClass().getSimpleName() + ": the runtime was restarting)";
        }
    }

    private void sample(long atSeconds) {
        StringBuilder row = new StringBuilder(String.format(Locale.ROOT, "| %d:%02d |", atSeconds / 60, atSeconds % 60));
        for (Map.Entry<String, Process> e : Map.of("gateway", gateway, "w1", workers.get("w1"), "w2", workers.get("w2")).entrySet()
                .stream().sorted(Map.Entry.comparingByKey()).toList()) {
            long pid = e.getValue().pid();
            row.append(String.format(Locale.ROOT, " %s: heap %s MiB, rss %d MiB, %d threads |", e.getKey(), heapMiB(pid),
                    Processes.rssKiB(pid) / 1024, Processes.status(pid, "Threads")));
        }
        synchronized (samples) {
            samples.add(row.toString());
        }
    }

    /** Heap in use now (survivors, eden, old generation) from jstat, without forcing a collection first. */
    private static String heapMiB(long pid) {
        try {
            Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "jstat").toString(), "-gc", String.valueOf(pid))
                    .redirectErrorStream(true).start();
            List<String> lines = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).lines().toList();
            p.waitFor(10, TimeUnit.SECONDS);
            String[] head = lines.get(0).trim().split("\\s+");
            String[] vals = lines.get(1).trim().split("\\s+");
            double used = 0;
            for (int i = 0; i < head.length; i++) {
                if (List.of("S0U", "S1U", "EU", "OU").contains(head[i])) {
                    used += Double.parseDouble(vals[i]);
                }
            }
            return String.format(Locale.ROOT, "%.1f", used / 1024);
        } catch (Exception e) {
            return "?";
        }
    }

    // ---- the clients ----

    private static Thread thread(String name, Runnable r) {
        Thread t = new Thread(r, name);
        t.start();
        return t;
    }

    private void httpClient() {
        long n = 0;
        while (running) {
            String body = "{\"model\":\"" + MODEL + "\",\"max_tokens\":12,\"messages\":[{\"role\":\"user\",\"content\":\"http question "
                    + Thread.currentThread().getName() + "-" + (n++) + "\"}]}";
            sent.incrementAndGet();
            try {
                HttpResponse<String> r = Processes.HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gatewayPort
                        + "/v1/chat/completions")).timeout(Duration.ofSeconds(150)).header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) {
                    answered.incrementAndGet();
                } else if (r.statusCode() == 503) {
                    refused.incrementAndGet();
                    sleep(1000);
                } else {
                    fail("HTTP " + r.statusCode() + " " + brief(r.body()));
                }
            } catch (java.net.http.HttpTimeoutException e) {
                lostHttp.incrementAndGet();
            } catch (IOException e) {
                fail("HTTP " + e.getClass().getSimpleName());
                sleep(1000);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** A device: persistent session, QoS 1, one job at a time, waiting up to 3 minutes for each result. */
    private void mqttClient(int n) {
        String client = "soak-device-" + n;
        Mqtt5AsyncClient c = MqttClients.builder(BrokerAddress.loopback(brokerPort), client).buildAsync();
        Map<String, CountDownLatch> waiting = new ConcurrentHashMap<>();
        c.publishes(MqttGlobalPublishFilter.ALL, p -> {
            JsonObject o = JsonParser.parseString(new String(p.getPayloadAsBytes(), StandardCharsets.UTF_8)).getAsJsonObject();
            if (!"result".equals(o.get("type").getAsString())) {
                return;
            }
            String id = o.get("id").getAsString();
            if (mqttResults.computeIfAbsent(id, k -> new AtomicInteger()).incrementAndGet() > 1) {
                duplicates.incrementAndGet();
                return;
            }
            if ("done".equals(o.get("outcome").getAsString())) {
                answered.incrementAndGet();
            } else {
                fail("MQTT " + o.get("outcome").getAsString() + " " + brief(String.valueOf(o.get("error"))));
            }
            CountDownLatch l = waiting.remove(id);
            if (l != null) {
                l.countDown();
            }
        });
        c.connectWith().cleanStart(false).sessionExpiryInterval(3600).send().join();
        c.subscribeWith().topicFilter(Topics.replies(client)).qos(MqttQos.AT_LEAST_ONCE).send().join();
        long i = 0;
        while (running) {
            String id = client + "-" + (i++);
            CountDownLatch done = new CountDownLatch(1);
            waiting.put(id, done);
            mqttResults.put(id, new AtomicInteger());
            sent.incrementAndGet();
            String job = "{\"id\":\"" + id + "\",\"reply_to\":\"" + Topics.reply(client, id) + "\",\"expires_at\":"
                    + (System.currentTimeMillis() + 600_000) + ",\"params\":{\"prompt\":\"mqtt question " + id + "\",\"max_tokens\":12}}";
            try {
                // As a careful MQTT 5 device: "no matching subscribers" (a restarted Mosquitto before the workers are
                // back) means the job was dropped; it is counted as refused and published again.
                while (running && c.publishWith().topic(Topics.jobs(MODEL)).qos(MqttQos.AT_LEAST_ONCE)
                        .payload(job.getBytes(StandardCharsets.UTF_8)).send().get(60, TimeUnit.SECONDS)
                        instanceof Mqtt5PublishResult.Mqtt5Qos1Result q
                        && q.getPubAck().getReasonCode() == Mqtt5PubAckReasonCode.NO_MATCHING_SUBSCRIBERS) {
                    refused.incrementAndGet();
                    sleep(250);
                }
                done.await(180, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                return;
            } catch (Exception e) {
                // Not acknowledged by the broker within a minute: the client library keeps resending it.
                sleep(1000);
            }
        }
        sleep(60_000);
        c.disconnect();
    }

    /** Counts a failed job under its kind (status and the start of the message) for the report. */
    private void fail(String kind) {
        failed.incrementAndGet();
        failures.merge(kind, 1, Integer::sum);
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static String brief(String s) {
        String one = s.replaceAll("\\s+", " ");
        return one.length() > 100 ? one.substring(0, 100) + "..." : one;
    }

    private void report(Duration length, int httpClients, int mqttClients) {
        long lostMqtt = mqttResults.values().stream().filter(n -> n.get() == 0).count();
        System.out.println("## Soak: " + length.toMinutes() + " minutes, " + httpClients + " HTTP and " + mqttClients
                + " MQTT clients, 2 workers, " + faults.size() + " faults");
        System.out.println();
        System.out.println("| jobs sent | answered | refused (503, retryable) | failed | lost (MQTT: no result; HTTP: no response in 150 s) | duplicate results |");
        System.out.println("|---|---|---|---|---|---|");
        System.out.printf(Locale.ROOT, "| %d | %d | %d | %d | %d | %d |%n%n", sent.get(), answered.get(), refused.get(), failed.get(),
                lostMqtt + lostHttp.get(), duplicates.get());
        System.out.println("Failures by kind: " + (failures.isEmpty() ? "none" : failures));
        System.out.println();
        System.out.println("| at | fault |");
        System.out.println("|---|---|");
        faults.forEach(System.out::println);
        System.out.println();
        System.out.println("| at | samples |");
        System.out.println("|---|---|");
        samples.forEach(System.out::println);
        System.out.println();
        System.out.println("Logs: " + home);
    }
}
