package dev.axfleet.bench;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The gateway's HTTP server, new against old, in one run: two stand-alone gateways (one from each build's
 * axfleet.jar, same JVM flags) on one Mosquitto, in front of one worker on the zero-time emulated runtime (the
 * new build's {@code up}). Latency alternates old and new request by request; throughput alternates runs.
 * Usage: {@code ServerBench NEW_JAR OLD_JAR} (-Drounds=1000 -Dwarmup=1000 -Drequests=4000 -Dclients=8 -Druns=3).
 */
public final class ServerBench {
    static final String MODEL = "qwen3-1.7b";

    private ServerBench() {
    }

    public static void main(String[] args) throws Exception {
        Path newJar = Path.of(args[0]).toAbsolutePath();
        Path oldJar = Path.of(args[1]).toAbsolutePath();
        int rounds = Integer.getInteger("rounds", 1000);
        int warmup = Integer.getInteger("warmup", 1000);
        int requests = Integer.getInteger("requests", 4000);
        int clients = Integer.getInteger("clients", 8);
        int runs = Integer.getInteger("runs", 3);
        Path home = Files.createTempDirectory("axfleet-serverbench");
        int brokerPort = Processes.freePort();
        String broker = "mqtt://127.0.0.1:" + brokerPort;
        Process mosquitto = Bench.mosquitto(home, brokerPort);
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> jvm = List.of(java, "-Xms32m", "-Xmx128m", "-XX:+UseSerialGC", "-XX:MaxMetaspaceSize=96m", "-Xss512k");
        int fleetGateway = Processes.freePort();
        Process fleet = Processes.start(concat(jvm, Processes.up(newJar).toArray(String[]::new)),
                Map.of("AXFLEET_CONFIG", home.resolve("none.conf").toString(), "AXFLEET_FLEET_HOME", home.resolve("fleet").toString(),
                        "AXFLEET_EMULATOR_TIME_SCALE", "0", "AXFLEET_FLEET_MONITOR", "false", "AXFLEET_FLEET_IMAGE_MODEL", "",
                        "AXFLEET_GATEWAY_PORT", String.valueOf(fleetGateway), "AXFLEET_BROKER_URL", broker),
                home.resolve("fleet.log"));
        int oldPort = Processes.freePort();
        int newPort = Processes.freePort();
        Process oldGateway = gateway(jvm, oldJar, "old", oldPort, broker, home);
        Process newGateway = gateway(jvm, newJar, "new", newPort, broker, home);
        try {
            String oldUrl = "http://127.0.0.1:" + oldPort;
            String newUrl = "http://127.0.0.1:" + newPort;
            for (String url : List.of("http://127.0.0.1:" + fleetGateway, oldUrl, newUrl)) {
                Processes.awaitOk(url + "/health");
            }
            for (int i = 0; i < warmup; i++) {
                Bench.call(oldUrl + "/v1/chat/completions", MODEL, false);
                Bench.call(newUrl + "/v1/chat/completions", MODEL, false);
                Bench.call(oldUrl + "/v1/chat/completions", MODEL, true);
                Bench.call(newUrl + "/v1/chat/completions", MODEL, true);
            }
            double[] oldWhole = new double[rounds];
            double[] newWhole = new double[rounds];
            double[] oldFirst = new double[rounds];
            double[] newFirst = new double[rounds];
            for (int i = 0; i < rounds; i++) {
                boolean oldFirstThisRound = i % 2 == 0;
                if (oldFirstThisRound) {
                    oldWhole[i] = Bench.call(oldUrl + "/v1/chat/completions", MODEL, false);
                    newWhole[i] = Bench.call(newUrl + "/v1/chat/completions", MODEL, false);
                    oldFirst[i] = Bench.call(oldUrl + "/v1/chat/completions", MODEL, true);
                    newFirst[i] = Bench.call(newUrl + "/v1/chat/completions", MODEL, true);
                } else {
                    newWhole[i] = Bench.call(newUrl + "/v1/chat/completions", MODEL, false);
                    oldWhole[i] = Bench.call(oldUrl + "/v1/chat/completions", MODEL, false);
                    newFirst[i] = Bench.call(newUrl + "/v1/chat/completions", MODEL, true);
                    oldFirst[i] = Bench.call(oldUrl + "/v1/chat/completions", MODEL, true);
                }
            }
            // Throughput: `clients` callers at once, as many requests as they can; the first run of each is warm-up.
            double[] oldModels = new double[runs];
            double[] newModels = new double[runs];
            double[] oldChat = new double[runs];
            double[] newChat = new double[runs];
            throughput(oldUrl, false, requests, clients);
            throughput(newUrl, false, requests, clients);
            throughput(oldUrl, true, requests, clients);
            throughput(newUrl, true, requests, clients);
            for (int r = 0; r < runs; r++) {
                oldModels[r] = throughput(oldUrl, false, requests, clients);
                newModels[r] = throughput(newUrl, false, requests, clients);
                oldChat[r] = throughput(oldUrl, true, requests, clients);
                newChat[r] = throughput(newUrl, true, requests, clients);
            }
            System.out.println("## The gateway's server: Jetty 12.1 (new) against spark 2.9.4 on Jetty 9.4 (old), one run");
            System.out.println();
            System.out.println("| measure | old p50 | new p50 | new/old p50 | old p99 | new p99 | new/old p99 |");
            System.out.println("|---|---|---|---|---|---|---|");
            latency("chat completion through the gateway, whole answer (ms)", oldWhole, newWhole);
            latency("chat completion through the gateway, first streamed token (ms)", oldFirst, newFirst);
            System.out.println();
            System.out.println("| throughput, " + clients + " callers at once, median of " + runs + " runs | old | new | new/old |");
            System.out.println("|---|---|---|---|");
            rate("GET /v1/models (the HTTP server alone), requests/s", oldModels, newModels);
            rate("POST /v1/chat/completions, max_tokens 16 (through broker and worker), requests/s", oldChat, newChat);
            System.out.printf(Locale.ROOT, "%nResident memory after the runs: old gateway %d MiB, new gateway %d MiB%n",
                    Processes.rssKiB(oldGateway.pid()) / 1024, Processes.rssKiB(newGateway.pid()) / 1024);
        } finally {
            for (Process p : List.of(oldGateway, newGateway, fleet, mosquitto)) {
                p.destroy();
            }
            for (Process p : List.of(oldGateway, newGateway, fleet, mosquitto)) {
                p.waitFor(20, TimeUnit.SECONDS);
            }
        }
    }

    private static Process gateway(List<String> jvm, Path jar, String id, int port, String broker, Path home) throws Exception {
        return Processes.start(concat(jvm, "-jar", jar.toString(), "gateway"),
                Map.of("AXFLEET_CONFIG", home.resolve("none.conf").toString(), "AXFLEET_BROKER_URL", broker,
                        "AXFLEET_GATEWAY_PORT", String.valueOf(port), "AXFLEET_GATEWAY_ID", "bench-" + id,
                        "AXFLEET_GATEWAY_MODELS", MODEL, "AXFLEET_GATEWAY_MAX_PENDING_PER_MODEL", "256",
                        "AXFLEET_GATEWAY_CONVERSATION_DIR", home.resolve("conversations-" + id).toString()),
                home.resolve("gateway-" + id + ".log"));
    }

    /** Requests per second that {@code clients} callers get through {@code base}, {@code n} requests in all. */
    private static double throughput(String base, boolean chat, int n, int clients) throws Exception {
        AtomicInteger left = new AtomicInteger(n);
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        long start = System.nanoTime();
        List<Future<?>> done = new ArrayList<>();
        for (int c = 0; c < clients; c++) {
            done.add(pool.submit(() -> {
                while (left.getAndDecrement() > 0) {
                    if (chat) {
                        Bench.call(base + "/v1/chat/completions", MODEL, false);
                    } else {
                        HttpResponse<String> r = Processes.HTTP.send(HttpRequest.newBuilder(URI.create(base + "/v1/models")).build(),
                                HttpResponse.BodyHandlers.ofString());
                        if (r.statusCode() != 200) {
                            throw new IllegalStateException("/v1/models answered " + r.statusCode());
                        }
                    }
                }
                return null;
            }));
        }
        for (Future<?> f : done) {
            f.get(10, TimeUnit.MINUTES);
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        pool.shutdown();
        return n / seconds;
    }

    private static void latency(String name, double[] old, double[] now) {
        double o50 = Bench.percentile(old, 50);
        double n50 = Bench.percentile(now, 50);
        double o99 = Bench.percentile(old, 99);
        double n99 = Bench.percentile(now, 99);
        System.out.printf(Locale.ROOT, "| %s | %.2f | %.2f | **%.2f×** | %.2f | %.2f | %.2f× |%n", name, o50, n50, n50 / o50, o99, n99, n99 / o99);
    }

    private static void rate(String name, double[] old, double[] now) {
        double o = median(old);
        double n = median(now);
        System.out.printf(Locale.ROOT, "| %s | %.0f | %.0f | **%.2f×** |%n", name, o, n, n / o);
    }

    private static double median(double[] values) {
        double[] v = values.clone();
        Arrays.sort(v);
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    private static List<String> concat(List<String> head, String... tail) {
        List<String> all = new ArrayList<>(head);
        all.addAll(List.of(tail));
        return all;
    }
}
