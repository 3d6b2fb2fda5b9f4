package dev.axfleet.gateway;

import java.io.IOException;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.server.HttpConnection;
import org.eclipse.jetty.server.Request;

/**
 * The HTTP client of a request that waits for a job, and whether it still does. A client that gave up (the
 * kiosk's 30 s timeout, a closed tab) closes its connection; Jetty learns of it only when it next reads, and it
 * does not read while a request is handled. So this reads: whatever arrives goes into the connection's own
 * request buffer, where Jetty parses it as the next request once this one is answered (keep-alive and
 * pipelining keep working), and end of stream means the client has gone.
 *
 * <p>Only the thread handling the request may ask: Jetty reads from no other thread while it runs. A client
 * that half-closes its sending side after the request counts as gone; none of the installations' clients does.
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
        Request base = Request.getBaseRequest(req.raw());
        if (base == null || base.getHttpChannel() == null) {
            return NONE;
        }
        EndPoint endPoint = base.getHttpChannel().getEndPoint();
        return endPoint.getConnection() instanceof HttpConnection c ? new Caller(endPoint, c) : NONE;
    }

    /** Whether the client closed its connection; a client still connected is never disturbed. */
    public boolean gone() {
        if (endPoint == null) {
            return false;
        }
        if (!endPoint.isOpen() || endPoint.isInputShutdown()) {
            return true;
        }
        try {
            return endPoint.fill(connection.getRequestBuffer()) < 0;
        } catch (IOException e) {
            return true;
        }
    }
}
