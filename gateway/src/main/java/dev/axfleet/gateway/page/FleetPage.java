package dev.axfleet.gateway.page;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.axfleet.broker.CardHealth;
import dev.axfleet.broker.Kind;
import dev.axfleet.broker.WorkerState;
import dev.axfleet.config.BuildInfo;
import dev.axfleet.gateway.Json;
import dev.axfleet.gateway.ModelRegistry;
import dev.axfleet.gateway.bus.Bus;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import spark.Response;
import spark.Service;

/**
 * The page a browser gets at {@code /} (docs/page.md): plain HTML, CSS and JavaScript from the jar (no build step, no
 * CDN: the Pi may be offline), fed by {@code GET /fleet}, a JSON view of what the gateway already knows (its model
 * registry, the workers' and cards' retained states, the jobs its bus watch saw). Other clients keep Ollama's
 * {@code /}: the page's route only takes requests that ask for {@code text/html}, registered after Ollama's so a
 * request with no {@code Accept} still gets "Ollama is running".
 *
 * <p>The playground is one panel per kind of work, each a module {@code /page/kinds/<kind>.js} the page imports
 * when a model of that kind is listed and the listener serves it: a new kind adds one file.
 */
public final class FleetPage {
    /** The page's data; needs the API key when one is set, as the APIs do. */
    public static final String STATE_PATH = "/fleet";
    static final String ASSETS = "/page/";
    private static final String RESOURCES = "/dev/axfleet/gateway/page/ui/";
    private static final Pattern FILE = Pattern.compile("[a-z0-9][a-z0-9-]{0,40}\\.(html|js|css|svg)");
    private static final Map<String, String> TYPES = Map.of(
            "html", "text/html; charset=utf-8", "js", "text/javascript; charset=utf-8",
            "css", "text/css; charset=utf-8", "svg", "image/svg+xml");
    /** Same origin only, no inline script: what a page holding an API key in localStorage should allow. */
    static final String POLICY = "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; style-src 'self'; script-src 'self'; "
            + "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

    private final ModelRegistry registry;
    private final Bus client;
    private final JobLog jobs;
    private final CardHistory history;
    private final boolean keyRequired;
    private final Map<String, byte[]> cache = new ConcurrentHashMap<>();

    public FleetPage(ModelRegistry registry, Bus client, JobLog jobs, CardHistory history, boolean keyRequired) {
        this.registry = registry;
        this.client = client;
        this.jobs = jobs;
        this.history = history;
        this.keyRequired = keyRequired;
    }

    /**
     * The page on one listener, whose playground offers the kinds it serves ({@code served}): the gateway's port serves
     * all, the Ollama port chat and embeddings, the image ports images.
     */
    public void register(Service http, Set<Kind> served) {
        Set<Kind> kinds = served.isEmpty() ? EnumSet.noneOf(Kind.class) : EnumSet.copyOf(served);
        http.get("/", "text/html", (req, res) -> asset(res, "index.html"));
        http.get(ASSETS + ":file", (req, res) -> asset(res, req.params(":file")));
        http.get(ASSETS + "kinds/:file", (req, res) -> asset(res, "kinds/" + req.params(":file")));
        http.get(STATE_PATH, (req, res) -> state(res, kinds));
    }

    private Object asset(Response res, String name) {
        String file = name.startsWith("kinds/") ? name.substring("kinds/".length()) : name;
        byte[] body = FILE.matcher(file).matches() ? load(name) : null;
        if (body == null) {
            JsonObject o = new JsonObject();
            o.addProperty("error", "no file " + ASSETS + name);
            return Json.respond(res, 404, o, Map.of());
        }
        res.type(TYPES.get(file.substring(file.lastIndexOf('.') + 1)));
        res.raw().setContentLength(body.length);
        // Revalidated each time: an upgraded gateway serves its own page at once.
        res.header("Cache-Control", "no-cache");
        res.header("X-Content-Type-Options", "nosniff");
        if (file.endsWith(".html")) {
            res.header("Content-Security-Policy", POLICY);
            res.header("Referrer-Policy", "no-referrer");
        }
        return body;
    }

