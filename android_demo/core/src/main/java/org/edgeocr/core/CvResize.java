package org.edgeocr.core;

/**
 * {@code cv2.resize(img, (dw, dh))} (INTER_LINEAR) for 8-bit images, bit-exact with OpenCV 4.10.
 *
 * <p>Why a port and not "any bilinear": the Python runtime resizes with OpenCV's fixed-point
 * arithmetic (11-bit coefficients, a horizontal pass into ints, then a vertical pass that drops 4 bits
 * before a 16-bit multiply), and a difference of one grey level in the det input can move a DB box edge
 * or flip a recognized character. This reproduces {@code resizeGeneric_} with {@code HResizeLinear} and
 * the {@code VResizeLinear<uchar, int, short, FixedPtCast>} specialisation (resize.cpp) step by step.
 */
public final class CvResize {
    private static final int COEF_BITS = 11;
    private static final int COEF_SCALE = 1 << COEF_BITS; // INTER_RESIZE_COEF_SCALE

    private CvResize() {
    }

    /**
     * Resize an interleaved 8-bit image of {@code cn} channels from {@code sw x sh} to {@code dw x dh}.
     */
    public static byte[] resizeLinear(byte[] src, int sw, int sh, int cn, int dw, int dh) {
        if (sw <= 0 || sh <= 0 || dw <= 0 || dh <= 0) {
            throw new IllegalArgumentException("resize: empty size " + sw + "x" + sh + " -> " + dw + "x" + dh);
        }
        byte[] dst = new byte[dw * dh * cn];
        if (sw == dw && sh == dh) { // cv::resize copies when the size does not change
            System.arraycopy(src, 0, dst, 0, dst.length);
            return dst;
        }
        double invScaleX = (double) dw / sw;
        double invScaleY = (double) dh / sh;
        double scaleX = 1.0 / invScaleX;
        double scaleY = 1.0 / invScaleY;

        int[] xofs = new int[dw];
        int[] alpha = new int[dw * 2];
        int xmax = dw;
        for (int dx = 0; dx < dw; dx++) {
            float fx = (float) ((dx + 0.5) * scaleX - 0.5);
            int sx = (int) Math.floor(fx);
            fx -= sx;
            if (sx < 0) {
                fx = 0;
                sx = 0;
            }
            if (sx + 1 >= sw) {
                xmax = Math.min(xmax, dx);
                if (sx >= sw - 1) {
                    fx = 0;
                    sx = sw - 1;
                }
            }
            xofs[dx] = sx;
            alpha[dx * 2] = roundShort((1.f - fx) * COEF_SCALE);
            alpha[dx * 2 + 1] = roundShort(fx * COEF_SCALE);
        }
        int[] yofs = new int[dh];
        int[] beta = new int[dh * 2];
        for (int dy = 0; dy < dh; dy++) {
            float fy = (float) ((dy + 0.5) * scaleY - 0.5);
            int sy = (int) Math.floor(fy);
            fy -= sy;
            yofs[dy] = sy;
            beta[dy * 2] = roundShort((1.f - fy) * COEF_SCALE);
            beta[dy * 2 + 1] = roundShort(fy * COEF_SCALE);
        }

        int rowLen = dw * cn;
        int[][] rows = {new int[rowLen], new int[rowLen]};
        int[] rowSy = {-1, -1};
        for (int dy = 0; dy < dh; dy++) {
            int sy0 = clip(yofs[dy], sh);
            int sy1 = clip(yofs[dy] + 1, sh);
            int i0 = rowSy[0] == sy0 ? 0 : (rowSy[1] == sy0 ? 1 : -1);
            if (i0 < 0) {
                i0 = rowSy[0] == sy1 ? 1 : 0;
                hresize(src, sw, cn, sy0, xofs, alpha, xmax, dw, rows[i0]);
                rowSy[i0] = sy0;
            }
            int i1 = sy1 == sy0 ? i0 : (rowSy[1 - i0] == sy1 ? 1 - i0 : -1);
            if (i1 < 0) {
                i1 = 1 - i0;
                hresize(src, sw, cn, sy1, xofs, alpha, xmax, dw, rows[i1]);
                rowSy[i1] = sy1;
            }
            int[] row0 = rows[i0];
            int[] row1 = rows[i1];
            int b0 = beta[dy * 2];
            int b1 = beta[dy * 2 + 1];
            int o = dy * rowLen;
            for (int x = 0; x < rowLen; x++) {
                int v = (((b0 * (row0[x] >> 4)) >> 16) + ((b1 * (row1[x] >> 4)) >> 16) + 2) >> 2;
                dst[o + x] = (byte) (v < 0 ? 0 : (v > 255 ? 255 : v));
            }
        }
        return dst;
    }

    private static void hresize(byte[] src, int sw, int cn, int sy, int[] xofs, int[] alpha, int xmax, int dw,
                                int[] out) {
        int base = sy * sw * cn;
        for (int dx = 0; dx < dw; dx++) {
            int sx = base + xofs[dx] * cn;
            if (dx < xmax) {
                int a0 = alpha[dx * 2];
                int a1 = alpha[dx * 2 + 1];
                for (int k = 0; k < cn; k++) {
                    out[dx * cn + k] = (src[sx + k] & 0xff) * a0 + (src[sx + cn + k] & 0xff) * a1;
                }
            } else {
                for (int k = 0; k < cn; k++) {
                    out[dx * cn + k] = (src[sx + k] & 0xff) * COEF_SCALE;
                }
            }
        }
    }

    /** OpenCV's {@code clip(x, 0, n)}: x limited to [0, n-1]. */
    private static int clip(int x, int n) {
        return x < 0 ? 0 : (x >= n ? n - 1 : x);
    }

    /** {@code saturate_cast<short>(float)}: round half to even, then saturate. */
    static int roundShort(float v) {
        double r = Math.rint(v);
        if (r > Short.MAX_VALUE) {
            return Short.MAX_VALUE;
        }
        if (r < Short.MIN_VALUE) {
            return Short.MIN_VALUE;
        }
        return (int) r;
    }
}
