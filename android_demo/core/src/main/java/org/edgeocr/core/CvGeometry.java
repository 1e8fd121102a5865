package org.edgeocr.core;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;

/**
 * The OpenCV 4.10 geometry DB post-processing relies on: {@code convexHull} (Sklansky) of integer points,
 * {@code minAreaRect} (rotating calipers in float), {@code boxPoints}, and {@code fillPoly} +
 * {@code mean(mask)} for the "fast" box score. Ported function by function so a box corner or a score
 * near {@code box_thresh} comes out as in the Python runtime.
 */
public final class CvGeometry {
    private CvGeometry() {
    }

    /** A rotated rectangle: centre, size and angle in degrees, all float like {@code cv::RotatedRect}. */
    public static final class RotatedRect {
        public final float cx;
        public final float cy;
        public final float width;
        public final float height;
        public final float angle;

        RotatedRect(float cx, float cy, float width, float height, float angle) {
            this.cx = cx;
            this.cy = cy;
            this.width = width;
            this.height = height;
            this.angle = angle;
        }

        /** {@code cv::boxPoints}: 4 corners {x, y} in OpenCV's order. */
        public float[][] points() {
            double a0 = angle * Math.PI / 180.;
            float b = (float) Math.cos(a0) * 0.5f;
            float a = (float) Math.sin(a0) * 0.5f;
            float[][] pt = new float[4][2];
            pt[0][0] = cx - a * height - b * width;
            pt[0][1] = cy + b * height - a * width;
            pt[1][0] = cx + a * height - b * width;
            pt[1][1] = cy - b * height - a * width;
            pt[2][0] = 2 * cx - pt[0][0];
            pt[2][1] = 2 * cy - pt[0][1];
            pt[3][0] = 2 * cx - pt[1][0];
            pt[3][1] = 2 * cy - pt[1][1];
            return pt;
        }
    }

