package dev.axfleet.worker.image;

import dev.axfleet.axcl.AxclError;

/** A libaxcl_rt call that returned an error code, named with the call and the code in words. */
public final class AxclException extends RuntimeException {
    private final int code;

    public AxclException(String call, int code) {
        super(call + ": " + AxclError.describe(code));
        this.code = code;
    }

    public AxclException(String message) {
        super(message);
        this.code = 0;
    }

    public int code() {
        return code;
    }

    static void check(String call, int code) {
        if (code != 0) {
            throw new AxclException(call, code);
        }
    }
}
