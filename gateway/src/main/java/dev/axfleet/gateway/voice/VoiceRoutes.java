package dev.axfleet.gateway.voice;

import com.google.gson.JsonObject;
import dev.axfleet.broker.FieldException;
import dev.axfleet.broker.JsonFields;
import dev.axfleet.broker.WireCodec;
import dev.axfleet.broker.audio.Wav;
import dev.axfleet.broker.voice.VoiceCodec;
import dev.axfleet.broker.voice.VoiceParams;
import dev.axfleet.gateway.ApiException;
import dev.axfleet.gateway.Bodies;
import dev.axfleet.gateway.Caller;
import dev.axfleet.gateway.Json;
import dev.axfleet.gateway.ModelRegistry;
import dev.axfleet.gateway.RequestLog;
import dev.axfleet.gateway.openai.OpenAiFacade;
import jakarta.servlet.http.HttpServletResponse;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import spark.Request;
import spark.Response;
import spark.Service;

/**
 * {@code POST /v1/voice/turns}: one request carrying the visitor's audio and a conversation id, answered with the
 * transcript, the answer's text and the answer's speech ({@link VoiceTurns}). Streamed by default as NDJSON, one event a
 * line as the turn produces it — the same JSON a device gets over MQTT (docs/protocol.md "Voice turns"): {@code
 * transcript}, {@code delta}s, {@code audio} pieces (base64 16-bit mono PCM at {@code response_sample_rate}), one
 * {@code result}. With {@code "stream": false}, one JSON object when the turn is over, its speech a WAV. A turn that
 * cannot start (a field, a model) gets a 4xx in OpenAI's error shape; one that fails later ends its stream with a
 * {@code result} whose outcome is {@code error}.
 */
public final class VoiceRoutes {
    private static final Logger log = LoggerFactory.getLogger(VoiceRoutes.class);

    private final VoiceTurns turns;
    private final ModelRegistry registry;

    public VoiceRoutes(VoiceTurns turns, ModelRegistry registry) {
        this.turns = turns;
        this.registry = registry;
    }

    public void register(Service http) {
        http.post("/v1/voice/turns", this::turn);
    }

    private Object turn(Request req, Response res) {
        VoiceParams p;
        boolean stream;
        long heardAt;
        try {
            JsonObject body = Bodies.json(req, VoiceCodec.MAX_REQUEST_BYTES, "a voice turn's largest body");
            heardAt = System.nanoTime(); // the visitor's audio has all arrived
            JsonFields f = JsonFields.of(body);
            Boolean s = f.optBool("stream");
            stream = s == null || s;
            p = VoiceCodec.readParams(f);
        } catch (FieldException e) {
            return refused(req, res, ApiException.badRequest(e.field(), e.getMessage()));
        } catch (ApiException e) {
            return refused(req, res, e);
        }
        String id = WireCodec.newJobId();
        RequestLog.of(req).job(id, "voice");
        Caller caller = Caller.of(req);
        if (!stream) {
            return whole(req, res, id, p, heardAt, caller);
        }
        Lines out = new Lines(res.raw(), emulated());
        try {
            turns.run(id, p, heardAt, new VoiceTurns.Events() {
                @Override
                public void event(JsonObject event) throws IOException {
                    out.line(event);
                }

                @Override
                public boolean gone() {
                    return caller.gone();
                }
            });
            return "";
        } catch (ApiException e) {
            if (!out.started()) {
                return refused(req, res, e);
            }
            log.info("voice turn={} failed after its first event: {}", id, e.getMessage());
            return "";
        }
    }

    /** The turn answered whole: transcript, text and the speech as a WAV file. */
    private Object whole(Request req, Response res, String id, VoiceParams p, long heardAt, Caller caller) {
        ByteArrayOutputStream pcm = new ByteArrayOutputStream();
        try {
            VoiceTurns.Ended ended = turns.run(id, p, heardAt, new VoiceTurns.Events() {
                @Override
                public void event(JsonObject event) {
                    if (event.get("type").getAsString().equals("audio")) {
                        pcm.writeBytes(Base64.getDecoder().decode(event.get("audio").getAsString()));
                    }
                }

                @Override
                public boolean gone() {
                    return caller.gone();
                }
            });
            if (ended.failure() != null) {
                return refused(req, res, ended.failure());
            }
            JsonObject o = ended.result().deepCopy();
            o.remove("type");
            o.remove("v");
            o.addProperty("format", "wav");
            o.addProperty("audio", Base64.getEncoder().encodeToString(Wav.withHeader(pcm.toByteArray(), p.sampleRate())));
            if (emulated()) {
                res.header("X-Axfleet-Emulated", "true: no AX650 card; the transcript and answer are labelled stand-ins, the speech tone bursts");
            }
            return Json.respond(res, o);
        } catch (ApiException e) {
            return refused(req, res, e);
        }
    }

    private boolean emulated() {
        return registry.models().stream().anyMatch(registry::emulated);
    }

    private static String refused(Request req, Response res, ApiException e) {
        log.info("{} {} refused: {} {}", req.requestMethod(), req.pathInfo(), e.status(), e.getMessage());
        return OpenAiFacade.error(res, e);
    }

    /** The NDJSON body, committed at its first line so that a refusal before any event still gets its status. */
    private static final class Lines {
        private final HttpServletResponse raw;
        private final boolean emulated;
        private OutputStream out;

        Lines(HttpServletResponse raw, boolean emulated) {
            this.raw = raw;
            this.emulated = emulated;
        }

        synchronized boolean started() {
            return out != null;
        }

        synchronized void line(JsonObject event) throws IOException {
            if (out == null) {
                raw.setStatus(200);
                raw.setContentType("application/x-ndjson");
                raw.setHeader("Cache-Control", "no-cache");
                raw.setHeader("X-Accel-Buffering", "no");
                if (emulated) {
                    raw.setHeader("X-Axfleet-Emulated", "true: no AX650 card; the transcript and answer are labelled stand-ins, the speech tone bursts");
                }
                out = raw.getOutputStream();
            }
            out.write((event.toString() + "\n").getBytes(StandardCharsets.UTF_8));
            out.flush();
        }
    }
}