    /** Indices of the convex hull of integer points {x0, y0, ...} (counter-clockwise as OpenCV's default). */
    static int[] convexHullIndices(final long[] pts) {
        final int total = pts.length / 2;
        if (total == 0) {
            return new int[0];
        }
        Integer[] order = new Integer[total];
        for (int i = 0; i < total; i++) {
            order[i] = i;
        }
        Arrays.sort(order, new Comparator<Integer>() {
            @Override
            public int compare(Integer p1, Integer p2) {
                long x1 = pts[2 * p1];
                long x2 = pts[2 * p2];
                if (x1 != x2) {
                    return x1 < x2 ? -1 : 1;
                }
                long y1 = pts[2 * p1 + 1];
                long y2 = pts[2 * p2 + 1];
                if (y1 != y2) {
                    return y1 < y2 ? -1 : 1;
                }
                return p1 < p2 ? -1 : (p1.equals(p2) ? 0 : 1);
            }
        });
        long[] sx = new long[total];
        long[] sy = new long[total];
        for (int i = 0; i < total; i++) {
            sx[i] = pts[2 * order[i]];
            sy[i] = pts[2 * order[i] + 1];
        }
        int minyInd = 0;
        int maxyInd = 0;
        for (int i = 1; i < total; i++) {
            long y = sy[i];
            if (sy[minyInd] > y) {
                minyInd = i;
            }
            if (sy[maxyInd] < y) {
                maxyInd = i;
            }
        }
        int[] hullbuf = new int[total];
        int nout = 0;
        int[] stack = new int[total + 2];
        if (sx[0] == sx[total - 1] && sy[0] == sy[total - 1]) {
            hullbuf[nout++] = 0;
        } else {
            int[] tl = new int[total + 2];
            int tlCount = sklansky(sx, sy, 0, maxyInd, tl, -1, 1);
            int[] tr = new int[total + 2];
            int trCount = sklansky(sx, sy, total - 1, maxyInd, tr, -1, -1);
            // clockwise = false: swap
            int[] t = tl;
            tl = tr;
            tr = t;
            int tc = tlCount;
            tlCount = trCount;
            trCount = tc;
            for (int i = 0; i < tlCount - 1; i++) {
                hullbuf[nout++] = order[tl[i]];
            }
            for (int i = trCount - 1; i > 0; i--) {
                hullbuf[nout++] = order[tr[i]];
            }
            int stopIdx = trCount > 2 ? tr[1] : (tlCount > 2 ? tl[tlCount - 2] : -1);

            int[] bl = new int[total + 2];
            int blCount = sklansky(sx, sy, 0, minyInd, bl, 1, -1);
            int[] br = new int[total + 2];
            int brCount = sklansky(sx, sy, total - 1, minyInd, br, 1, 1);
            if (stopIdx >= 0) {
                int checkIdx = blCount > 2 ? bl[1] : (blCount + brCount > 2 ? br[2 - blCount] : -1);
                if (checkIdx == stopIdx || (checkIdx >= 0 && sx[checkIdx] == sx[stopIdx] && sy[checkIdx] == sy[stopIdx])) {
                    blCount = Math.min(blCount, 2);
                    brCount = Math.min(brCount, 2);
                }
            }
            for (int i = 0; i < blCount - 1; i++) {
                hullbuf[nout++] = order[bl[i]];
            }
            for (int i = brCount - 1; i > 0; i--) {
                hullbuf[nout++] = order[br[i]];
            }
            if (nout >= 3) {
                int minIdx = 0;
                int maxIdx = 0;
                int lt = 0;
                for (int i = 1; i < nout; i++) {
                    int idx = hullbuf[i];
                    lt += hullbuf[i - 1] < idx ? 1 : 0;
                    if (lt > 1 && lt <= i - 2) {
                        break;
                    }
                    if (idx < hullbuf[minIdx]) {
                        minIdx = i;
                    }
                    if (idx > hullbuf[maxIdx]) {
                        maxIdx = i;
                    }
                }
                int mmdist = Math.abs(maxIdx - minIdx);
                if ((mmdist == 1 || mmdist == nout - 1) && (lt <= 1 || lt >= nout - 2)) {
                    boolean ascending = (maxIdx + 1) % nout == minIdx;
                    int i0 = ascending ? minIdx : maxIdx;
                    int j = i0;
                    if (i0 > 0) {
                        int i;
                        for (i = 0; i < nout; i++) {
                            int currIdx = stack[i] = hullbuf[j];
                            int nextJ = j + 1 < nout ? j + 1 : 0;
                            int nextIdx = hullbuf[nextJ];
                            if (i < nout - 1 && (ascending != (currIdx < nextIdx))) {
                                break;
                            }
                            j = nextJ;
                        }
                        if (i == nout) {
                            System.arraycopy(stack, 0, hullbuf, 0, nout);
                        }
                    }
                }
            }
        }
        return Arrays.copyOf(hullbuf, nout);
    }

    private static int sign(long v) {
        return v > 0 ? 1 : (v < 0 ? -1 : 0);
    }

    /** {@code Sklansky_<int, int64>} over the x-sorted points; returns the stack size. */
    private static int sklansky(long[] x, long[] y, int start, int end, int[] stack, int nsign, int sign2) {
        int incr = end > start ? 1 : -1;
        int pprev = start;
        int pcur = pprev + incr;
        int pnext = pcur + incr;
        int stacksize = 3;
        if (start == end || (x[start] == x[end] && y[start] == y[end])) {
            stack[0] = start;
            return 1;
        }
        stack[0] = pprev;
        stack[1] = pcur;
        stack[2] = pnext;
        end += incr;
        while (pnext != end) {
            long cury = y[pcur];
            long nexty = y[pnext];
            long by = nexty - cury;
            if (sign(by) != nsign) {
                long ax = x[pcur] - x[pprev];
                long bx = x[pnext] - x[pcur];
                long ay = cury - y[pprev];
                long convexity = ay * bx - ax * by;
                if (sign(convexity) == sign2 && (ax != 0 || ay != 0)) {
                    pprev = pcur;
                    pcur = pnext;
                    pnext += incr;
                    stack[stacksize] = pnext;
                    stacksize++;
                } else {
                    if (pprev == start) {
                        pcur = pnext;
                        stack[1] = pcur;
                        pnext += incr;
                        stack[2] = pnext;
                    } else {
                        stack[stacksize - 2] = pnext;
                        pcur = pprev;
                        pprev = stack[stacksize - 4];
                        stacksize--;
                    }
                }
            } else {
                pnext += incr;
                stack[stacksize - 1] = pnext;
            }
        }
        return --stacksize;
    }

