package dev.axfleet.worker.image;

/**
 * The LCM scheduler of SD1.5-LCM as the manufacturer's pipeline runs it (../shared/axera.md §4.3;
 * AXERA-TECH/sd1.5-lcm.axera run_txt2img_axe_infer.py): 1000 training steps with betas
 * {@code linspace(sqrt(0.00085), sqrt(0.012), 1000)^2}, four steps at t = 999, 759, 499, 259 (their time
 * embeddings are baked into {@code time_input_txt2img.npy}), no classifier-free guidance. Each step turns the
 * UNet's noise prediction into the denoised latent {@code c_out * x0 + c_skip * x} and, except on the last step,
 * noises it again to the next timestep.
 */
public final class LcmScheduler {
    public static final int[] TIMESTEPS = {999, 759, 499, 259};
    private static final double SIGMA_DATA = 0.5;
    private static final double TIMESTEP_SCALING = 10.0;
    private final double[] alphasCumprod = new double[1000];

    public LcmScheduler() {
        double lo = Math.sqrt(0.00085);
        double hi = Math.sqrt(0.012);
        double prod = 1;
        for (int i = 0; i < 1000; i++) {
            double sqrtBeta = lo + (hi - lo) * i / 999.0;
            prod *= 1 - sqrtBeta * sqrtBeta;
            alphasCumprod[i] = prod;
        }
    }

    public double alphaCumprod(int t) {
        return alphasCumprod[t];
    }

    public static double cSkip(int t) {
        double s = t * TIMESTEP_SCALING;
        return SIGMA_DATA * SIGMA_DATA / (s * s + SIGMA_DATA * SIGMA_DATA);
    }

    public static double cOut(int t) {
        double s = t * TIMESTEP_SCALING;
        return s / Math.sqrt(s * s + SIGMA_DATA * SIGMA_DATA);
    }

    /**
     * How many of the four steps an img2img job runs for its {@code denoising_strength}, as the installations'
     * current server maps it (gregm123456/sd1.5-lcm.axera pi_axera_sd_generator.py; axera.md §4.3).
     */
    public static int stepsFor(double strength) {
        return strength <= 0.35 ? 1 : strength <= 0.60 ? 2 : strength <= 0.85 ? 3 : 4;
    }

    /**
     * One step: {@code x} is the latent at {@code TIMESTEPS[i]}, {@code eps} the UNet's noise prediction; returns the
     * latent for the next step (noised with {@code noise} to {@code TIMESTEPS[i + 1]}), or the final denoised latent.
     */
    public float[] step(int i, float[] x, float[] eps, java.util.function.IntToDoubleFunction noise) {
        int t = TIMESTEPS[i];
        double a = alphasCumprod[t];
        double sqrtA = Math.sqrt(a);
        double sqrt1A = Math.sqrt(1 - a);
        double cSkip = cSkip(t);
        double cOut = cOut(t);
        boolean last = i == TIMESTEPS.length - 1;
        double aNext = last ? 0 : alphasCumprod[TIMESTEPS[i + 1]];
        float[] out = new float[x.length];
        for (int k = 0; k < x.length; k++) {
            double x0 = (x[k] - sqrt1A * eps[k]) / sqrtA;
            double denoised = cOut * x0 + cSkip * x[k];
            out[k] = (float) (last ? denoised : Math.sqrt(aNext) * denoised + Math.sqrt(1 - aNext) * noise.applyAsDouble(k));
        }
        return out;
    }

    /** A clean latent noised to {@code TIMESTEPS[i]}: the start of an img2img run. */
    public float[] noiseTo(int i, float[] latent, java.util.function.IntToDoubleFunction noise) {
        double a = alphasCumprod[TIMESTEPS[i]];
        float[] out = new float[latent.length];
        for (int k = 0; k < latent.length; k++) {
            out[k] = (float) (Math.sqrt(a) * latent[k] + Math.sqrt(1 - a) * noise.applyAsDouble(k));
        }
        return out;
    }
}
