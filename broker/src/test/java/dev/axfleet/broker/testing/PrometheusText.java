package dev.axfleet.broker.testing;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A {@code /metrics} answer as Prometheus' own parser reads it (the official Python client's
 * {@code text_string_to_metric_families}, Debian's python3-prometheus-client): a malformed exposition fails here,
 * as a scrape would.
 */
public final class PrometheusText {
    private static final Path PYTHON = Path.of("/usr/bin/python3");

    /** One sample: {@code name{labels} value}. */
    public record Sample(String name, Map<String, String> labels, double value) {
    }

    /** One metric family: the name Prometheus gives it (no {@code _total}, {@code _bucket} suffix), its type and samples. */
    public record Family(String name, String type, List<Sample> samples) {
    }

    private final Map<String, Family> families;

    private PrometheusText(Map<String, Family> families) {
        this.families = families;
    }

    /** Parses {@code text}; skips the test (fails it under AXFLEET_REQUIRE_TOOLS=1) without the parser. */
    public static PrometheusText parse(String text) {
        TestTools.require("Prometheus' text parser (python3-prometheus-client)", "apt-get install python3-prometheus-client",
                available());
        try {
            Path script = Files.createTempFile("parse_metrics", ".py");
            try (InputStream in = PrometheusText.class.getResourceAsStream("parse_metrics.py")) {
                Files.write(script, in.readAllBytes());
            }
            Process p = new ProcessBuilder(PYTHON.toString(), script.toString()).start();
            p.getOutputStream().write(text.getBytes(StandardCharsets.UTF_8));
            p.getOutputStream().close();
            byte[] out = p.getInputStream().readAllBytes();
            String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new AssertionError("Prometheus' parser refused the exposition: " + err + "\n" + text);
            }
            Files.deleteIfExists(script);
            Map<String, Family> families = new LinkedHashMap<>();
            for (JsonElement e : JsonParser.parseString(new String(out, StandardCharsets.UTF_8)).getAsJsonArray()) {
                JsonObject f = e.getAsJsonObject();
                List<Sample> samples = f.getAsJsonArray("samples").asList().stream().map(JsonElement::getAsJsonObject).map(s -> {
                    Map<String, String> labels = new LinkedHashMap<>();
                    s.getAsJsonObject("labels").entrySet().forEach(l -> labels.put(l.getKey(), l.getValue().getAsString()));
                    return new Sample(s.get("name").getAsString(), labels, s.get("value").getAsDouble());
                }).toList();
                families.put(f.get("name").getAsString(), new Family(f.get("name").getAsString(), f.get("type").getAsString(), samples));
            }
            return new PrometheusText(families);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static boolean available() {
        try {
            return Files.isExecutable(PYTHON)
                    && new ProcessBuilder(PYTHON.toString(), "-c", "import prometheus_client.parser").start().waitFor() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    public Map<String, Family> families() {
        return families;
    }

    /** The family a sample name belongs to ({@code x_bucket}, {@code x_total}, ... belong to {@code x}), or null. */
    public Family familyOf(String sampleName) {
        for (Family f : families.values()) {
            if (f.samples().stream().anyMatch(s -> s.name().equals(sampleName)) || f.name().equals(sampleName)) {
                return f;
            }
        }
        return null;
    }

    /** Samples named {@code name} whose labels include {@code labels}. */
    public List<Sample> samples(String name, Map<String, String> labels) {
        return families.values().stream().flatMap(f -> f.samples().stream())
                .filter(s -> s.name().equals(name) && s.labels().entrySet().containsAll(labels.entrySet())).toList();
    }

    /** The sum of those samples' values (0 when there are none). */
    public double sum(String name, Map<String, String> labels) {
        return samples(name, labels).stream().mapToDouble(Sample::value).sum();
    }
}