    /** {@code cv::minAreaRect} of integer points {x0, y0, x1, y1, ...}. */
    public static RotatedRect minAreaRect(long[] pts) {
        int[] hull = convexHullIndices(pts);
        int n = hull.length;
        float[] hx = new float[n];
        float[] hy = new float[n];
        for (int i = 0; i < n; i++) {
            hx[i] = (float) pts[2 * hull[i]];
            hy[i] = (float) pts[2 * hull[i] + 1];
        }
        if (n > 2) {
            float[] out = rotatingCalipers(hx, hy, n);
            float cx = out[0] + (out[2] + out[4]) * 0.5f;
            float cy = out[1] + (out[3] + out[5]) * 0.5f;
            float w = (float) Math.sqrt((double) out[2] * out[2] + (double) out[3] * out[3]);
            float h = (float) Math.sqrt((double) out[4] * out[4] + (double) out[5] * out[5]);
            float angle = (float) Math.atan2((double) out[3], (double) out[2]);
            return new RotatedRect(cx, cy, w, h, (float) (angle * 180 / Math.PI));
        } else if (n == 2) {
            float cx = (hx[0] + hx[1]) * 0.5f;
            float cy = (hy[0] + hy[1]) * 0.5f;
            double dx = hx[1] - hx[0];
            double dy = hy[1] - hy[0];
            float w = (float) Math.sqrt(dx * dx + dy * dy);
            float angle = (float) Math.atan2(dy, dx);
            return new RotatedRect(cx, cy, w, 0, (float) (angle * 180 / Math.PI));
        } else if (n == 1) {
            return new RotatedRect(hx[0], hy[0], 0, 0, 0);
        }
        return new RotatedRect(0, 0, 0, 0, 0);
    }

    /** {@code rotatingCalipers(..., CALIPERS_MINAREARECT)}: {corner x, y, vector1 x, y, vector2 x, y}. */
    private static float[] rotatingCalipers(float[] px, float[] py, int n) {
        float minarea = Float.MAX_VALUE;
        float[] vx = new float[n];
        float[] vy = new float[n];
        float[] invLen = new float[n];
        int left = 0;
        int bottom = 0;
        int right = 0;
        int top = 0;
        int[] seq = {-1, -1, -1, -1};
        float orientation = 0;
        float baseA;
        float baseB = 0;
        float p0x = px[0];
        float p0y = py[0];
        float leftX = p0x;
        float rightX = p0x;
        float topY = p0y;
        float bottomY = p0y;
        for (int i = 0; i < n; i++) {
            if (p0x < leftX) {
                leftX = p0x;
                left = i;
            }
            if (p0x > rightX) {
                rightX = p0x;
                right = i;
            }
            if (p0y > topY) {
                topY = p0y;
                top = i;
            }
            if (p0y < bottomY) {
                bottomY = p0y;
                bottom = i;
            }
            int nxt = i + 1 < n ? i + 1 : 0;
            float ptx = px[nxt];
            float pty = py[nxt];
            double dx = ptx - p0x;
            double dy = pty - p0y;
            vx[i] = (float) dx;
            vy[i] = (float) dy;
            invLen[i] = (float) (1. / Math.sqrt(dx * dx + dy * dy));
            p0x = ptx;
            p0y = pty;
        }
        double ax = vx[n - 1];
        double ay = vy[n - 1];
        for (int i = 0; i < n; i++) {
            double bx = vx[i];
            double by = vy[i];
            double convexity = ax * by - ay * bx;
            if (convexity != 0) {
                orientation = convexity > 0 ? 1.f : -1.f;
                break;
            }
            ax = bx;
            ay = by;
        }
        baseA = orientation;
        seq[0] = bottom;
        seq[1] = right;
        seq[2] = top;
        seq[3] = left;
        float[] rvx = new float[4];
        float[] rvy = new float[4];
        int bufLeft = 0;
        int bufBottom = 0;
        float bufA = 0;
        float bufW = 0;
        float bufB = 0;
        float bufH = 0;
        for (int k = 0; k < n; k++) {
            int mainElement = 0;
            rvx[0] = vx[seq[0]];
            rvy[0] = vy[seq[0]];
            // rotate90CW: (y, -x)
            rvx[1] = vy[seq[1]];
            rvy[1] = -vx[seq[1]];
            // rotate180
            rvx[2] = -vx[seq[2]];
            rvy[2] = -vy[seq[2]];
            // rotate90CCW: (-y, x)
            rvx[3] = -vy[seq[3]];
            rvy[3] = vx[seq[3]];
            for (int i = 1; i < 4; i++) {
                // firstVecIsRight(rot[i], rot[main]): rotate90CW(vec1) . vec2 < 0
                float tx = rvy[i];
                float ty = -rvx[i];
                if (tx * rvx[mainElement] + ty * rvy[mainElement] < 0) {
                    mainElement = i;
                }
            }
            int pindex = seq[mainElement];
            float leadX = vx[pindex] * invLen[pindex];
            float leadY = vy[pindex] * invLen[pindex];
            switch (mainElement) {
                case 0:
                    baseA = leadX;
                    baseB = leadY;
                    break;
                case 1:
                    baseA = leadY;
                    baseB = -leadX;
                    break;
                case 2:
                    baseA = -leadX;
                    baseB = -leadY;
                    break;
                default:
                    baseA = -leadY;
                    baseB = leadX;
                    break;
            }
            seq[mainElement] += 1;
            seq[mainElement] = seq[mainElement] == n ? 0 : seq[mainElement];

            float dx = px[seq[1]] - px[seq[3]];
            float dy = py[seq[1]] - py[seq[3]];
            float width = dx * baseA + dy * baseB;
            dx = px[seq[2]] - px[seq[0]];
            dy = py[seq[2]] - py[seq[0]];
            float height = -dx * baseB + dy * baseA;
            float area = width * height;
            if (area <= minarea) {
                minarea = area;
                bufLeft = seq[3];
                bufA = baseA;
                bufW = width;
                bufB = baseB;
                bufH = height;
                bufBottom = seq[0];
            }
        }
        float a1 = bufA;
        float b1 = bufB;
        float a2 = -bufB;
        float b2 = bufA;
        float c1 = a1 * px[bufLeft] + py[bufLeft] * b1;
        float c2 = a2 * px[bufBottom] + py[bufBottom] * b2;
        float idet = 1.f / (a1 * b2 - a2 * b1);
        float ox = (c1 * b2 - c2 * b1) * idet;
        float oy = (a1 * c2 - a2 * c1) * idet;
        return new float[] {ox, oy, a1 * bufW, b1 * bufW, a2 * bufH, b2 * bufH};
    }

