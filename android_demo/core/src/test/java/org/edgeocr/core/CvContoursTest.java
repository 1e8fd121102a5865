package org.edgeocr.core;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.Test;

/** findContours (RETR_LIST, CHAIN_APPROX_SIMPLE), minAreaRect and get_mini_boxes against OpenCV. */
public class CvContoursTest {
    @Test
    public void contoursMatchOpenCvPointForPoint() throws Exception {
        int total = 0;
        for (Map<String, Object> c : Fixtures.cases("contours")) {
            int w = Fixtures.i(c, "w");
            int h = Fixtures.i(c, "h");
            List<int[]> got = CvContours.findContoursListSimple(Fixtures.bytes(c, "bitmap"), w, h);
            @SuppressWarnings("unchecked")
            List<Object> expected = (List<Object>) c.get("contours");
            assertEquals("number of contours in a " + w + "x" + h + " bitmap", expected.size(), got.size());
            for (int k = 0; k < got.size(); k++) {
                assertArrayEquals("contour " + k + " of a " + w + "x" + h + " bitmap", Fixtures.ints(expected.get(k)),
                        got.get(k));
            }
            total += got.size();
        }
        assertTrue("the fixtures must exercise many contours, got " + total, total > 100);
    }

    @Test
    public void minAreaRectAndMiniBoxesMatchOpenCv() throws Exception {
        for (Map<String, Object> c : Fixtures.cases("contours")) {
            @SuppressWarnings("unchecked")
            List<Object> contours = (List<Object>) c.get("contours");
            @SuppressWarnings("unchecked")
            List<Object> rects = (List<Object>) c.get("rects");
            @SuppressWarnings("unchecked")
            List<Object> boxes = (List<Object>) c.get("mini_boxes");
            @SuppressWarnings("unchecked")
            List<Object> ssides = (List<Object>) c.get("ssides");
            for (int k = 0; k < contours.size(); k++) {
                int[] pts = Fixtures.ints(contours.get(k));
                long[] lp = new long[pts.length];
                for (int i = 0; i < pts.length; i++) {
                    lp[i] = pts[i];
                }
                CvGeometry.RotatedRect r = CvGeometry.minAreaRect(lp);
                @SuppressWarnings("unchecked")
                List<Object> e = (List<Object>) rects.get(k);
                String what = "minAreaRect of contour " + k + " " + java.util.Arrays.toString(pts);
                assertEquals(what + " cx", (float) Fixtures.d(e.get(0)), r.cx, 0f);
                assertEquals(what + " cy", (float) Fixtures.d(e.get(1)), r.cy, 0f);
                assertEquals(what + " w", (float) Fixtures.d(e.get(2)), r.width, 0f);
                assertEquals(what + " h", (float) Fixtures.d(e.get(3)), r.height, 0f);
                assertEquals(what + " angle", (float) Fixtures.d(e.get(4)), r.angle, 0f);
                DbPostprocess.MiniBox mb = DbPostprocess.getMiniBoxes(lp);
                float[][] eb = Fixtures.points(boxes.get(k));
                for (int i = 0; i < 4; i++) {
                    assertArrayEquals(what + " mini box corner " + i, eb[i], mb.box[i], 0f);
                }
                assertEquals(what + " short side", (float) Fixtures.d(ssides.get(k)), mb.sside, 0f);
            }
        }
    }

    @Test
    public void singlePixelAndFullImage() {
        List<int[]> one = CvContours.findContoursListSimple(new byte[] {0, 0, 0, 0, 1, 0, 0, 0, 0}, 3, 3);
        assertEquals(1, one.size());
        assertArrayEquals(new int[] {1, 1}, one.get(0));
        byte[] full = new byte[12];
        java.util.Arrays.fill(full, (byte) 1);
        List<int[]> rect = CvContours.findContoursListSimple(full, 4, 3);
        assertEquals(1, rect.size());
        assertArrayEquals(new int[] {0, 0, 0, 2, 3, 2, 3, 0}, rect.get(0));
    }
}
