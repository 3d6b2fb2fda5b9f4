package dev.axfleet.deploy.doctor;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The unverified items of docs/hardware.md ("Unverified on hardware": {@code **U7 — title.**} and the steps after it), as
 * the report lists them. The file ships inside the jar (deploy/pom.xml copies it), so the report names every item the
 * documentation of this very build has. An item that doctor cannot check says so in its text, {@code No doctor check:}
 * and the reason; every other item needs a {@link Check} (HardwareItemsTest fails the build otherwise).
 */
public final class HardwareItems {
    static final String RESOURCE = "hardware.md";
    private static final Pattern HEAD = Pattern.compile("(?m)^\\*\\*(U\\d+) — (.+?)\\*\\*");
    private static final Pattern NO_CHECK = Pattern.compile("No doctor check: ([^\\n*]+)");

    /**
     * One unverified item.
     *
     * @param noCheck why doctor does not check it, or null when a check must
     */
    public record Item(String id, String title, String noCheck) {
    }

    private HardwareItems() {
    }

    /** The items of the docs/hardware.md this build carries. */
    public static List<Item> bundled() {
        try (InputStream in = HardwareItems.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("docs/hardware.md is not inside this build (" + RESOURCE + " next to HardwareItems)");
            }
            return parse(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The U-items of a docs/hardware.md text, in the file's order. */
    public static List<Item> parse(String markdown) {
        List<Item> out = new ArrayList<>();
        Matcher m = HEAD.matcher(markdown);
        List<int[]> spans = new ArrayList<>();
        List<String[]> heads = new ArrayList<>();
        while (m.find()) {
            spans.add(new int[] {m.start(), m.end()});
            heads.add(new String[] {m.group(1), m.group(2).strip().replaceAll("\\.$", "")});
        }
        for (int i = 0; i < spans.size(); i++) {
            int end = i + 1 < spans.size() ? spans.get(i + 1)[0] : nextHeading(markdown, spans.get(i)[1]);
            String body = markdown.substring(spans.get(i)[1], end);
            Matcher no = NO_CHECK.matcher(body);
            out.add(new Item(heads.get(i)[0], heads.get(i)[1], no.find() ? no.group(1).strip() : null));
        }
        return out;
    }

    private static int nextHeading(String markdown, int from) {
        int h = markdown.indexOf("\n#", from);
        return h < 0 ? markdown.length() : h;
    }
}