    // ---- fillPoly (8-connected, shift 0) and masked mean ----------------------------------------

    private static final int XY_SHIFT = 16;
    private static final long XY_ONE = 1L << XY_SHIFT;

    private static final class PolyEdge {
        int y0;
        int y1;
        long x;
        long dx;
        PolyEdge next;
    }

    /** {@code cv2.fillPoly(mask, [pts], 1)} on a {@code w x h} byte mask; pts {x0, y0, ...} integers. */
    public static void fillPoly(byte[] mask, int w, int h, int[] pts) {
        int count = pts.length / 2;
        List<PolyEdge> edges = new ArrayList<PolyEdge>(count + 1);
        long p0x = ((long) pts[2 * (count - 1)]) << XY_SHIFT;
        long p0y = pts[2 * (count - 1) + 1];
        for (int i = 0; i < count; i++) {
            long p1x = ((long) pts[2 * i]) << XY_SHIFT;
            long p1y = pts[2 * i + 1];
            long c0x = p0x;
            long c0y = p0y;
            long c1x = p1x;
            long c1y = p1y;
            long[] t = {(p0x + (XY_ONE >> 1)) >> XY_SHIFT, p0y, (p1x + (XY_ONE >> 1)) >> XY_SHIFT, p1y};
            line(mask, w, h, (int) t[0], (int) t[1], (int) t[2], (int) t[3]);
            if (t[0] < 0 || t[0] >= w || t[2] < 0 || t[2] >= w || t[1] < 0 || t[1] >= h || t[3] < 0 || t[3] >= h) {
                clipLine(w, h, t);
                if (t[1] != t[3]) {
                    c0y = t[1];
                    c1y = t[3];
                    c0x = t[0] << XY_SHIFT;
                    c1x = t[2] << XY_SHIFT;
                }
            } else {
                c0x += XY_ONE >> 1;
                c1x += XY_ONE >> 1;
            }
            if (p0y != p1y) {
                PolyEdge e = new PolyEdge();
                e.dx = (c1x - c0x) / (c1y - c0y);
                if (p0y < p1y) {
                    e.y0 = (int) p0y;
                    e.y1 = (int) p1y;
                    e.x = c0x + (p0y - c0y) * e.dx;
                } else {
                    e.y0 = (int) p1y;
                    e.y1 = (int) p0y;
                    e.x = c1x + (p1y - c1y) * e.dx;
                }
                edges.add(e);
            }
            p0x = p1x;
            p0y = p1y;
        }
        fillEdgeCollection(mask, w, h, edges);
    }

