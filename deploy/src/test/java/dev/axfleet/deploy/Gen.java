package dev.axfleet.deploy;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * A generator of test values from a seeded random source: the same seed gives the same values, so a failure is
 * reproduced by its seed and try ({@link Tries}). Small on purpose: what FuzzTest needs, nothing more.
 */
@FunctionalInterface
interface Gen<T> {
    T next(SplittableRandom random);

    default <R> Gen<R> map(Function<? super T, ? extends R> f) {
        return r -> f.apply(next(r));
    }

    default <R> Gen<R> flatMap(Function<? super T, Gen<R>> f) {
        return r -> f.apply(next(r)).next(r);
    }

    /** Null with probability {@code p}, else a value of this generator. */
    default Gen<T> orNull(double p) {
        return r -> r.nextDouble() < p ? null : next(r);
    }

    /** Lists of 0 to {@code max} values. */
    default Gen<List<T>> list(int max) {
        return r -> {
            int n = r.nextInt(max + 1);
            List<T> out = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                out.add(next(r));
            }
            return out;
        };
    }

    static <T> Gen<T> just(T value) {
        return r -> value;
    }

    @SafeVarargs
    static <T> Gen<T> of(T... values) {
        return of(List.of(values));
    }

    static <T> Gen<T> of(List<T> values) {
        return r -> values.get(r.nextInt(values.size()));
    }

    @SafeVarargs
    static <T> Gen<T> oneOf(Gen<? extends T>... gens) {
        return r -> gens[r.nextInt(gens.length)].next(r);
    }

    /** A generator chosen by weight: {@code weighted(6, a, 2, b)} picks {@code a} three times as often as {@code b}. */
    @SuppressWarnings("unchecked")
    static <T> Gen<T> weighted(Object... weightsAndGens) {
        int total = 0;
        for (int i = 0; i < weightsAndGens.length; i += 2) {
            total += (Integer) weightsAndGens[i];
        }
        int sum = total;
        return r -> {
            int pick = r.nextInt(sum);
            for (int i = 0; i < weightsAndGens.length; i += 2) {
                pick -= (Integer) weightsAndGens[i];
                if (pick < 0) {
                    return ((Gen<T>) weightsAndGens[i + 1]).next(r);
                }
            }
            throw new IllegalStateException();
        };
    }

    /** Maps of 0 to {@code max} entries (fewer when keys repeat). */
    static <K, V> Gen<Map<K, V>> maps(Gen<K> keys, Gen<V> values, int max) {
        return r -> {
            int n = r.nextInt(max + 1);
            Map<K, V> out = new LinkedHashMap<>();
            for (int i = 0; i < n; i++) {
                out.put(keys.next(r), values.next(r));
            }
            return out;
        };
    }

    /** Any int, edge cases (0, ±1, the extremes) one time in five. */
    static Gen<Integer> ints() {
        Gen<Integer> edge = of(0, 1, -1, 2, -2, Integer.MAX_VALUE, Integer.MIN_VALUE, Integer.MAX_VALUE - 1, Integer.MIN_VALUE + 1);
        return r -> r.nextInt(5) == 0 ? edge.next(r) : r.nextInt(3) == 0 ? r.nextInt(-1000, 1001) : r.nextInt();
    }

    /** Any long, edge cases one time in five. */
    static Gen<Long> longs() {
        Gen<Long> edge = of(0L, 1L, -1L, Long.MAX_VALUE, Long.MIN_VALUE, (long) Integer.MAX_VALUE + 1, (long) Integer.MIN_VALUE - 1);
        return r -> r.nextInt(5) == 0 ? edge.next(r) : r.nextLong();
    }

    /** Any finite double, edge cases one time in five. */
    static Gen<Double> doubles() {
        Gen<Double> edge = of(0.0, -0.0, 1.0, -1.0, 0.5, 2.0, Double.MIN_VALUE, -Double.MIN_VALUE, Double.MAX_VALUE, -Double.MAX_VALUE);
        return r -> switch (r.nextInt(5)) {
            case 0 -> edge.next(r);
            case 1 -> r.nextDouble(-10, 10);
            case 2 -> r.nextDouble(-1e6, 1e6);
            default -> {
                double d = Double.longBitsToDouble(r.nextLong());
                yield Double.isFinite(d) ? d : r.nextDouble();
            }
        };
    }

    /**
     * Strings of 0 to {@code max} code points: mostly printable ASCII, with JSON's own syntax, control characters,
     * accented and CJK letters and characters beyond the BMP (surrogate pairs) mixed in; any valid code point
     * now and then.
     */
    static Gen<String> strings(int max) {
        Gen<Integer> codePoint = weighted(
                10, (Gen<Integer>) r -> r.nextInt(0x20, 0x7f),
                3, of((int) '"', (int) '\\', (int) '{', (int) '}', (int) '[', (int) ']', (int) ':', (int) ',', (int) '/'),
                2, (Gen<Integer>) r -> r.nextInt(0, 0x20),
                2, (Gen<Integer>) r -> r.nextInt(0xa0, 0x800),
                1, (Gen<Integer>) r -> r.nextInt(0x4e00, 0x9fff),
                1, (Gen<Integer>) r -> r.nextInt(0x1f300, 0x1faff),
                1, (Gen<Integer>) r -> {
                    int c;
                    do {
                        c = r.nextInt(0, Character.MAX_CODE_POINT + 1);
                    } while (c >= Character.MIN_SURROGATE && c <= Character.MAX_SURROGATE);
                    return c;
                });
        return r -> {
            int n = r.nextInt(max + 1);
            StringBuilder sb = new StringBuilder(n);
            for (int i = 0; i < n; i++) {
                sb.appendCodePoint(codePoint.next(r));
            }
            return sb.toString();
        };
    }

    /** A generator built when first asked, for recursive ones. */
    static <T> Gen<T> lazy(Supplier<Gen<T>> make) {
        return r -> make.get().next(r);
    }
}
