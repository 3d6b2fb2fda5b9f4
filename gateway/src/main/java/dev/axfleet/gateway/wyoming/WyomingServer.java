package dev.axfleet.gateway.wyoming;

import dev.axfleet.gateway.JobRunner;
import dev.axfleet.gateway.ModelRegistry;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Home Assistant's voice protocol (Wyoming, OHF-Voice/wyoming@22f8dea) on one TCP port: the card's transcription and
 * speech models as Wyoming's {@code asr} and {@code tts} programs, so Assist uses the card with no other software. A
 * connection is a {@link Session} on a thread of its own, at most {@code gateway.wyoming_max_connections} at once; each
 * request is a job on the bus, as any device's. Nothing is authenticated (the protocol has no way to), so it listens on
 * loopback unless configured, and beyond it only with {@code gateway.wyoming_allow_network=true} and a warning.
 */
public final class WyomingServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(WyomingServer.class);
    /** How long a closing connection reads what its peer still sends, so the error event reaches it before the close. */
    private static final long LINGER_MS = 2_000;

    private final ServerSocket socket;
    private final JobRunner runner;
    private final ModelRegistry registry;
    private final WyomingConfig config;
    private final Semaphore slots;
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private final AtomicInteger counter = new AtomicInteger();
    private final ExecutorService threads = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "wyoming-" + counter.incrementAndGet());
        t.setDaemon(true);
        return t;
    });
    private volatile boolean closed;

    private WyomingServer(ServerSocket socket, JobRunner runner, ModelRegistry registry, WyomingConfig config) {
        this.socket = socket;
        this.runner = runner;
        this.registry = registry;
        this.config = config;
        this.slots = new Semaphore(config.maxConnections());
    }

    /**
     * Starts listening, or refuses: an address beyond loopback without {@code gateway.wyoming_allow_network} is an
     * IllegalStateException (the gateway does not start), a port another program holds an IOException (the gateway logs it
     * and serves on without Wyoming).
     */
    public static WyomingServer start(WyomingConfig config, JobRunner runner, ModelRegistry registry) throws IOException {
        refuseUnsafe(config);
        ServerSocket s = new ServerSocket();
        s.setReuseAddress(true);
        try {
            s.bind(new InetSocketAddress(InetAddress.getByName(config.bind()), config.port()), 50);
        } catch (IOException e) {
            s.close();
            throw e;
        }
        WyomingServer server = new WyomingServer(s, runner, registry, config);
        Thread accept = new Thread(server::accept, "wyoming-accept");
        accept.setDaemon(true);
        accept.start();
        if (!config.loopbackOnly()) {
            log.warn("Wyoming listens on {}:{} WITHOUT AUTHENTICATION (gateway.wyoming_allow_network=true): anyone who reaches this port may "
                    + "use the card's transcription and speech models; limit it with a firewall to Home Assistant's host", config.bind(), server.port());
        }
        log.info("Wyoming (Home Assistant's voice protocol) on tcp://{}:{}: speech to text and text to speech through the queue",
                config.bind(), server.port());
        return server;
    }

    /** An address beyond loopback without {@code gateway.wyoming_allow_network=true}: the gateway must not start. */
    public static void refuseUnsafe(WyomingConfig config) {
        if (config.enabled() && !config.loopbackOnly() && !config.allowNetwork()) {
            throw new IllegalStateException("gateway.wyoming_bind=" + config.bind() + " reaches beyond this machine, and Wyoming has no "
                    + "authentication: set gateway.wyoming_allow_network=true to let anyone who reaches port " + config.port()
                    + " use the card's speech models (Home Assistant on another host needs it), or bind to 127.0.0.1");
        }
    }

    public int port() {
        return socket.getLocalPort();
    }

    private void accept() {
        while (!closed) {
            Socket c;
            try {
                c = socket.accept();
            } catch (IOException e) {
                if (!closed) {
                    log.warn("wyoming: accept failed: {}", e.toString());
                    pause();
                }
                continue;
            }
            if (!slots.tryAcquire()) {
                refuse(c);
                continue;
            }
            open.add(c);
            threads.execute(() -> {
                try {
                    serve(c);
                } finally {
                    open.remove(c);
                    slots.release();
                }
            });
        }
    }

    /** One connection too many: told so and closed at once, on the accepting thread (a flood gets no threads). */
    private void refuse(Socket c) {
        try (c) {
            Session s = new Session(runner, registry, c.getInputStream(), new BufferedOutputStream(c.getOutputStream()), peer(c));
            log.warn("wyoming {}: refused, {} connections are open (gateway.wyoming_max_connections)", peer(c), config.maxConnections());
            s.error("busy", "this server holds " + config.maxConnections() + " connections already (gateway.wyoming_max_connections); try again");
            c.shutdownOutput();
        } catch (IOException ignored) {
            // Gone already.
        }
    }

    private static void pause() {
        try {
            Thread.sleep(100);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void serve(Socket c) {
        String peer = peer(c);
        try (c) {
            c.setTcpNoDelay(true);
            c.setSoTimeout((int) Math.max(1, config.idleTimeout().toMillis()));
            Session s = new Session(runner, registry, new BufferedInputStream(c.getInputStream()), new BufferedOutputStream(c.getOutputStream()), peer);
            try {
                s.run();
            } catch (Event.BadEvent e) {
                log.info("wyoming {}: {} ({}); the connection is closed", peer, e.getMessage(), e.code());
                s.error(e.code(), e.getMessage());
                linger(c);
            } catch (SocketTimeoutException e) {
                log.info("wyoming {}: nothing for {}; the connection is closed", peer, config.idleTimeout());
                s.error("timeout", "nothing arrived for " + config.idleTimeout().toSeconds() + " s (gateway.wyoming_idle_timeout)");
                linger(c);
            }
        } catch (IOException e) {
            log.debug("wyoming {}: {}", peer, e.toString());
        } catch (RuntimeException e) {
            log.warn("wyoming {}: {}", peer, e.toString(), e);
        }
    }

    /**
     * Sends the end of the stream and reads what the peer still sends for a moment (bounded in bytes and time), so the
     * error event is not lost to a reset: closing with unread bytes makes the TCP stack send one.
     */
    private static void linger(Socket c) {
        try {
            c.shutdownOutput();
            c.setSoTimeout(200);
            InputStream in = c.getInputStream();
            byte[] sink = new byte[8192];
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(LINGER_MS);
            long left = 4L << 20;
            while (System.nanoTime() < deadline && left > 0) {
                try {
                    int n = in.read(sink);
                    if (n < 0) {
                        return;
                    }
                    left -= n;
                } catch (SocketTimeoutException e) {
                    // Nothing for now; look again until the deadline.
                }
            }
        } catch (IOException ignored) {
            // Gone: nothing to wait for.
        }
    }

    private static String peer(Socket c) {
        return c.getRemoteSocketAddress() == null ? "?" : c.getRemoteSocketAddress().toString().replaceFirst("^/", "");
    }

    @Override
    public void close() {
        closed = true;
        try {
            socket.close();
        } catch (IOException ignored) {
            // Closing anyway.
        }
        for (Socket c : open) {
            try {
                c.close();
            } catch (IOException ignored) {
                // Closing anyway.
            }
        }
        threads.shutdownNow();
    }
}
