package dev.axfleet.deploy.doctor;

/**
 * What one check found about the items it settles.
 *
 * @param text for {@link Kind#VERIFIED} what matched, for {@link Kind#DIFFERS} what was seen instead, for {@link Kind#OBSERVED}
 *             the figure recorded, for {@link Kind#SKIPPED} why it did not run
 */
public record Verdict(Kind kind, String text) {
    /** The four answers a check gives (issue 24, item 2). */
    public enum Kind {
        /** The card does what axfleet assumes. */
        VERIFIED,
        /** The card does something else: the text says what was seen. */
        DIFFERS,
        /** A figure with no expected value (a load time, a unit), recorded for us. */
        OBSERVED,
        /** Not run: the text says why. */
        SKIPPED;

        public String word() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    public static Verdict verified(String what) {
        return new Verdict(Kind.VERIFIED, what);
    }

    public static Verdict differs(String seen) {
        return new Verdict(Kind.DIFFERS, seen);
    }

    public static Verdict observed(String figure) {
        return new Verdict(Kind.OBSERVED, figure);
    }

    public static Verdict skipped(String why) {
        return new Verdict(Kind.SKIPPED, why);
    }

    /** A check that cannot run here says why by throwing this; the verdict is skipped. */
    public static final class Skip extends Exception {
        public Skip(String why) {
            super(why);
        }
    }
}
