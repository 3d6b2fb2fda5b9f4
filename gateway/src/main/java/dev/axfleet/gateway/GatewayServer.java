package dev.axfleet.gateway;

import jakarta.servlet.DispatcherType;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHandler;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.io.EofException;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.NetworkConnectionLimit;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.EagerContentHandler;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.component.AbstractLifeCycle;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.eclipse.jetty.util.thread.Scheduler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import spark.ExceptionMapper;
import spark.embeddedserver.EmbeddedServer;
import spark.embeddedserver.EmbeddedServerFactory;
import spark.embeddedserver.jetty.websocket.WebSocketHandlerWrapper;
import spark.http.matching.MatcherFilter;
import spark.route.Routes;
import spark.ssl.SslStores;
import spark.staticfiles.StaticFilesConfiguration;

/**
 * The gateway's own Jetty 12 server under the sparkjava API (spark's {@link EmbeddedServer}): the fork's default
 * server hides Jetty's {@code Server} and keeps idle connections for an hour. Here a misbehaving client (a
 * microcontroller on flaky Wi-Fi, a stuck script) cannot wedge the gateway:
 * <ul>
 *   <li>a connection has {@link HttpLimits#readTimeout} to deliver a whole request, headers and body, from when it
 *       opened or its last answer went out; then the server closes it ({@link ReadDeadlines});</li>
 *   <li>bodies (up to {@code gateway.max_body_bytes}) are read before a thread is given to the request
 *       ({@link EagerContentHandler}), so a stalled upload holds a connection, not a thread;</li>
 *   <li>connections are capped per client address (loopback exempt: every installation client on the Pi
 *       connects from it, {@link AddressLimit}) and in total ({@link NetworkConnectionLimit});</li>
 *   <li>routes run on a pool of their own ({@code gateway-api}, where requests wait for their jobs) and
 *       {@code /health} and {@code /metrics} on another ({@code gateway-status}), so neither hundreds of requests
 *       waiting for the queue nor Jetty's own I/O threads stand in their way.</li>
 * </ul>
 */
final class GatewayServer implements EmbeddedServer {
    private static final Logger log = LoggerFactory.getLogger(GatewayServer.class);
    /** Paths answered on the status threads: cheap reads of state that must answer under any load. */
    static final Set<String> STATUS_PATHS = Set.of("/health", "/metrics", dev.axfleet.gateway.page.FleetPage.STATE_PATH);

    /** Spark looks its embedded server up by identifier; each listener registers its own. */
    static EmbeddedServerFactory factory(HttpLimits limits, String name) {
        return new EmbeddedServerFactory() {
            @Override
            public EmbeddedServer create(Routes routes, StaticFilesConfiguration staticFiles, ExceptionMapper exceptions, boolean multiple) {
                MatcherFilter filter = new MatcherFilter(routes, staticFiles, exceptions, false, multiple);
                filter.init(null);
                return new GatewayServer(filter, limits, name);
            }
        };
    }

    private final MatcherFilter filter;
    private final HttpLimits limits;
    private final String name;
    private Server server;
    private QueuedThreadPool api;

    private GatewayServer(MatcherFilter filter, HttpLimits limits, String name) {
        this.filter = filter;
        this.limits = limits;
        this.name = name;
    }

