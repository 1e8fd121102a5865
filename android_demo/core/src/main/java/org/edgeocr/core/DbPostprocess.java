package org.edgeocr.core;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * DB post-processing, line by line as {@code edgeocr/det_postprocess.py} (PaddleOCR 2.7.3
 * {@code DBPostProcess}, quad boxes, + {@code filter_tag_det_res}): binarize, contours, min-area box,
 * box score, unclip, rescale, order clockwise, clip, drop slivers. Float32 where numpy works in float32.
 */
public final class DbPostprocess {
    /** PaddleOCR drops boxes whose short side after unclipping is below min_size + 2 (map pixels). */
    private static final int UNCLIPPED_MIN_SIZE_MARGIN = 2;

    private DbPostprocess() {
    }

    /**
     * Boxes ({@code [4][2]} float, integer-valued, TL TR BR BL) in contour order, in pixels of the
     * {@code srcH x srcW} image, from a {@code [.., H', W']} probability map.
     */
    public static List<float[][]> postprocess(Tensor probMap, int srcH, int srcW, Manifest.DetParams p) {
        int mh = probMap.dim(probMap.shape.length - 2);
        int mw = probMap.dim(probMap.shape.length - 1);
        float[] pred = probMap.data;
        float thresh = (float) p.thresh;
        byte[] bitmap = new byte[mh * mw];
        for (int i = 0; i < mh * mw; i++) {
            bitmap[i] = pred[i] > thresh ? (byte) 1 : 0;
        }
        if (p.useDilation) {
            bitmap = dilate2x2(bitmap, mw, mh);
        }
        List<int[]> boxes = boxesFromBitmap(pred, bitmap, mw, mh, srcW, srcH, p);
        return filterDetBoxes(boxes, srcH, srcW, p.minSize);
    }

