package org.edgeocr.core;

/**
 * {@code cv2.getPerspectiveTransform} + {@code cv2.warpPerspective(..., flags=INTER_CUBIC,
 * borderMode=BORDER_REPLICATE)} for 8-bit images, as OpenCV 4.10 computes them.
 *
 * <p>The text-line crops feed the recognizer, so they follow OpenCV's own arithmetic: the 8x8 system
 * solved by its LU routine, the 3x3 inverse by cofactors, source coordinates quantized to 1/32 pixel
 * per 32x16 tile ({@code WarpPerspectiveInvoker}), and the bicubic kernel (A = -0.75) as 15-bit fixed-point
 * weights whose sum is forced to exactly 1 ({@code initInterTab2D}, {@code remapBicubic}).
 */
public final class CvWarp {
    private static final int INTER_BITS = 5;
    private static final int INTER_TAB_SIZE = 1 << INTER_BITS;
    private static final int COEF_BITS = 15;
    private static final int COEF_SCALE = 1 << COEF_BITS;
    private static final short[] CUBIC_TAB = buildCubicTab();

    private CvWarp() {
    }

    /** 3x3 row-major matrix mapping the 4 {@code src} points ({x, y} floats) onto the 4 {@code dst} points. */
    public static double[] getPerspectiveTransform(float[][] src, float[][] dst) {
        double[][] a = new double[8][8];
        double[] b = new double[8];
        for (int i = 0; i < 4; i++) {
            a[i][0] = a[i + 4][3] = src[i][0];
            a[i][1] = a[i + 4][4] = src[i][1];
            a[i][2] = a[i + 4][5] = 1;
            a[i][6] = -src[i][0] * dst[i][0];
            a[i][7] = -src[i][1] * dst[i][0];
            a[i + 4][6] = -src[i][0] * dst[i][1];
            a[i + 4][7] = -src[i][1] * dst[i][1];
            b[i] = dst[i][0];
            b[i + 4] = dst[i][1];
        }
        if (!luSolve(a, b)) {
            // cv::solve leaves the output zero when the system is singular.
            return new double[] {0, 0, 0, 0, 0, 0, 0, 0, 1};
        }
        double[] m = new double[9];
        System.arraycopy(b, 0, m, 0, 8);
        m[8] = 1.0;
        return m;
    }

    /** OpenCV's {@code LUImpl} (Gaussian elimination with partial pivoting), solving in place into b. */
    static boolean luSolve(double[][] a, double[] b) {
        int m = b.length;
        double eps = 2.220446049250313e-16 * 100;
        for (int i = 0; i < m; i++) {
            int k = i;
            for (int j = i + 1; j < m; j++) {
                if (Math.abs(a[j][i]) > Math.abs(a[k][i])) {
                    k = j;
                }
            }
            if (Math.abs(a[k][i]) < eps) {
                return false;
            }
            if (k != i) {
                for (int j = i; j < m; j++) {
                    double t = a[i][j];
                    a[i][j] = a[k][j];
                    a[k][j] = t;
                }
                double t = b[i];
                b[i] = b[k];
                b[k] = t;
            }
            double d = -1 / a[i][i];
            for (int j = i + 1; j < m; j++) {
                double alpha = a[j][i] * d;
                for (k = i + 1; k < m; k++) {
                    a[j][k] += alpha * a[i][k];
                }
                b[j] += alpha * b[i];
            }
        }
        for (int i = m - 1; i >= 0; i--) {
            double s = b[i];
            for (int k = i + 1; k < m; k++) {
                s -= a[i][k] * b[k];
            }
            b[i] = s / a[i][i];
        }
        return true;
    }