    @Override
    public int ignite(String host, int port, boolean http2, SslStores ssl, int maxThreads, int minThreads, int threadIdleMs)
            throws Exception {
        if (http2 || ssl != null) {
            throw new IllegalArgumentException("the gateway serves plain HTTP/1.1; put a TLS proxy in front of it");
        }
        // Jetty's own threads only accept, read and write; nothing blocks on them.
        QueuedThreadPool io = new QueuedThreadPool(32, 4, 60_000);
        io.setName(name + "-io");
        server = new Server(io);
        api = new QueuedThreadPool(maxThreads, Math.min(minThreads, maxThreads), threadIdleMs);
        api.setName(name + "-api");
        QueuedThreadPool status = new QueuedThreadPool(4, 1, 60_000);
        status.setName(name + "-status");
        server.addBean(api);
        server.addBean(status);

        HttpConfiguration http = new HttpConfiguration();
        http.setSendServerVersion(false);
        http.setSendXPoweredBy(false);
        ServerConnector connector = new ServerConnector(server, new HttpConnectionFactory(http));
        connector.setHost(host);
        connector.setPort(port);
        connector.setIdleTimeout(limits.idleTimeout().toMillis());
        server.addConnector(connector);
        server.addBean(new NetworkConnectionLimit(limits.maxConnections(), connector));
        AddressLimit perAddress = new AddressLimit(limits.maxPerAddress(), limits.exempt());
        connector.addEventListener(perAddress);
        ReadDeadlines deadlines = new ReadDeadlines(limits.readTimeout(), server.getScheduler());
        connector.addEventListener(deadlines);
        server.addBean(deadlines);

        ServletContextHandler routes = new ServletContextHandler();
        routes.addFilter(filter, "/*", EnumSet.allOf(DispatcherType.class));
        // Mapped at /* so the servlet path is empty and getPathInfo() the whole path, as spark's routes expect (a
        // default servlet at / would leave it null). Spark answers every path itself; this servlet never runs.
        routes.addServlet(ServletHandler.Default404Servlet.class, "/*");
        Handler threads = new Threads(routes, api, status);
        // Bodies up to gateway.max_body_bytes are read whole before a thread is taken; larger ones (input images) are
        // read by their route, still within the read deadline, and one past the route's limit gets its 413.
        Handler eager = new EagerContentHandler(threads,
                new EagerContentHandler.RetainedContentLoaderFactory(limits.retainBodyBytes() + 1L, -1, false));
        server.setHandler(deadlines.new Watch(eager));
        server.start();
        return connector.getLocalPort();
    }

    @Override
    public void configureWebSockets(Map<String, WebSocketHandlerWrapper> handlers, java.util.Optional<Long> idleTimeoutMillis) {
        if (handlers != null && !handlers.isEmpty()) {
            throw new UnsupportedOperationException("the gateway serves no websockets");
        }
    }

    @Override
    public void join() throws InterruptedException {
        if (server != null) {
            server.join();
        }
    }

    @Override
    public void extinguish() {
        try {
            if (server != null) {
                server.stop();
            }
        } catch (Exception e) {
            log.warn("{}: stopping the HTTP server failed", name, e);
        }
    }

    @Override
    public int activeThreadCount() {
        return api == null ? 0 : api.getBusyThreads();
    }

    /** Hands each request, its body read, to the pool its path belongs to. */
    private static final class Threads extends Handler.Wrapper {
        private final QueuedThreadPool api;
        private final QueuedThreadPool status;

        Threads(Handler routes, QueuedThreadPool api, QueuedThreadPool status) {
            super(routes);
            this.api = api;
            this.status = status;
        }

        @Override
        public boolean handle(Request request, Response response, Callback callback) {
            if (!request.getConnectionMetaData().getConnection().getEndPoint().isOpen()) {
                // Closed while its body was read (the read deadline): nobody is left to answer.
                callback.failed(new EofException("closed before the request was read"));
                return true;
            }
            QueuedThreadPool pool = STATUS_PATHS.contains(Request.getPathInContext(request)) ? status : api;
            pool.execute(() -> {
                try {
                    if (!super.handle(request, response, callback)) {
                        Response.writeError(request, response, callback, 404);
                    }
                } catch (Throwable t) {
                    callback.failed(t);
                }
            });
            return true;
        }

        @Override
        public InvocationType getInvocationType() {
            return InvocationType.NON_BLOCKING;
        }
    }

    /**
     * The time each connection has to deliver a whole request: from when it opened, or its last answer went out,
     * until its body has been read. Deadlines are swept twice a second; a connection past its deadline is closed.
     */
    static final class ReadDeadlines extends AbstractLifeCycle implements Connection.Listener {
        private final Duration timeout;
        private final Scheduler scheduler;
        private final Map<Connection, Long> deadlines = new ConcurrentHashMap<>();
        private volatile Scheduler.Task sweep;

        ReadDeadlines(Duration timeout, Scheduler scheduler) {
            this.timeout = timeout;
            this.scheduler = scheduler;
        }

        @Override
        public void onOpened(Connection connection) {
            deadlines.put(connection, System.nanoTime() + timeout.toNanos());
        }

        @Override
        public void onClosed(Connection connection) {
            deadlines.remove(connection);
        }

