package dev.axfleet.broker.audio;

/** One channel of samples in [-1, 1] at {@code sampleRate}. */
public record Mono(float[] samples, int sampleRate) {
    public double seconds() {
        return samples.length / (double) sampleRate;
    }

    /** The same sound at {@code rate} ({@link Resampler}); itself when the rate is already that. */
    public Mono at(int rate) {
        return rate == sampleRate ? this : new Mono(Resampler.resample(samples, sampleRate, rate), rate);
    }
}