    /** {@code cv2.dilate(bitmap, ones(2, 2))}: anchor at (1, 1), so each pixel takes the max of itself, left, up. */
    static byte[] dilate2x2(byte[] b, int w, int h) {
        byte[] out = new byte[b.length];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int v = b[y * w + x];
                if (x > 0) {
                    v |= b[y * w + x - 1];
                }
                if (y > 0) {
                    v |= b[(y - 1) * w + x];
                    if (x > 0) {
                        v |= b[(y - 1) * w + x - 1];
                    }
                }
                out[y * w + x] = (byte) v;
            }
        }
        return out;
    }

    /** Int boxes {x0, y0, ... x3, y3} in destination pixels ({@code boxes_from_bitmap}). */
    static List<int[]> boxesFromBitmap(float[] pred, byte[] bitmap, int width, int height, int destWidth,
                                       int destHeight, Manifest.DetParams p) {
        List<int[]> contours = CvContours.findContoursListSimple(bitmap, width, height);
        float destW = (float) destWidth;
        float destH = (float) destHeight;
        List<int[]> boxes = new ArrayList<int[]>();
        int n = Math.min(contours.size(), p.maxCandidates);
        for (int ci = 0; ci < n; ci++) {
            int[] contour = contours.get(ci);
            long[] cpts = new long[contour.length];
            for (int i = 0; i < contour.length; i++) {
                cpts[i] = contour[i];
            }
            MiniBox mb = getMiniBoxes(cpts);
            if (mb.sside < p.minSize) {
                continue;
            }
            double score = "fast".equals(p.scoreMode) ? boxScoreFast(pred, width, height, mb.box)
                    : boxScoreSlow(pred, width, height, contour);
            if (p.boxThresh > score) {
                continue;
            }
            long[] expanded = unclip(mb.box, p.unclipRatio);
            if (expanded.length == 0) {
                continue;
            }
            MiniBox mb2 = getMiniBoxes(expanded);
            if (mb2.sside < p.minSize + UNCLIPPED_MIN_SIZE_MARGIN) {
                continue;
            }
            int[] box = new int[8];
            for (int k = 0; k < 4; k++) {
                float x = (float) Math.rint((mb2.box[k][0] / (float) width) * destW);
                float y = (float) Math.rint((mb2.box[k][1] / (float) height) * destH);
                x = Math.min(Math.max(x, 0f), destW);
                y = Math.min(Math.max(y, 0f), destH);
                box[2 * k] = (int) x;
                box[2 * k + 1] = (int) y;
            }
            boxes.add(box);
        }
        return boxes;
    }

    /** A min-area box as 4 float points (TL, TR, BR, BL) and its short side. */
    static final class MiniBox {
        final float[][] box;
        final float sside;

        MiniBox(float[][] box, float sside) {
            this.box = box;
            this.sside = sside;
        }
    }

    /** {@code get_mini_boxes}: minAreaRect, boxPoints sorted by x (stable), then TL, TR, BR, BL. */
    static MiniBox getMiniBoxes(long[] pts) {
        CvGeometry.RotatedRect rect = CvGeometry.minAreaRect(pts);
        float[][] points = rect.points();
        List<float[]> sorted = new ArrayList<float[]>(Arrays.asList(points));
        java.util.Collections.sort(sorted, new Comparator<float[]>() {
            @Override
            public int compare(float[] a, float[] b) {
                return a[0] < b[0] ? -1 : (a[0] > b[0] ? 1 : 0);
            }
        });
        int i1;
        int i2;
        int i3;
        int i4;
        if (sorted.get(1)[1] > sorted.get(0)[1]) {
            i1 = 0;
            i4 = 1;
        } else {
            i1 = 1;
            i4 = 0;
        }
        if (sorted.get(3)[1] > sorted.get(2)[1]) {
            i2 = 2;
            i3 = 3;
        } else {
            i2 = 3;
            i3 = 2;
        }
        float[][] box = {sorted.get(i1), sorted.get(i2), sorted.get(i3), sorted.get(i4)};
        return new MiniBox(box, Math.min(rect.width, rect.height));
    }

    /** {@code box_score_fast}: mean of the map inside the polygon, rasterized in its bounding box. */
    static double boxScoreFast(float[] pred, int w, int h, float[][] box) {
        float minX = Float.MAX_VALUE;
        float maxX = -Float.MAX_VALUE;
        float minY = Float.MAX_VALUE;
        float maxY = -Float.MAX_VALUE;
        for (float[] pt : box) {
            minX = Math.min(minX, pt[0]);
            maxX = Math.max(maxX, pt[0]);
            minY = Math.min(minY, pt[1]);
            maxY = Math.max(maxY, pt[1]);
        }
        int xmin = clip((int) Math.floor(minX), 0, w - 1);
        int xmax = clip((int) Math.ceil(maxX), 0, w - 1);
        int ymin = clip((int) Math.floor(minY), 0, h - 1);
        int ymax = clip((int) Math.ceil(maxY), 0, h - 1);
        int[] poly = new int[box.length * 2];
        for (int i = 0; i < box.length; i++) {
            poly[2 * i] = (int) (box[i][0] - (float) xmin);
            poly[2 * i + 1] = (int) (box[i][1] - (float) ymin);
        }
        return maskedMean(pred, w, xmin, xmax, ymin, ymax, poly);
    }

    /** {@code box_score_slow}: mean of the map inside the contour itself. */
    static double boxScoreSlow(float[] pred, int w, int h, int[] contour) {
        int minX = Integer.MAX_VALUE;
        int maxX = Integer.MIN_VALUE;
        int minY = Integer.MAX_VALUE;
        int maxY = Integer.MIN_VALUE;
        for (int i = 0; i < contour.length; i += 2) {
            minX = Math.min(minX, contour[i]);
            maxX = Math.max(maxX, contour[i]);
            minY = Math.min(minY, contour[i + 1]);
            maxY = Math.max(maxY, contour[i + 1]);
        }
        int xmin = clip(minX, 0, w - 1);
        int xmax = clip(maxX, 0, w - 1);
        int ymin = clip(minY, 0, h - 1);
        int ymax = clip(maxY, 0, h - 1);
        int[] poly = new int[contour.length];
        for (int i = 0; i < contour.length; i += 2) {
            poly[i] = contour[i] - xmin;
            poly[i + 1] = contour[i + 1] - ymin;
        }
        return maskedMean(pred, w, xmin, xmax, ymin, ymax, poly);
    }

    private static double maskedMean(float[] pred, int w, int xmin, int xmax, int ymin, int ymax, int[] poly) {
        int mw = xmax - xmin + 1;
        int mh = ymax - ymin + 1;
        byte[] mask = new byte[mw * mh];
        CvGeometry.fillPoly(mask, mw, mh, poly);
        double sum = 0;
        int count = 0;
        for (int y = 0; y < mh; y++) {
            for (int x = 0; x < mw; x++) {
                if (mask[y * mw + x] != 0) {
                    sum += pred[(ymin + y) * w + xmin + x];
                    count++;
                }
            }
        }
        return count == 0 ? 0.0 : sum / count;
    }

    private static int clip(int v, int lo, int hi) {
        return v < lo ? lo : (v > hi ? hi : v);
    }

    /** {@code unclip}: grow the box by {@code area * ratio / perimeter} with Clipper round joins. */
    static long[] unclip(float[][] box, double unclipRatio) {
        double[] al = polygonAreaLength(box);
        double distance = al[0] * unclipRatio / al[1];
        return ClipperOffset.offsetRound(box, distance);
    }

    /** Area and perimeter of a closed polygon, in GEOS's formula and summation order (float64). */
    static double[] polygonAreaLength(float[][] pts) {
        int n0 = pts.length;
        boolean closed = pts[0][0] == pts[n0 - 1][0] && pts[0][1] == pts[n0 - 1][1];
        int n = closed ? n0 : n0 + 1;
        double[] rx = new double[n];
        double[] ry = new double[n];
        for (int i = 0; i < n0; i++) {
            rx[i] = pts[i][0];
            ry[i] = pts[i][1];
        }
        if (!closed) {
            rx[n - 1] = rx[0];
            ry[n - 1] = ry[0];
        }
        double area;
        if (n < 4) {
            area = 0.0;
        } else {
            double x0 = rx[0];
            double total = 0.0;
            for (int i = 1; i < n - 1; i++) {
                total += (rx[i] - x0) * (ry[i - 1] - ry[i + 1]);
            }
            area = Math.abs(total / 2.0);
        }
        double length = 0.0;
        for (int i = 1; i < n; i++) {
            double dx = rx[i] - rx[i - 1];
            double dy = ry[i] - ry[i - 1];
            length += Math.sqrt(dx * dx + dy * dy);
        }
        return new double[] {area, length};
    }

    /** {@code order_points_clockwise}: TL by min x+y, BR by max x+y, TR/BL by y-x among the rest. */
    static float[][] orderPointsClockwise(int[] pts) {
        int imin = 0;
        int imax = 0;
        long[] s = new long[4];
        for (int i = 0; i < 4; i++) {
            s[i] = (long) pts[2 * i] + pts[2 * i + 1];
        }
        for (int i = 1; i < 4; i++) {
            if (s[i] < s[imin]) {
                imin = i;
            }
            if (s[i] > s[imax]) {
                imax = i;
            }
        }
        int[] rest = new int[4];
        int nr = 0;
        for (int i = 0; i < 4; i++) {
            if (i != imin && i != imax) {
                rest[nr++] = i;
            }
        }
        int dmin = 0;
        int dmax = 0;
        for (int i = 1; i < nr; i++) {
            long di = (long) pts[2 * rest[i] + 1] - pts[2 * rest[i]];
            if (di < (long) pts[2 * rest[dmin] + 1] - pts[2 * rest[dmin]]) {
                dmin = i;
            }
            if (di > (long) pts[2 * rest[dmax] + 1] - pts[2 * rest[dmax]]) {
                dmax = i;
            }
        }
        float[][] r = new float[4][2];
        r[0] = new float[] {pts[2 * imin], pts[2 * imin + 1]};
        r[2] = new float[] {pts[2 * imax], pts[2 * imax + 1]};
        r[1] = new float[] {pts[2 * rest[dmin]], pts[2 * rest[dmin] + 1]};
        r[3] = new float[] {pts[2 * rest[dmax]], pts[2 * rest[dmax] + 1]};
        return r;
    }

    /** {@code filter_det_boxes}: order, clip to the image, drop boxes with an edge of at most min_size pixels. */
    static List<float[][]> filterDetBoxes(List<int[]> boxes, int imgH, int imgW, int minSize) {
        List<float[][]> kept = new ArrayList<float[][]>();
        for (int[] b : boxes) {
            float[][] box = orderPointsClockwise(b);
            for (float[] pt : box) {
                pt[0] = (float) (long) Math.min(Math.max(pt[0], 0f), (float) (imgW - 1));
                pt[1] = (float) (long) Math.min(Math.max(pt[1], 0f), (float) (imgH - 1));
            }
            int rectWidth = (int) norm(box[0], box[1]);
            int rectHeight = (int) norm(box[0], box[3]);
            if (rectWidth <= minSize || rectHeight <= minSize) {
                continue;
            }
            kept.add(box);
        }
        return kept;
    }

    /** {@code np.linalg.norm(a - b)} of float32 points, in float32. */
    static float norm(float[] a, float[] b) {
        float dx = a[0] - b[0];
        float dy = a[1] - b[1];
        return (float) Math.sqrt(dx * dx + dy * dy);
    }
}
