package org.edgeocr.core;

/**
 * {@code pyclipper.PyclipperOffset()} (miter limit 2, arc tolerance 0.25) with one closed polygon and
 * round joins, as DB's {@code unclip} uses it: Clipper 6.4's {@code ClipperOffset::DoOffset}.
 *
 * <p>Input points are truncated to integers first, as pyclipper converts Python floats to {@code cInt}.
 * Clipper's final union pass is not reproduced: for the convex input DB gives it, it only drops duplicate
 * or collinear vertices and picks a start vertex, which does not change the minimum-area rectangle taken
 * right after (that works on the convex hull).
 */
public final class ClipperOffset {
    private static final double ARC_TOLERANCE = 0.25;
    private static final double DEF_ARC_TOLERANCE = 0.25;

    private ClipperOffset() {
    }

    /** Offset polygon {x0, y0, ...} (integers) of the closed polygon {@code pts} (floats) by {@code delta}. */
    public static long[] offsetRound(float[][] pts, double delta) {
        int n = pts.length;
        long[] px = new long[n];
        long[] py = new long[n];
        for (int i = 0; i < n; i++) {
            px[i] = (long) pts[i][0];
            py[i] = (long) pts[i][1];
        }
        // AddPath: strip duplicates (closing and consecutive), find the lowest point
        int highI = n - 1;
        while (highI > 0 && px[0] == px[highI] && py[0] == py[highI]) {
            highI--;
        }
        long[] cx = new long[highI + 1];
        long[] cy = new long[highI + 1];
        cx[0] = px[0];
        cy[0] = py[0];
        int j = 0;
        for (int i = 1; i <= highI; i++) {
            if (cx[j] != px[i] || cy[j] != py[i]) {
                j++;
                cx[j] = px[i];
                cy[j] = py[i];
            }
        }
        int len = j + 1;
        if (len < 3) {
            return new long[0];
        }
        // FixOrientations: a closed polygon with negative orientation is reversed
        if (area(cx, cy, len) < 0) {
            for (int a = 0, b = len - 1; a < b; a++, b--) {
                long t = cx[a];
                cx[a] = cx[b];
                cx[b] = t;
                t = cy[a];
                cy[a] = cy[b];
                cy[b] = t;
            }
        }
        if (Math.abs(delta) < 1.0E-20) {
            long[] out = new long[2 * len];
            for (int i = 0; i < len; i++) {
                out[2 * i] = cx[i];
                out[2 * i + 1] = cy[i];
            }
            return out;
        }
        double y;
        if (ARC_TOLERANCE <= 0.0) {
            y = DEF_ARC_TOLERANCE;
        } else if (ARC_TOLERANCE > Math.abs(delta) * DEF_ARC_TOLERANCE) {
            y = Math.abs(delta) * DEF_ARC_TOLERANCE;
        } else {
            y = ARC_TOLERANCE;
        }
        double steps = Math.PI / Math.acos(1 - y / Math.abs(delta));
        if (steps > Math.abs(delta) * Math.PI) {
            steps = Math.abs(delta) * Math.PI;
        }
        double sin = Math.sin(2 * Math.PI / steps);
        double cos = Math.cos(2 * Math.PI / steps);
        double stepsPerRad = steps / (2 * Math.PI);
        if (delta < 0.0) {
            sin = -sin;
        }
        if (delta <= 0) {
            // DB only grows boxes; a non-positive distance (degenerate box) leaves nothing, as Clipper's union would
            return new long[0];
        }
        double[] nx = new double[len];
        double[] ny = new double[len];
        for (int i = 0; i < len; i++) {
            int k = i + 1 < len ? i + 1 : 0;
            unitNormal(cx[i], cy[i], cx[k], cy[k], nx, ny, i);
        }
        LongList out = new LongList();
        int k = len - 1;
        for (int jj = 0; jj < len; jj++) {
            // OffsetPoint(jj, k, jtRound)
            double sinA = nx[k] * ny[jj] - nx[jj] * ny[k];
            boolean done = false;
            if (Math.abs(sinA * delta) < 1.0) {
                double cosA = nx[k] * nx[jj] + ny[jj] * ny[k];
                if (cosA > 0) {
                    out.add(round(cx[jj] + nx[k] * delta), round(cy[jj] + ny[k] * delta));
                    done = true; // note: Clipper returns here without updating k
                }
            } else if (sinA > 1.0) {
                sinA = 1.0;
            } else if (sinA < -1.0) {
                sinA = -1.0;
            }
            if (done) {
                continue;
            }
            if (sinA * delta < 0) {
                out.add(round(cx[jj] + nx[k] * delta), round(cy[jj] + ny[k] * delta));
                out.add(cx[jj], cy[jj]);
                out.add(round(cx[jj] + nx[jj] * delta), round(cy[jj] + ny[jj] * delta));
            } else {
                // DoRound(jj, k)
                double a = Math.atan2(sinA, nx[k] * nx[jj] + ny[k] * ny[jj]);
                int st = Math.max((int) round(stepsPerRad * Math.abs(a)), 1);
                double x = nx[k];
                double yy = ny[k];
                for (int i = 0; i < st; ++i) {
                    out.add(round(cx[jj] + x * delta), round(cy[jj] + yy * delta));
                    double x2 = x;
                    x = x * cos - sin * yy;
                    yy = x2 * sin + yy * cos;
                }
                out.add(round(cx[jj] + nx[jj] * delta), round(cy[jj] + ny[jj] * delta));
            }
            k = jj;
        }
        return out.toArray();
    }

    private static void unitNormal(long x1, long y1, long x2, long y2, double[] nx, double[] ny, int i) {
        if (x1 == x2 && y1 == y2) {
            nx[i] = 0;
            ny[i] = 0;
            return;
        }
        double dx = (double) (x2 - x1);
        double dy = (double) (y2 - y1);
        double f = 1 * 1.0 / Math.sqrt(dx * dx + dy * dy);
        dx *= f;
        dy *= f;
        nx[i] = dy;
        ny[i] = -dx;
    }

    /** Clipper's {@code Area}: positive for its "true" orientation. */
    private static double area(long[] x, long[] y, int n) {
        double a = 0;
        for (int i = 0, j = n - 1; i < n; ++i) {
            a += ((double) x[j] + x[i]) * ((double) y[j] - y[i]);
            j = i;
        }
        return -a * 0.5;
    }

    /** Clipper's {@code Round}: half away from zero, truncating cast. */
    static long round(double v) {
        return v < 0 ? (long) (v - 0.5) : (long) (v + 0.5);
    }

    /** Growable long array. */
    static final class LongList {
        private long[] data = new long[64];
        private int size;

        void add(long a, long b) {
            if (size + 2 > data.length) {
                long[] n = new long[data.length * 2];
                System.arraycopy(data, 0, n, 0, size);
                data = n;
            }
            data[size++] = a;
            data[size++] = b;
        }

        long[] toArray() {
            long[] r = new long[size];
            System.arraycopy(data, 0, r, 0, size);
            return r;
        }
    }
}