    private static void fillEdgeCollection(byte[] mask, int w, int h, List<PolyEdge> edges) {
        int total = edges.size();
        if (total < 2) {
            return;
        }
        int yMax = Integer.MIN_VALUE;
        int yMin = Integer.MAX_VALUE;
        long xMax = -1L;
        long xMin = Long.MAX_VALUE;
        for (int i = 0; i < total; i++) {
            PolyEdge e1 = edges.get(i);
            long x1 = e1.x + (e1.y1 - e1.y0) * e1.dx;
            yMin = Math.min(yMin, e1.y0);
            yMax = Math.max(yMax, e1.y1);
            xMin = Math.min(xMin, e1.x);
            xMax = Math.max(xMax, e1.x);
            xMin = Math.min(xMin, x1);
            xMax = Math.max(xMax, x1);
        }
        if (yMax < 0 || yMin >= h || xMax < 0 || xMin >= ((long) w << XY_SHIFT)) {
            return;
        }
        Collections.sort(edges, new Comparator<PolyEdge>() {
            @Override
            public int compare(PolyEdge e1, PolyEdge e2) {
                if (e1.y0 != e2.y0) {
                    return e1.y0 < e2.y0 ? -1 : 1;
                }
                if (e1.x != e2.x) {
                    return e1.x < e2.x ? -1 : 1;
                }
                return e1.dx < e2.dx ? -1 : (e1.dx == e2.dx ? 0 : 1);
            }
        });
        PolyEdge sentinel = new PolyEdge();
        sentinel.y0 = Integer.MAX_VALUE;
        edges.add(sentinel);
        PolyEdge tmp = new PolyEdge();
        int i = 0;
        tmp.next = null;
        PolyEdge e = edges.get(i);
        yMax = Math.min(yMax, h);
        for (int y = e.y0; y < yMax; y++) {
            PolyEdge last;
            PolyEdge prelast;
            PolyEdge keepPrelast;
            boolean draw = false;
            boolean clipline = y < 0;
            prelast = tmp;
            last = tmp.next;
            while (last != null || e.y0 == y) {
                if (last != null && last.y1 == y) {
                    prelast.next = last.next;
                    last = last.next;
                    continue;
                }
                keepPrelast = prelast;
                if (last != null && (e.y0 > y || last.x < e.x)) {
                    prelast = last;
                    last = last.next;
                } else if (i < total) {
                    prelast.next = e;
                    e.next = last;
                    prelast = e;
                    e = edges.get(++i);
                } else {
                    break;
                }
                if (draw) {
                    if (!clipline) {
                        int x1;
                        int x2;
                        if (keepPrelast.x > prelast.x) {
                            x1 = (int) (prelast.x >> XY_SHIFT);
                            x2 = (int) (keepPrelast.x >> XY_SHIFT);
                        } else {
                            x1 = (int) (keepPrelast.x >> XY_SHIFT);
                            x2 = (int) (prelast.x >> XY_SHIFT);
                        }
                        if (x1 < w && x2 >= 0) {
                            if (x1 < 0) {
                                x1 = 0;
                            }
                            if (x2 >= w) {
                                x2 = w - 1;
                            }
                            for (int x = x1; x <= x2; x++) {
                                mask[y * w + x] = 1;
                            }
                        }
                    }
                    keepPrelast.x += keepPrelast.dx;
                    prelast.x += prelast.dx;
                }
                draw = !draw;
            }
            // bubble sort the active edges by x
            keepPrelast = null;
            do {
                prelast = tmp;
                last = tmp.next;
                PolyEdge lastExchange = null;
                while (last != keepPrelast && last.next != null) {
                    PolyEdge te = last.next;
                    if (last.x > te.x) {
                        prelast.next = te;
                        last.next = te.next;
                        te.next = last;
                        prelast = te;
                        lastExchange = prelast;
                    } else {
                        prelast = last;
                        last = te;
                    }
                }
                if (lastExchange == null) {
                    break;
                }
                keepPrelast = lastExchange;
            } while (keepPrelast != tmp.next && keepPrelast != tmp);
        }
    }