        /**
         * The request as the handlers see it: the deadline ends once the last of its body has been read from the
         * network (at once when it has none), by the eager loader or by its route, so a request waiting for its job,
         * or for a thread, has no deadline.
         */
        Request untilRead(Request request) {
            Connection connection = request.getConnectionMetaData().getConnection();
            HttpFields headers = request.getHeaders();
            if (request.getLength() == 0 || !headers.contains(HttpHeader.CONTENT_LENGTH) && !headers.contains(HttpHeader.TRANSFER_ENCODING)) {
                deadlines.remove(connection);
                return request;
            }
            return new Request.Wrapper(request) {
                @Override
                public Content.Chunk read() {
                    Content.Chunk chunk = super.read();
                    if (chunk != null && chunk.isLast() && !Content.Chunk.isFailure(chunk)) {
                        deadlines.remove(connection);
                    }
                    return chunk;
                }
            };
        }

        /** Its answer went out: the next request on a kept-alive connection has its own time. */
        void answered(Connection connection) {
            if (connection.getEndPoint().isOpen()) {
                deadlines.put(connection, System.nanoTime() + timeout.toNanos());
            }
        }

        @Override
        protected void doStart() {
            schedule();
        }

        @Override
        protected void doStop() {
            Scheduler.Task t = sweep;
            if (t != null) {
                t.cancel();
            }
        }

        private void schedule() {
            if (isRunning() || isStarting()) {
                sweep = scheduler.schedule(this::sweep, 500, TimeUnit.MILLISECONDS);
            }
        }

        /** Closes the connections past their deadline, with one log line per sweep that closed any. */
        private void sweep() {
            long now = System.nanoTime();
            Map<InetAddress, Integer> closed = new java.util.TreeMap<>(java.util.Comparator.comparing(InetAddress::getHostAddress));
            deadlines.forEach((connection, deadline) -> {
                if (now - deadline > 0 && deadlines.remove(connection, deadline)) {
                    InetAddress from = address(connection.getEndPoint().getRemoteSocketAddress());
                    connection.getEndPoint().close();
                    if (from != null) {
                        closed.merge(from, 1, Integer::sum);
                    }
                }
            });
            if (!closed.isEmpty()) {
                log.info("closed connections that sent no whole request within {} (gateway.read_timeout): {}", timeout, closed);
            }
            schedule();
        }

        /** Watches each request from its headers to its answer. */
        final class Watch extends Handler.Wrapper {
            Watch(Handler next) {
                super(next);
            }

            @Override
            public boolean handle(Request request, Response response, Callback callback) throws Exception {
                Connection connection = request.getConnectionMetaData().getConnection();
                return super.handle(untilRead(request), response, new Callback() {
                    // The next deadline is set before Jetty may parse a pipelined request, which clears it.
                    @Override
                    public void succeeded() {
                        answered(connection);
                        callback.succeeded();
                    }

                    @Override
                    public void failed(Throwable x) {
                        answered(connection);
                        callback.failed(x);
                    }

                    @Override
                    public InvocationType getInvocationType() {
                        return callback.getInvocationType();
                    }
                });
            }
        }
    }

    /**
     * Caps the connections one client address holds; connections beyond the cap are closed as they open, and the
     * address is logged once each time it reaches the cap.
     */
    static final class AddressLimit implements Connection.Listener {
        private final int max;
        private final Predicate<InetAddress> exempt;
        private final Map<InetAddress, AtomicInteger> open = new ConcurrentHashMap<>();
        private final Map<Connection, InetAddress> counted = new ConcurrentHashMap<>();
        private final Set<InetAddress> told = ConcurrentHashMap.newKeySet();

        AddressLimit(int max, Predicate<InetAddress> exempt) {
            this.max = max;
            this.exempt = exempt;
        }

        @Override
        public void onOpened(Connection connection) {
            InetAddress address = address(connection.getEndPoint().getRemoteSocketAddress());
            if (address == null || exempt.test(address)) {
                return;
            }
            counted.put(connection, address);
            int n = open.computeIfAbsent(address, a -> new AtomicInteger()).incrementAndGet();
            if (n > max) {
                if (told.add(address)) {
                    log.warn("{} holds {} connections (gateway.max_connections_per_address): closing its new ones", address, max);
                }
                connection.getEndPoint().close();
            }
        }

        @Override
        public void onClosed(Connection connection) {
            InetAddress address = counted.remove(connection);
            if (address != null) {
                open.computeIfPresent(address, (a, n) -> n.decrementAndGet() <= 0 ? null : n);
                AtomicInteger n = open.get(address);
                if (n == null || n.get() < max) {
                    told.remove(address);
                }
            }
        }
    }

    private static InetAddress address(SocketAddress socket) {
        return socket instanceof InetSocketAddress inet ? inet.getAddress() : null;
    }
}