    /** {@code cv::invert} of a 3x3 double matrix (DECOMP_LU takes the cofactor path for n == 3). */
    static double[] invert3x3(double[] s) {
        double d = s[0] * (s[4] * s[8] - s[5] * s[7])
                - s[1] * (s[3] * s[8] - s[5] * s[6])
                + s[2] * (s[3] * s[7] - s[4] * s[6]);
        double[] t = new double[9];
        if (d == 0.) {
            return t; // OpenCV returns a zero matrix for a singular input
        }
        d = 1. / d;
        t[0] = (s[4] * s[8] - s[5] * s[7]) * d;
        t[1] = (s[2] * s[7] - s[1] * s[8]) * d;
        t[2] = (s[1] * s[5] - s[2] * s[4]) * d;
        t[3] = (s[5] * s[6] - s[3] * s[8]) * d;
        t[4] = (s[0] * s[8] - s[2] * s[6]) * d;
        t[5] = (s[2] * s[3] - s[0] * s[5]) * d;
        t[6] = (s[3] * s[7] - s[4] * s[6]) * d;
        t[7] = (s[1] * s[6] - s[0] * s[7]) * d;
        t[8] = (s[0] * s[4] - s[1] * s[3]) * d;
        return t;
    }

    /**
     * {@code warpPerspective(src, M, (dw, dh), flags=INTER_CUBIC, borderMode=BORDER_REPLICATE)} of an
     * interleaved 8-bit image with {@code cn} channels; {@code m} maps source to destination (it is inverted here).
     */
    public static byte[] warpPerspectiveCubicReplicate(byte[] src, int sw, int sh, int cn, double[] m, int dw, int dh) {
        if (dw <= 0 || dh <= 0) {
            throw new IllegalArgumentException("warpPerspective: empty output size " + dw + "x" + dh);
        }
        double[] mi = invert3x3(m);
        byte[] dst = new byte[dw * dh * cn];
        final int blockSz = 32;
        int bh0 = Math.min(blockSz / 2, dh);
        int bw0 = Math.min(blockSz * blockSz / bh0, dw);
        bh0 = Math.min(blockSz * blockSz / bw0, dh);
        int width1 = Math.max(sw - 3, 0);
        int height1 = Math.max(sh - 3, 0);
        int sstep = sw * cn;
        int[] xs = new int[4];
        int[] ys = new int[4];
        for (int y = 0; y < dh; y += bh0) {
            for (int x = 0; x < dw; x += bw0) {
                int bw = Math.min(bw0, dw - x);
                int bh = Math.min(bh0, dh - y);
                for (int y1 = 0; y1 < bh; y1++) {
                    double x0 = mi[0] * x + mi[1] * (y + y1) + mi[2];
                    double yy0 = mi[3] * x + mi[4] * (y + y1) + mi[5];
                    double w0 = mi[6] * x + mi[7] * (y + y1) + mi[8];
                    for (int x1 = 0; x1 < bw; x1++) {
                        double w = w0 + mi[6] * x1;
                        w = w != 0 ? INTER_TAB_SIZE / w : 0;
                        double fx = Math.max((double) Integer.MIN_VALUE,
                                Math.min((double) Integer.MAX_VALUE, (x0 + mi[0] * x1) * w));
                        double fy = Math.max((double) Integer.MIN_VALUE,
                                Math.min((double) Integer.MAX_VALUE, (yy0 + mi[3] * x1) * w));
                        int ix = (int) Math.rint(fx);
                        int iy = (int) Math.rint(fy);
                        int sx = saturateShort(ix >> INTER_BITS) - 1;
                        int sy = saturateShort(iy >> INTER_BITS) - 1;
                        int tab = (((iy & (INTER_TAB_SIZE - 1)) * INTER_TAB_SIZE) + (ix & (INTER_TAB_SIZE - 1))) * 16;
                        int d = ((y + y1) * dw + (x + x1)) * cn;
                        if ((sx >= 0 && sx < width1) && (sy >= 0 && sy < height1)) {
                            for (int k = 0; k < cn; k++) {
                                int p = sy * sstep + sx * cn + k;
                                int sum = 0;
                                for (int r = 0; r < 4; r++, p += sstep) {
                                    sum += (src[p] & 0xff) * CUBIC_TAB[tab + r * 4]
                                            + (src[p + cn] & 0xff) * CUBIC_TAB[tab + r * 4 + 1]
                                            + (src[p + 2 * cn] & 0xff) * CUBIC_TAB[tab + r * 4 + 2]
                                            + (src[p + 3 * cn] & 0xff) * CUBIC_TAB[tab + r * 4 + 3];
                                }
                                dst[d + k] = castFixed(sum);
                            }
                        } else {
                            for (int i = 0; i < 4; i++) {
                                xs[i] = clamp(sx + i, sw) * cn;
                                ys[i] = clamp(sy + i, sh);
                            }
                            for (int k = 0; k < cn; k++) {
                                int sum = 0;
                                for (int r = 0; r < 4; r++) {
                                    int row = ys[r] * sstep + k;
                                    for (int c = 0; c < 4; c++) {
                                        sum += (src[row + xs[c]] & 0xff) * CUBIC_TAB[tab + r * 4 + c];
                                    }
                                }
                                dst[d + k] = castFixed(sum);
                            }
                        }
                    }
                }
            }
        }
        return dst;
    }