    /** A file of the page, read once; a name that is not there is not remembered (any name may be asked for). */
    private byte[] load(String name) {
        byte[] cached = cache.get(name);
        if (cached != null) {
            return cached;
        }
        try (InputStream in = FleetPage.class.getResourceAsStream(RESOURCES + name)) {
            if (in == null) {
                return null;
            }
            byte[] body = in.readAllBytes();
            cache.put(name, body);
            return body;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private Object state(Response res, Set<Kind> served) {
        res.header("Cache-Control", "no-store");
        return Json.respond(res, view(served));
    }

    /** What {@code GET /fleet} answers (docs/page.md). */
    JsonObject view(Set<Kind> served) {
        JsonObject o = new JsonObject();
        o.addProperty("version", BuildInfo.current().version());
        o.addProperty("broker", client.connected() ? "connected" : "disconnected");
        o.addProperty("api_key", keyRequired);
        JsonArray servedKinds = new JsonArray();
        served.forEach(k -> servedKinds.add(k.wire()));
        o.add("served", servedKinds);
        boolean emulated = false;
        JsonArray models = new JsonArray();
        for (Map.Entry<String, List<WorkerState>> e : registry.workersByModel().entrySet()) {
            String model = e.getKey();
            emulated |= registry.emulated(model);
            JsonObject m = new JsonObject();
            m.addProperty("name", model);
            JsonArray kinds = new JsonArray();
            registry.kinds(model).forEach(k -> kinds.add(k.wire()));
            m.add("kinds", kinds);
            m.addProperty("ready", registry.ready(model));
            m.addProperty("emulated", registry.emulated(model));
            m.addProperty("pending", client.pending(model));
            JsonArray workers = new JsonArray();
            for (WorkerState w : e.getValue()) {
                JsonObject wo = new JsonObject();
                wo.addProperty("worker", w.worker());
                wo.addProperty("phase", w.phase().wire());
                wo.addProperty("queued", w.queued());
                wo.addProperty("jobs_done", w.jobsDone());
                wo.addProperty("jobs_failed", w.jobsFailed());
                if (w.held() != null) {
                    wo.addProperty("held", w.held());
                }
                if (w.card() != null) {
                    wo.addProperty("card", w.card().toString());
                }
                if (w.lastError() != null) {
                    wo.addProperty("last_error", w.lastError());
                }
                workers.add(wo);
            }
            m.add("workers", workers);
            models.add(m);
        }
        o.addProperty("emulated", emulated);
        o.add("models", models);
        JsonArray cards = new JsonArray();
        for (CardHealth h : registry.cards().values()) {
            JsonObject c = new JsonObject();
            c.addProperty("card", h.card().toString());
            c.addProperty("state", h.state().wire());
            c.addProperty("fresh", registry.freshCard(h.card()).isPresent());
            c.addProperty("emulated", h.emulated());
            putReadings(c, new CardHistory.Sample(h.at(), h.state().wire(), h.readings().temperatureC(), h.readings().cmmUsedMiB(),
                    h.readings().cmmTotalMiB(), h.readings().cpuPercent(), h.readings().npuPercent()));
            if (h.detail() != null) {
                c.addProperty("detail", h.detail());
            }
            if (h.needsPerson() != null) {
                c.addProperty("needs_person", h.needsPerson());
            }
            JsonArray samples = new JsonArray();
            for (CardHistory.Sample s : history.of(h.card().toString())) {
                JsonObject so = new JsonObject();
                putReadings(so, s);
                samples.add(so);
            }
            c.add("history", samples);
            cards.add(c);
        }
        o.add("cards", cards);
        JsonArray running = new JsonArray();
        for (JobLog.Running r : jobs.running()) {
            JsonObject j = new JsonObject();
            j.addProperty("id", r.id());
            j.addProperty("model", r.model());
            j.addProperty("worker", r.worker());
            j.addProperty("state", r.state().wire());
            j.addProperty("since", r.since().toEpochMilli());
            if (r.step() != null) {
                j.addProperty("step", r.step());
                j.addProperty("steps", r.steps());
            }
            running.add(j);
        }
        o.add("running", running);
        JsonArray last = new JsonArray();
        for (JobLog.Finished f : jobs.finished()) {
            JsonObject j = new JsonObject();
            j.addProperty("id", f.id());
            j.addProperty("model", f.model());
            j.addProperty("worker", f.worker());
            j.addProperty("outcome", f.outcome());
            j.addProperty("wait_ms", f.waitMs());
            j.addProperty("run_ms", f.runMs());
            j.addProperty("at", f.at().toEpochMilli());
            last.add(j);
        }
        o.add("jobs", last);
        return o;
    }

    private static void putReadings(JsonObject o, CardHistory.Sample s) {
        if (s.at() != null) {
            o.addProperty("at", s.at().toEpochMilli());
        }
        o.addProperty("temperature_c", s.temperatureC());
        o.addProperty("cmm_used_mib", s.cmmUsedMiB());
        o.addProperty("cmm_total_mib", s.cmmTotalMiB());
        o.addProperty("cpu_percent", s.cpuPercent());
        o.addProperty("npu_percent", s.npuPercent());
    }
}
