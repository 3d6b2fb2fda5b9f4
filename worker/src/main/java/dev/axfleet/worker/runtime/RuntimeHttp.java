package dev.axfleet.worker.runtime;

import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;

/**
 * One request to a runtime's HTTP server, its failures as the job loop reads them: no answer in time is STALLED (the
 * runtime may be hung), no listener or a broken connection UNAVAILABLE (restart it). What the answer means is the caller's.
 */
public final class RuntimeHttp {
    private RuntimeHttp() {
    }

    /**
     * @param runtime  the runtime's name in messages ({@code axllm serve}, {@code asr_server})
     * @param base     where it listens, for the message when nothing does
     * @param stalled  what did not happen in time, e.g. {@code "did not answer within PT30S"}
     */
    public static <T> HttpResponse<T> send(HttpClient http, HttpRequest request, HttpResponse.BodyHandler<T> body, String runtime, URI base,
                                           String stalled) throws EngineException {
        try {
            return http.send(request, body);
        } catch (HttpTimeoutException e) {
            throw new EngineException(EngineException.Kind.STALLED, runtime + " " + stalled, e);
        } catch (ConnectException e) {
            throw new EngineException(EngineException.Kind.UNAVAILABLE, runtime + " is not listening on " + base, e);
        } catch (IOException e) {
            throw new EngineException(EngineException.Kind.UNAVAILABLE, runtime + " connection failed: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new EngineException(EngineException.Kind.UNAVAILABLE, "interrupted", e);
        }
    }
}