    private static byte castFixed(int sum) {
        int v = (sum + (1 << (COEF_BITS - 1))) >> COEF_BITS;
        return (byte) (v < 0 ? 0 : (v > 255 ? 255 : v));
    }

    private static int clamp(int v, int n) {
        return v < 0 ? 0 : (v >= n ? n - 1 : v);
    }

    private static int saturateShort(int v) {
        return v < Short.MIN_VALUE ? Short.MIN_VALUE : (v > Short.MAX_VALUE ? Short.MAX_VALUE : v);
    }

    /** {@code interpolateCubic} in float, exactly as imgwarp.cpp writes it. */
    static void interpolateCubic(float x, float[] c, int off) {
        final float a = -0.75f;
        c[off] = ((a * (x + 1) - 5 * a) * (x + 1) + 8 * a) * (x + 1) - 4 * a;
        c[off + 1] = ((a + 2) * x - (a + 3)) * x * x + 1;
        c[off + 2] = ((a + 2) * (1 - x) - (a + 3)) * (1 - x) * (1 - x) + 1;
        c[off + 3] = 1.f - c[off] - c[off + 1] - c[off + 2];
    }

    /** {@code initInterTab2D(INTER_CUBIC, fixpt=true)}: 32x32 sub-pixel positions x 16 weights. */
    private static short[] buildCubicTab() {
        float[] tab1 = new float[INTER_TAB_SIZE * 4];
        float scale = 1.f / INTER_TAB_SIZE;
        for (int i = 0; i < INTER_TAB_SIZE; i++) {
            interpolateCubic(i * scale, tab1, i * 4);
        }
        short[] itab = new short[INTER_TAB_SIZE * INTER_TAB_SIZE * 16];
        int ksize = 4;
        for (int i = 0; i < INTER_TAB_SIZE; i++) {
            for (int j = 0; j < INTER_TAB_SIZE; j++) {
                int base = (i * INTER_TAB_SIZE + j) * 16;
                int isum = 0;
                for (int k1 = 0; k1 < ksize; k1++) {
                    float vy = tab1[i * ksize + k1];
                    for (int k2 = 0; k2 < ksize; k2++) {
                        float v = vy * tab1[j * ksize + k2];
                        short s = (short) CvResize.roundShort(v * COEF_SCALE);
                        itab[base + k1 * ksize + k2] = s;
                        isum += s;
                    }
                }
                if (isum != COEF_SCALE) {
                    int diff = isum - COEF_SCALE;
                    int ksize2 = ksize / 2;
                    int mk1 = ksize2;
                    int mk2 = ksize2;
                    int bigK1 = ksize2;
                    int bigK2 = ksize2;
                    for (int k1 = ksize2; k1 < ksize2 + 2; k1++) {
                        for (int k2 = ksize2; k2 < ksize2 + 2; k2++) {
                            if (itab[base + k1 * ksize + k2] < itab[base + mk1 * ksize + mk2]) {
                                mk1 = k1;
                                mk2 = k2;
                            } else if (itab[base + k1 * ksize + k2] > itab[base + bigK1 * ksize + bigK2]) {
                                bigK1 = k1;
                                bigK2 = k2;
                            }
                        }
                    }
                    if (diff < 0) {
                        itab[base + bigK1 * ksize + bigK2] = (short) (itab[base + bigK1 * ksize + bigK2] - diff);
                    } else {
                        itab[base + mk1 * ksize + mk2] = (short) (itab[base + mk1 * ksize + mk2] - diff);
                    }
                }
            }
        }
        return itab;
    }
}