    /** {@code Line(img, p0, p1, color, 8)} with a LineIterator (leftToRight), value 1. */
    private static void line(byte[] mask, int w, int h, int x1, int y1, int x2, int y2) {
        long[] t = {x1, y1, x2, y2};
        if (x1 < 0 || x1 >= w || x2 < 0 || x2 >= w || y1 < 0 || y1 >= h || y2 < 0 || y2 >= h) {
            if (!clipLine(w, h, t)) {
                return;
            }
        }
        int px = (int) t[0];
        int py = (int) t[1];
        int dx = (int) (t[2] - t[0]);
        int dy = (int) (t[3] - t[1]);
        int deltaX = 1;
        int deltaY = 1;
        if (dx < 0) {
            dx = -dx;
            dy = -dy;
            px = (int) t[2];
            py = (int) t[3];
        }
        if (dy < 0) {
            dy = -dy;
            deltaY = -1;
        }
        boolean vert = dy > dx;
        if (vert) {
            int s = dx;
            dx = dy;
            dy = s;
            s = deltaX;
            deltaX = deltaY;
            deltaY = s;
        }
        int err = dx - (dy + dy);
        int plusDelta = dx + dx;
        int minusDelta = -(dy + dy);
        int minusShift = deltaX;
        int plusShift = 0;
        int minusStep = 0;
        int plusStep = deltaY;
        int count = dx + 1;
        if (vert) {
            int s = plusStep;
            plusStep = plusShift;
            plusShift = s;
            s = minusStep;
            minusStep = minusShift;
            minusShift = s;
        }
        for (int i = 0; i < count; i++) {
            mask[py * w + px] = 1;
            int m = err < 0 ? -1 : 0;
            err += minusDelta + (plusDelta & m);
            px += minusShift + (plusShift & m);
            py += minusStep + (plusStep & m);
        }
    }

    /** {@code clipLine(Size2l, pt1, pt2)} on {x1, y1, x2, y2}; false when the line is fully outside. */
    static boolean clipLine(int width, int height, long[] p) {
        long right = width - 1;
        long bottom = height - 1;
        if (width <= 0 || height <= 0) {
            return false;
        }
        int c1 = (p[0] < 0 ? 1 : 0) + (p[0] > right ? 2 : 0) + (p[1] < 0 ? 4 : 0) + (p[1] > bottom ? 8 : 0);
        int c2 = (p[2] < 0 ? 1 : 0) + (p[2] > right ? 2 : 0) + (p[3] < 0 ? 4 : 0) + (p[3] > bottom ? 8 : 0);
        if ((c1 & c2) == 0 && (c1 | c2) != 0) {
            long a;
            if ((c1 & 12) != 0) {
                a = c1 < 8 ? 0 : bottom;
                p[0] += (long) ((double) (a - p[1]) * (p[2] - p[0]) / (p[3] - p[1]));
                p[1] = a;
                c1 = (p[0] < 0 ? 1 : 0) + (p[0] > right ? 2 : 0);
            }
            if ((c2 & 12) != 0) {
                a = c2 < 8 ? 0 : bottom;
                p[2] += (long) ((double) (a - p[3]) * (p[2] - p[0]) / (p[3] - p[1]));
                p[3] = a;
                c2 = (p[2] < 0 ? 1 : 0) + (p[2] > right ? 2 : 0);
            }
            if ((c1 & c2) == 0 && (c1 | c2) != 0) {
                if (c1 != 0) {
                    a = c1 == 1 ? 0 : right;
                    p[1] += (long) ((double) (a - p[0]) * (p[3] - p[1]) / (p[2] - p[0]));
                    p[0] = a;
                    c1 = 0;
                }
                if (c2 != 0) {
                    a = c2 == 1 ? 0 : right;
                    p[3] += (long) ((double) (a - p[2]) * (p[3] - p[1]) / (p[2] - p[0]));
                    p[2] = a;
                    c2 = 0;
                }
            }
        }
        return (c1 | c2) == 0;
    }
}
