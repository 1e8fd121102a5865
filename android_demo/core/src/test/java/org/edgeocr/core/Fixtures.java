package org.edgeocr.core;

import static org.junit.Assert.fail;

import java.io.File;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/**
 * Golden values written by android_demo/tools/make_junit_fixtures.py from the Python runtime and OpenCV,
 * located by the system property {@code edgeocr.fixtures} (run-junit.sh sets it). Missing fixtures fail the
 * tests; they never skip.
 */
final class Fixtures {
    private static Map<String, Object> data;

    private Fixtures() {
    }

    @SuppressWarnings("unchecked")
    static synchronized Map<String, Object> all() throws Exception {
        if (data == null) {
            String path = System.getProperty("edgeocr.fixtures");
            if (path == null || !new File(path).isFile()) {
                fail("JUnit fixtures not found (system property edgeocr.fixtures=" + path
                        + "); run the tests with android_demo/tools/run-junit.sh");
            }
            data = (Map<String, Object>) Json.parse(new String(Manifest.readAll(new File(path)), "UTF-8"));
        }
        return data;
    }

    @SuppressWarnings("unchecked")
    static List<Map<String, Object>> cases(String name) throws Exception {
        return (List<Map<String, Object>>) all().get(name);
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> section(String name) throws Exception {
        return (Map<String, Object>) all().get(name);
    }

    static byte[] bytes(Map<String, Object> c, String key) {
        return Base64.getDecoder().decode((String) c.get(key));
    }

    static float[] floats(Map<String, Object> c, String key) {
        ByteBuffer b = ByteBuffer.wrap(bytes(c, key)).order(ByteOrder.LITTLE_ENDIAN);
        float[] r = new float[b.remaining() / 4];
        b.asFloatBuffer().get(r);
        return r;
    }

    static double[] doubles(Map<String, Object> c, String key) {
        ByteBuffer b = ByteBuffer.wrap(bytes(c, key)).order(ByteOrder.LITTLE_ENDIAN);
        double[] r = new double[b.remaining() / 8];
        b.asDoubleBuffer().get(r);
        return r;
    }

    static int i(Map<String, Object> c, String key) {
        return ((Number) c.get(key)).intValue();
    }

    static double d(Object o) {
        return ((Number) o).doubleValue();
    }

    /** [[x, y], ...] -> float[n][2]. */
    @SuppressWarnings("unchecked")
    static float[][] points(Object o) {
        List<Object> l = (List<Object>) o;
        float[][] r = new float[l.size()][2];
        for (int k = 0; k < l.size(); k++) {
            List<Object> p = (List<Object>) l.get(k);
            r[k][0] = (float) d(p.get(0));
            r[k][1] = (float) d(p.get(1));
        }
        return r;
    }

    @SuppressWarnings("unchecked")
    static int[] ints(Object o) {
        List<Object> l = (List<Object>) o;
        int[] r = new int[l.size()];
        for (int k = 0; k < r.length; k++) {
            r[k] = ((Number) l.get(k)).intValue();
        }
        return r;
    }

    /** A small Manifest.DetParams with PP-OCRv2's values, for unit tests (the engine reads them from a bundle). */
    static Manifest.DetParams detParams(String limitType, int limit) {
        Manifest.DetParams p = new Manifest.DetParams();
        p.limitSideLen = limit;
        p.limitType = limitType;
        p.mean = new float[] {0.485f, 0.456f, 0.406f};
        p.std = new float[] {0.229f, 0.224f, 0.225f};
        p.colorOrder = "BGR";
        p.thresh = 0.3;
        p.boxThresh = 0.6;
        p.unclipRatio = 1.5;
        p.maxCandidates = 1000;
        p.minSize = 3;
        p.scoreMode = "fast";
        p.useDilation = false;
        p.boxType = "quad";
        return p;
    }
}
