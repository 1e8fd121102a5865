package org.edgeocr.core;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.Test;

/** box_score_fast, unclip (pyclipper) and db_postprocess + sort_order end to end, against the Python runtime. */
public class DbPostprocessTest {
    @Test
    public void boxScoreFastMatches() throws Exception {
        List<Map<String, Object>> cases = Fixtures.cases("scores");
        assertTrue(cases.size() >= 50);
        for (Map<String, Object> c : cases) {
            float[][] quad = Fixtures.points(c.get("quad"));
            double s = DbPostprocess.boxScoreFast(Fixtures.floats(c, "pred"), Fixtures.i(c, "w"), Fixtures.i(c, "h"), quad);
            assertEquals("score of " + c.get("quad"), Fixtures.d(c.get("score")), s, 1e-6);
        }
    }

    @Test
    public void polygonAreaLengthIsBitIdentical() throws Exception {
        for (Map<String, Object> c : Fixtures.cases("scores")) {
            double[] al = DbPostprocess.polygonAreaLength(Fixtures.points(c.get("quad")));
            assertEquals(Fixtures.d(c.get("area")), al[0], 0.0);
            assertEquals(Fixtures.d(c.get("length")), al[1], 0.0);
        }
    }

    @Test
    public void unclipMatchesPyclipper() throws Exception {
        int compared = 0;
        for (Map<String, Object> c : Fixtures.cases("scores")) {
            float[][] quad = Fixtures.points(c.get("quad"));
            long[] mine = DbPostprocess.unclip(quad, 1.5);
            // Clipper's final union only removes points: every point pyclipper returns is one of ours
            Set<String> ours = new HashSet<String>();
            for (int i = 0; i < mine.length; i += 2) {
                ours.add(mine[i] + "," + mine[i + 1]);
            }
            @SuppressWarnings("unchecked")
            List<Object> offset = (List<Object>) c.get("offset");
            for (Object p : offset) {
                int[] xy = Fixtures.ints(p);
                assertTrue("pyclipper point " + xy[0] + "," + xy[1] + " of " + c.get("quad"), ours.contains(xy[0] + "," + xy[1]));
            }
            if (c.containsKey("unclip_box")) {
                DbPostprocess.MiniBox mb = DbPostprocess.getMiniBoxes(mine);
                float[][] eb = Fixtures.points(c.get("unclip_box"));
                for (int i = 0; i < 4; i++) {
                    assertArrayEquals("unclipped box corner " + i + " of " + c.get("quad"), eb[i], mb.box[i], 0f);
                }
                assertEquals((float) Fixtures.d(c.get("unclip_sside")), mb.sside, 0f);
                compared++;
            }
        }
        assertTrue(compared > 40);
    }

    @Test
    public void dbPostprocessAndSortMatchEndToEnd() throws Exception {
        int boxes = 0;
        Manifest.DetParams p = Fixtures.detParams("max", 960);
        for (Map<String, Object> c : Fixtures.cases("db")) {
            int w = Fixtures.i(c, "w");
            int h = Fixtures.i(c, "h");
            Tensor map = new Tensor(Fixtures.floats(c, "pred"), new long[] {1, 1, h, w});
            List<float[][]> got = DbPostprocess.postprocess(map, Fixtures.i(c, "src_h"), Fixtures.i(c, "src_w"), p);
            @SuppressWarnings("unchecked")
            List<Object> expected = (List<Object>) c.get("boxes");
            assertEquals("number of boxes", expected.size(), got.size());
            for (int k = 0; k < got.size(); k++) {
                float[][] eb = Fixtures.points(expected.get(k));
                for (int i = 0; i < 4; i++) {
                    assertArrayEquals("box " + k + " corner " + i, eb[i], got.get(k)[i], 0f);
                }
            }
            List<Integer> order = BoxSort.sortOrder(got);
            List<Integer> exp = new ArrayList<Integer>();
            for (int v : Fixtures.ints(c.get("order"))) {
                exp.add(v);
            }
            assertEquals("reading order", exp, order);
            boxes += got.size();
        }
        assertTrue("the fixtures must produce boxes, got " + boxes, boxes > 20);
    }

    @Test
    public void orderPointsClockwise() {
        float[][] r = DbPostprocess.orderPointsClockwise(new int[] {10, 20, 0, 0, 10, 0, 0, 20});
        assertArrayEquals(new float[] {0, 0}, r[0], 0f);
        assertArrayEquals(new float[] {10, 0}, r[1], 0f);
        assertArrayEquals(new float[] {10, 20}, r[2], 0f);
        assertArrayEquals(new float[] {0, 20}, r[3], 0f);
    }

    @Test
    public void dilationTakesTheMaxOfLeftAndUp() {
        byte[] b = new byte[9];
        b[4] = 1;
        byte[] d = DbPostprocess.dilate2x2(b, 3, 3);
        assertArrayEquals(new byte[] {0, 0, 0, 0, 1, 1, 0, 1, 1}, d);
    }
}
