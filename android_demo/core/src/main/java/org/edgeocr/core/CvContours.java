package org.edgeocr.core;

import java.util.ArrayList;
import java.util.List;

/**
 * {@code cv2.findContours(bitmap, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)} as OpenCV 4.10 computes it
 * (contours_new.cpp: Suzuki-Abe border following on a 1-pixel zero-padded copy, outer borders and hole
 * borders, corner points only, contours returned newest first).
 *
 * <p>Why a port: DB post-processing turns every contour (holes included) into a candidate box and
 * keeps the first {@code max_candidates}, so both the point lists and their order must be OpenCV's.
 */
public final class CvContours {
    private static final int[] DX = {1, 1, 0, -1, -1, -1, 0, 1};
    private static final int[] DY = {0, -1, -1, -1, 0, 1, 1, 1};
    private static final byte MASK8_RIGHT = (byte) 0x80;
    private static final byte MASK8_NEW = 2;
    private static final byte MASK8_BLACK = 1;

    private CvContours() {
    }

    /**
     * Contours of the non-zero pixels of a {@code width x height} mask (row-major, any non-zero byte is
     * foreground). Each contour is an int array {x0, y0, x1, y1, ...}; the list is in OpenCV's order.
     */
    public static List<int[]> findContoursListSimple(byte[] mask, int width, int height) {
        int w = width + 2;
        int h = height + 2;
        byte[] img = new byte[w * h];
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                img[(y + 1) * w + x + 1] = mask[y * width + x] != 0 ? (byte) 1 : 0;
            }
        }
        int[] delta = new int[16];
        for (int s = 0; s < 16; s++) {
            delta[s] = DX[s & 7] + DY[s & 7] * w;
        }
        List<int[]> found = new ArrayList<int[]>();
        int maxX = w - 1;
        int maxY = h - 1;
        for (int y = 1; y < maxY; y++) {
            int prev = 0;
            int x = 1;
            while (x < maxX) {
                int p = img[y * w + x];
                while (x < maxX && p == prev) {
                    x++;
                    if (x < maxX) {
                        p = img[y * w + x];
                    }
                }
                if (x >= maxX) {
                    break;
                }
                boolean isHole;
                boolean start;
                if (prev == 0 && p == 1) {
                    isHole = false;
                    start = true;
                } else if (p == 0 && prev >= 1) {
                    isHole = true;
                    start = true;
                } else {
                    isHole = false;
                    start = false;
                }
                if (start) {
                    int sx = x - (isHole ? 1 : 0);
                    found.add(fetchContour(img, w, delta, sx, y, isHole));
                    // the scanner resumes at x + 1 with prev = the (possibly re-marked) pixel at x
                    x = x + 1;
                    prev = img[y * w + x - 1];
                } else {
                    prev = p;
                    x++;
                }
            }
        }
        List<int[]> out = new ArrayList<int[]>(found.size());
        for (int i = found.size() - 1; i >= 0; i--) {
            out.add(found.get(i));
        }
        return out;
    }

    /** {@code icvFetchContourEx} for schar images with CHAIN_APPROX_SIMPLE; coordinates minus the padding. */
    private static int[] fetchContour(byte[] img, int w, int[] delta, int sx, int sy, boolean isHole) {
        int i0 = sy * w + sx;
        int ptX = sx - 1;
        int ptY = sy - 1;
        IntList pts = new IntList();
        int sEnd = isHole ? 0 : 4;
        int s = sEnd;
        int i1;
        do {
            s = (s - 1) & 7;
            i1 = i0 + delta[s];
        } while (img[i1] == 0 && s != sEnd);

        if (s == sEnd) { // single pixel
            img[i0] = (byte) (MASK8_NEW | MASK8_RIGHT);
            pts.add(ptX, ptY);
            return pts.toArray();
        }
        int i3 = i0;
        int i4;
        int prevS = s ^ 4;
        for (;;) {
            sEnd = s;
            s = Math.min(s, 15);
            i4 = i3;
            while (s < 15) {
                ++s;
                i4 = i3 + delta[s];
                if (img[i4] != 0) {
                    break;
                }
            }
            s &= 7;
            if ((s - 1 & 0xffffffffL) < (sEnd & 0xffffffffL)) {
                img[i3] = (byte) (MASK8_NEW | MASK8_RIGHT);
            } else if (img[i3] == MASK8_BLACK) {
                img[i3] = MASK8_NEW;
            }
            if (s != prevS) {
                pts.add(ptX, ptY);
            }
            prevS = s;
            ptX += DX[s];
            ptY += DY[s];
            if (i4 == i0 && i3 == i1) {
                break;
            }
            i3 = i4;
            s = (s + 4) & 7;
        }
        return pts.toArray();
    }

    /** Growable int array (no boxing). */
    static final class IntList {
        private int[] data = new int[64];
        private int size;

        void add(int a, int b) {
            if (size + 2 > data.length) {
                int[] n = new int[data.length * 2];
                System.arraycopy(data, 0, n, 0, size);
                data = n;
            }
            data[size++] = a;
            data[size++] = b;
        }

        int[] toArray() {
            int[] r = new int[size];
            System.arraycopy(data, 0, r, 0, size);
            return r;
        }
    }
}
