package org.edgeocr.core;

/**
 * An 8-bit BGR image, rows top to bottom, pixels interleaved B, G, R: the layout OpenCV (and therefore the
 * Python runtime) works on. Built from an Android {@code Bitmap}'s ARGB ints or from decoded JPEG/PNG bytes.
 */
public final class BgrImage {
    public final int width;
    public final int height;
    public final byte[] data;

    public BgrImage(int width, int height, byte[] data) {
        if (width <= 0 || height <= 0) {
            throw new IllegalArgumentException("image has no pixels (size " + width + "x" + height + ")");
        }
        if (data.length != width * height * 3) {
            throw new IllegalArgumentException("BGR buffer holds " + data.length + " bytes, expected " + width + "x"
                    + height + "x3 = " + (width * height * 3));
        }
        this.width = width;
        this.height = height;
        this.data = data;
    }

    /**
     * From ARGB ints ({@code Bitmap.getPixels} / {@code BufferedImage.getRGB} layout). Transparent pixels are
     * blended onto white with PaddleOCR's {@code alpha_to_color} arithmetic, as the Python runtime does.
     */
    public static BgrImage fromArgb(int[] argb, int width, int height) {
        if (width <= 0 || height <= 0) {
            throw new IllegalArgumentException("image has no pixels (size " + width + "x" + height + ")");
        }
        if (argb.length < width * height) {
            throw new IllegalArgumentException("ARGB buffer holds " + argb.length + " pixels, expected " + width + "x"
                    + height);
        }
        byte[] d = new byte[width * height * 3];
        for (int i = 0; i < width * height; i++) {
            int p = argb[i];
            int a = (p >>> 24) & 0xff;
            int r = (p >> 16) & 0xff;
            int g = (p >> 8) & 0xff;
            int b = p & 0xff;
            if (a != 255) {
                double alpha = a / 255.0;
                r = (int) (255 * (1 - alpha) + r * alpha);
                g = (int) (255 * (1 - alpha) + g * alpha);
                b = (int) (255 * (1 - alpha) + b * alpha);
            }
            d[3 * i] = (byte) b;
            d[3 * i + 1] = (byte) g;
            d[3 * i + 2] = (byte) r;
        }
        return new BgrImage(width, height, d);
    }

    /** Rotated by 180 degrees ({@code cv2.rotate(img, cv2.ROTATE_180)}). */
    public BgrImage rotate180() {
        byte[] d = new byte[data.length];
        int n = width * height;
        for (int i = 0; i < n; i++) {
            int j = n - 1 - i;
            d[3 * j] = data[3 * i];
            d[3 * j + 1] = data[3 * i + 1];
            d[3 * j + 2] = data[3 * i + 2];
        }
        return new BgrImage(width, height, d);
    }

    /** Rotated by 90 degrees counter-clockwise ({@code np.rot90(img)}). */
    public BgrImage rot90() {
        int nw = height;
        int nh = width;
        byte[] d = new byte[data.length];
        for (int i = 0; i < nh; i++) {
            for (int j = 0; j < nw; j++) {
                // new[i][j] = old[j][W - 1 - i]
                int src = (j * width + (width - 1 - i)) * 3;
                int dst = (i * nw + j) * 3;
                d[dst] = data[src];
                d[dst + 1] = data[src + 1];
                d[dst + 2] = data[src + 2];
            }
        }
        return new BgrImage(nw, nh, d);
    }
}
