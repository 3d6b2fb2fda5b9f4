package dev.axfleet.broker.image;

import dev.axfleet.broker.WireName;

/**
 * How an img2img input of another size or aspect is brought to the render size, numbered as AUTOMATIC1111's
 * {@code resize_mode}: 0 stretch, 1 crop (fill, centre), 2 pad (fit, centre).
 */
public enum ResizeMode implements WireName {
    STRETCH, CROP, PAD;

    public static ResizeMode ofNumber(int n) {
        return values()[n];
    }
}
