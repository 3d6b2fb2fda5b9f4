package dev.axfleet.broker.audio;

/**
 * Band-limited resampling by a Kaiser-windowed sinc (beta 8, {@value #ZERO_CROSSINGS} zero crossings each side of the
 * lower rate's Nyquist frequency, cut off at 95 % of it): what libsamplerate and sox do, at a quality well past what
 * speech recognition or a loudspeaker on a microcontroller can tell apart. The kernel is tabulated once and interpolated.
 */
public final class Resampler {
    static final int ZERO_CROSSINGS = 12;
    private static final int STEPS = 512;
    private static final double CUTOFF = 0.95;
    private static final float[] KERNEL = kernel();

    private Resampler() {
    }

    private static float[] kernel() {
        float[] k = new float[ZERO_CROSSINGS * STEPS + 2];
        double beta = 8.0;
        double i0Beta = besselI0(beta);
        for (int i = 0; i < k.length; i++) {
            double u = i / (double) STEPS;
            double sinc = u == 0 ? 1 : Math.sin(Math.PI * u) / (Math.PI * u);
            double r = u / ZERO_CROSSINGS;
            double window = r >= 1 ? 0 : besselI0(beta * Math.sqrt(1 - r * r)) / i0Beta;
            k[i] = (float) (sinc * window);
        }
        return k;
    }

    private static double besselI0(double x) {
        double sum = 1;
        double term = 1;
        for (int k = 1; k < 50; k++) {
            term *= (x / (2 * k)) * (x / (2 * k));
            sum += term;
            if (term < 1e-12 * sum) {
                break;
            }
        }
        return sum;
    }

    /** {@code in} sampled at {@code from} Hz, sampled again at {@code to} Hz. */
    public static float[] resample(float[] in, int from, int to) {
        if (from == to) {
            return in.clone();
        }
        double ratio = to / (double) from;
        double fc = Math.min(1.0, ratio) * CUTOFF;
        double halfWidth = ZERO_CROSSINGS / fc;
        int outLength = (int) Math.floor(in.length * ratio);
        float[] out = new float[outLength];
        double scale = fc * STEPS;
        for (int n = 0; n < outLength; n++) {
            double t = n / ratio;
            int first = Math.max(0, (int) Math.ceil(t - halfWidth));
            int last = Math.min(in.length - 1, (int) Math.floor(t + halfWidth));
            double sum = 0;
            for (int k = first; k <= last; k++) {
                double pos = Math.abs(t - k) * scale;
                int i = (int) pos;
                if (i >= KERNEL.length - 1) {
                    continue;
                }
                double frac = pos - i;
                sum += in[k] * (KERNEL[i] + (KERNEL[i + 1] - KERNEL[i]) * frac);
            }
            out[n] = (float) (sum * fc);
        }
        return out;
    }
}
