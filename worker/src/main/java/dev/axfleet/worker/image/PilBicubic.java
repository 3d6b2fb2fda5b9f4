package dev.axfleet.worker.image;

/**
 * Pillow's bicubic resize of 8-bit RGB, ported so CLIP sees the pixels the manufacturer's service gives it: the service
 * preprocesses with Hugging Face's {@code CLIPProcessor} (gregm123456/sd1.5-lcm.axera@a54a04d
 * pi_axera_sd_service/pi_axera_sd_generator.py:98, :163), which resizes with {@code PIL.Image.resize(size, BICUBIC,
 * reducing_gap=None)}. Pillow (src/libImaging/Resample.c) filters with the bicubic kernel (a = -0.5) widened by the
 * downscale factor, so a large photo is averaged, not sampled: horizontal pass, then vertical, each with coefficients
 * normalised to 22-bit fixed point and each result rounded and clipped to 8 bits. A single Java2D bicubic draw samples
 * only a 4 × 4 neighbourhood and aliases photos much larger than the output.
 */
public final class PilBicubic {
    private static final int PRECISION_BITS = 32 - 8 - 2;
    private static final double SUPPORT = 2.0;

    private PilBicubic() {
    }

    private static double filter(double x) {
        double a = -0.5;
        x = Math.abs(x);
        if (x < 1.0) {
            return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
        }
        if (x < 2.0) {
            return (((x - 5) * x + 8) * x - 4) * a;
        }
        return 0.0;
    }

    /** Pillow's {@code precompute_coeffs} and {@code normalize_coeffs_8bpc}: per output pixel, its first input and weights. */
    private record Coeffs(int ksize, int[] bounds, int[] kk) {
        static Coeffs of(int inSize, int outSize) {
            double scale = (double) inSize / outSize;
            double filterscale = Math.max(1.0, scale);
            double support = SUPPORT * filterscale;
            int ksize = (int) Math.ceil(support) * 2 + 1;
            int[] bounds = new int[outSize * 2];
            int[] kk = new int[outSize * ksize];
            double[] k = new double[ksize];
            for (int xx = 0; xx < outSize; xx++) {
                double center = (xx + 0.5) * scale;
                double ss = 1.0 / filterscale;
                int xmin = (int) (center - support + 0.5); // C's truncation toward zero
                if (xmin < 0) {
                    xmin = 0;
                }
                int xmax = (int) (center + support + 0.5);
                if (xmax > inSize) {
                    xmax = inSize;
                }
                xmax -= xmin;
                double ww = 0.0;
                for (int x = 0; x < xmax; x++) {
                    double w = filter((x + xmin - center + 0.5) * ss);
                    k[x] = w;
                    ww += w;
                }
                for (int x = 0; x < ksize; x++) {
                    double v = x < xmax ? (ww != 0.0 ? k[x] / ww : k[x]) : 0.0;
                    kk[xx * ksize + x] = v < 0 ? (int) (-0.5 + v * (1 << PRECISION_BITS)) : (int) (0.5 + v * (1 << PRECISION_BITS));
                }
                bounds[xx * 2] = xmin;
                bounds[xx * 2 + 1] = xmax;
            }
            return new Coeffs(ksize, bounds, kk);
        }
    }

    private static int clip8(int in) {
        int v = in >> PRECISION_BITS;
        return v < 0 ? 0 : Math.min(v, 255);
    }

    /**
     * {@code rgb} ({@code w} × {@code h}, packed 0xRRGGBB) resized to {@code outW} × {@code outH} as Pillow's
     * {@code Image.resize((outW, outH), Image.BICUBIC)} does (the same size: a copy).
     */
    public static int[] resize(int[] rgb, int w, int h, int outW, int outH) {
        if (outW == w && outH == h) {
            return rgb.clone();
        }
        boolean horizontal = outW != w;
        boolean vertical = outH != h;
        Coeffs ch = Coeffs.of(w, outW);
        Coeffs cv = Coeffs.of(h, outH);
        int[] in = rgb;
        int inW = w;
        int[] vBounds = cv.bounds().clone();
        if (horizontal) {
            // Only the rows the vertical pass reads (ImagingResampleInner's ybox).
            int first = vBounds[0];
            int last = vBounds[outH * 2 - 2] + vBounds[outH * 2 - 1];
            if (vertical) {
                for (int i = 0; i < outH; i++) {
                    vBounds[i * 2] -= first;
                }
            } else {
                first = 0;
                last = h;
            }
            int[] tmp = new int[outW * (last - first)];
            for (int yy = 0; yy < last - first; yy++) {
                int row = (yy + first) * w;
                for (int xx = 0; xx < outW; xx++) {
                    int xmin = ch.bounds()[xx * 2];
                    int xmax = ch.bounds()[xx * 2 + 1];
                    int base = xx * ch.ksize();
                    int s0 = 1 << (PRECISION_BITS - 1);
                    int s1 = s0;
                    int s2 = s0;
                    for (int x = 0; x < xmax; x++) {
                        int p = rgb[row + x + xmin];
                        int k = ch.kk()[base + x];
                        s0 += ((p >> 16) & 0xFF) * k;
                        s1 += ((p >> 8) & 0xFF) * k;
                        s2 += (p & 0xFF) * k;
                    }
                    tmp[yy * outW + xx] = clip8(s0) << 16 | clip8(s1) << 8 | clip8(s2);
                }
            }
            in = tmp;
            inW = outW;
        }
        if (!vertical) {
            return in;
        }
        int[] out = new int[outW * outH];
        for (int yy = 0; yy < outH; yy++) {
            int ymin = vBounds[yy * 2];
            int ymax = vBounds[yy * 2 + 1];
            int base = yy * cv.ksize();
            for (int xx = 0; xx < outW; xx++) {
                int s0 = 1 << (PRECISION_BITS - 1);
                int s1 = s0;
                int s2 = s0;
                for (int y = 0; y < ymax; y++) {
                    int p = in[(y + ymin) * inW + xx];
                    int k = cv.kk()[base + y];
                    s0 += ((p >> 16) & 0xFF) * k;
                    s1 += ((p >> 8) & 0xFF) * k;
                    s2 += (p & 0xFF) * k;
                }
                out[yy * outW + xx] = clip8(s0) << 16 | clip8(s1) << 8 | clip8(s2);
            }
        }
        return out;
    }
}
