package dev.axfleet.deploy;

import java.util.SplittableRandom;
import java.util.stream.IntStream;
import java.util.stream.Stream;

/**
 * Seeded tries of a {@link Gen}: try {@code i} of a run draws from a random source made of the run's seed, the
 * check's name and {@code i} alone, so any one value is made again from those three. The seed is new each run
 * (printed) unless {@code -Dfuzz.seed=S} fixes it; {@code -Dfuzz.try=I} with it replays one try.
 */
final class Tries {
    static final long SEED = Long.getLong("fuzz.seed", new SplittableRandom().nextLong());
    private static final Integer ONLY = Integer.getInteger("fuzz.try");

    private Tries() {
    }

    @FunctionalInterface
    interface Check<T> {
        void accept(T value) throws Exception;
    }

    /** Runs {@code check} on {@code tries} values; the first failure is rethrown naming the seed, the try and the value. */
    static <T> void run(String name, int tries, Gen<T> gen, Check<T> check) throws Exception {
        System.out.println(name + ": " + tries + " tries, seed " + SEED + " (replay: -Dfuzz.seed=" + SEED + " [-Dfuzz.try=N])");
        for (int i = 0; i < tries; i++) {
            if (ONLY != null && ONLY != i) {
                continue;
            }
            T value = gen.next(random(name, i));
            try {
                check.accept(value);
            } catch (Exception | AssertionError e) {
                throw new AssertionError(name + " failed at try " + i + " of seed " + SEED + " (-Dfuzz.seed=" + SEED + " -Dfuzz.try=" + i
                        + ") on: " + value, e);
            }
        }
    }

    /** {@code n} values, as {@link #run} would draw them. */
    static <T> Stream<T> sample(String name, int n, Gen<T> gen) {
        System.out.println(name + ": " + n + " values, seed " + SEED + " (replay: -Dfuzz.seed=" + SEED + ")");
        return IntStream.range(0, n).mapToObj(i -> gen.next(random(name, i)));
    }

    /**
     * How many tries the JSON routes and the job topic get in a build (each valid body is a job); the full run by hand
     * is {@code -Dfuzz.tries=10000} (docs/reliability.md).
     */
    static int tries() {
        return Integer.getInteger("fuzz.tries", 5_000);
    }

    /** How many tries the image routes get: each valid body runs a whole emulated image. */
    static int imageTries() {
        return Integer.getInteger("fuzz.image_tries", 1_000);
    }

    private static SplittableRandom random(String name, int i) {
        long h = SEED;
        h = h * 0x9E3779B97F4A7C15L + name.hashCode();
        h = h * 0x9E3779B97F4A7C15L + i;
        return new SplittableRandom(h);
    }
}
