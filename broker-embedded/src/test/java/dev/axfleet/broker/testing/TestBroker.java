package dev.axfleet.broker.testing;

import dev.axfleet.broker.BrokerAddress;
import dev.axfleet.broker.embedded.EmbeddedBroker;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real MQTT broker for tests, on a free loopback port: HiveMQ CE in this JVM, or a Mosquitto child
 * process when the binary is installed (see {@link TestTools} for when it is not).
 */
public abstract class TestBroker implements AutoCloseable {

    public abstract BrokerAddress address();

    public abstract String name();

    /** Stops the broker and starts it again on the same port, keeping what it persisted. */
    public abstract void restart();

    @Override
    public abstract void close();

    @Override
    public String toString() {
        return name();
    }

    public static TestBroker embedded(Path dir) {
        return new Embedded(dir);
    }

    /** A Mosquitto broker, or a skipped test when the binary is absent (a failure when it is required). */
    public static TestBroker mosquitto(Path dir) {
        Path binary = List.of(Path.of("/usr/sbin/mosquitto"), Path.of("/usr/bin/mosquitto"), Path.of("/usr/local/sbin/mosquitto"))
                .stream().filter(Files::isExecutable).findFirst().orElse(null);
        TestTools.require("mosquitto", "apt-get install mosquitto", binary != null);
        return new Mosquitto(binary, dir);
    }

    public static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static void awaitPort(int port, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            try (Socket ignored = new Socket(InetAddress.getLoopbackAddress(), port)) {
                return;
            } catch (IOException e) {
                sleep(20);
            }
        }
        throw new IllegalStateException("nothing listens on 127.0.0.1:" + port + " after " + timeout);
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static final class Embedded extends TestBroker {
        private final Path dir;
        private final int port = freePort();
        private EmbeddedBroker broker;

        Embedded(Path dir) {
            this.dir = dir;
            this.broker = EmbeddedBroker.start("127.0.0.1", port, dir, true);
        }

        @Override
        public BrokerAddress address() {
            return broker.address();
        }

        @Override
        public String name() {
            return "embedded HiveMQ CE";
        }

        @Override
        public void restart() {
            broker.close();
            broker = EmbeddedBroker.start("127.0.0.1", port, dir, true);
        }

        @Override
        public void close() {
            broker.close();
        }
    }

    private static final class Mosquitto extends TestBroker {
        private final Path binary;
        private final Path config;
        private final Path log;
        private final int port = freePort();
        private Process process;

        Mosquitto(Path binary, Path dir) {
            this.binary = binary;
            try {
                Files.createDirectories(dir);
                this.config = dir.resolve("mosquitto.conf");
                this.log = dir.resolve("mosquitto.log");
                // The tuning of deploy/mosquitto/axfleet.conf, on a test port, without its ACL files.
                Files.writeString(config, String.join("\n",
                        "listener " + port + " 127.0.0.1",
                        "allow_anonymous true",
                        // Started as root, Mosquitto drops to user "mosquitto", which cannot write its database here.
                        "user " + System.getProperty("user.name"),
                        "persistence true",
                        "persistence_location " + dir.toAbsolutePath() + "/",
                        "autosave_interval 1",
                        "set_tcp_nodelay true",
                        "max_queued_messages 100000",
                        "max_inflight_messages 20",
                        "log_dest stderr",
                        "log_type error",
                        "log_type warning",
                        ""));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            start();
        }

        private void start() {
            try {
                process = new ProcessBuilder(binary.toString(), "-c", config.toString())
                        .redirectErrorStream(true)
                        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                        .start();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            awaitPort(port, Duration.ofSeconds(10));
        }

        @Override
        public BrokerAddress address() {
            return BrokerAddress.loopback(port);
        }

        @Override
        public String name() {
            return "Mosquitto";
        }

        @Override
        public void restart() {
            stop();
            start();
        }

        private void stop() {
            process.destroy();
            try {
                if (!process.waitFor(10, TimeUnit.SECONDS)) {
                    process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        @Override
        public void close() {
            stop();
        }
    }
}
