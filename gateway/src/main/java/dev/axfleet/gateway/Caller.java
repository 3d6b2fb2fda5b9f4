package dev.axfleet.gateway;

import java.io.IOException;
import java.nio.ByteBuffer;
import org.eclipse.jetty.ee10.servlet.ServletContextRequest;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.server.internal.HttpConnection;
import org.eclipse.jetty.util.BufferUtil;

/**
 * The HTTP client of a request that waits for a job, and whether it still does. A client that gave up (the
 * kiosk's 30 s timeout, a closed tab) closes its connection; on HTTP/1 Jetty 12 learns of it only when it next
 * reads or writes (jetty#10916), and it does neither while a request is handled. So this reads: end of stream
 * means the client has gone, and whatever else arrives (a pipelined request) is handed to the connection's own
 * request buffer ({@code onUpgradeTo} appends to it), where Jetty parses it as the next request once this one is
 * answered, so keep-alive and pipelining keep working.
 *
 * <p>Only the thread handling the request may ask, and only once the request's body has been read (the runner
 * asks while the job waits): Jetty reads from no other thread then. A client that half-closes its sending side
 * after the request counts as gone; none of the installations' clients does.
 */
public final class Caller {
    /** A request not served by Jetty's HTTP/1.1 connection: never taken for gone. */
    private static final Caller NONE = new Caller(null, null);

    private final EndPoint endPoint;
    private final HttpConnection connection;

    private Caller(EndPoint endPoint, HttpConnection connection) {
        this.endPoint = endPoint;
        this.connection = connection;
    }

    public static Caller of(spark.Request req) {
        ServletContextRequest base = ServletContextRequest.getServletContextRequest(req.raw());
        if (base == null || !(base.getConnectionMetaData().getConnection() instanceof HttpConnection c)) {
            return NONE;
        }
        return new Caller(c.getEndPoint(), c);
    }

    /** Whether the client closed its connection; a client still connected is never disturbed. */
    public boolean gone() {
        if (endPoint == null) {
            return false;
        }
        if (!endPoint.isOpen() || endPoint.isInputShutdown()) {
            return true;
        }
        ByteBuffer early = BufferUtil.allocate(4096);
        try {
            int filled = endPoint.fill(early);
            if (filled > 0) {
                connection.onUpgradeTo(early);
            }
            return filled < 0;
        } catch (IOException e) {
            return true;
        }
    }
}
