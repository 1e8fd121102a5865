package org.edgeocr.core;

/**
 * DB detector input, as {@code edgeocr/det_preprocess.py} (PaddleOCR 2.7.3 {@code DetResizeForTest} +
 * {@code NormalizeImage} + {@code ToCHWImage}): resize so the limited side fits, both sides rounded half to
 * even to a multiple of 32, {@code (x * float32(1/255) - mean) / std} per channel in float32, NCHW.
 */
public final class DetPreprocess {
    /** The DB network downsamples by 32: both input sides must be multiples of this. */
    public static final int DET_STRIDE = 32;
    /**
     * Largest detector input accepted (pixels), as {@code DET_MAX_INPUT_PIXELS} in edgeocr/det_preprocess.py:
     * beyond it the DB activations exhaust a phone's memory (limit_type "min" on a long, thin image).
     */
    public static final long DET_MAX_INPUT_PIXELS = 4096L * 4096L;

    private DetPreprocess() {
    }

    /** Target {height, width} for an {@code h x w} image. */
    public static int[] resizeHw(int h, int w, Manifest.DetParams p) {
        int limit = p.limitSideLen;
        double ratio;
        if ("max".equals(p.limitType)) {
            ratio = Math.max(h, w) > limit ? (double) limit / (h > w ? h : w) : 1.0;
        } else {
            ratio = Math.min(h, w) < limit ? (double) limit / (h < w ? h : w) : 1.0;
        }
        int rh = (int) (h * ratio);
        int rw = (int) (w * ratio);
        rh = Math.max((int) (Math.rint(rh / (double) DET_STRIDE) * DET_STRIDE), DET_STRIDE);
        rw = Math.max((int) (Math.rint(rw / (double) DET_STRIDE) * DET_STRIDE), DET_STRIDE);
        return new int[] {rh, rw};
    }

    /** {@code [1, 3, H', W']} float32 input of the detector for a BGR image. */
    public static Tensor preprocess(BgrImage img, Manifest.DetParams p) throws OcrException {
        BgrImage src = img;
        if (img.height + img.width < 2 * DET_STRIDE) {
            // DetResizeForTest.image_padding: zero-pad bottom/right to at least 32x32
            int ph = Math.max(DET_STRIDE, img.height);
            int pw = Math.max(DET_STRIDE, img.width);
            byte[] d = new byte[ph * pw * 3];
            for (int y = 0; y < img.height; y++) {
                System.arraycopy(img.data, y * img.width * 3, d, y * pw * 3, img.width * 3);
            }
            src = new BgrImage(pw, ph, d);
        }
        int[] hw = resizeHw(src.height, src.width, p);
        int rh = hw[0];
        int rw = hw[1];
        if ((long) rh * rw > DET_MAX_INPUT_PIXELS) {
            throw new OcrException("a " + src.width + "x" + src.height + " image with det limit_type=" + p.limitType
                    + " limit_side_len=" + p.limitSideLen + " needs a " + rw + "x" + rh + " detector input, over the cap of "
                    + (DET_MAX_INPUT_PIXELS / 1e6) + " Mpx");
        }
        byte[] resized = CvResize.resizeLinear(src.data, src.width, src.height, 3, rw, rh);
        boolean rgb = "RGB".equals(p.colorOrder);
        float[][] lut = normalizeLut(p.mean, p.std);
        float[] out = new float[3 * rh * rw];
        int plane = rh * rw;
        for (int i = 0; i < plane; i++) {
            for (int c = 0; c < 3; c++) {
                int srcC = rgb ? 2 - c : c;
                out[c * plane + i] = lut[c][resized[3 * i + srcC] & 0xff];
            }
        }
        return new Tensor(out, new long[] {1, 3, rh, rw});
    }

    /** Per channel, per uint8 value: the float32 operations of {@code NormalizeImage}. */
    static float[][] normalizeLut(float[] mean, float[] std) {
        float scale = (float) (1.0 / 255.0);
        float[][] lut = new float[3][256];
        for (int c = 0; c < 3; c++) {
            for (int v = 0; v < 256; v++) {
                float x = (float) v;
                x *= scale;
                x -= mean[c];
                x /= std[c];
                lut[c][v] = x;
            }
        }
        return lut;
    }
}
