package org.edgeocr.core;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.Test;

/** getPerspectiveTransform and the rotate-crop (warpPerspective cubic + replicate, rot90) against OpenCV. */
public class CvWarpTest {
    @Test
    public void perspectiveMatrixMatchesOpenCv() throws Exception {
        List<Map<String, Object>> cases = Fixtures.cases("warp");
        assertTrue(cases.size() >= 20);
        for (Map<String, Object> c : cases) {
            float[][] quad = Fixtures.points(c.get("quad"));
            int cw = (int) Math.max(DbPostprocess.norm(quad[0], quad[1]), DbPostprocess.norm(quad[2], quad[3]));
            int ch = (int) Math.max(DbPostprocess.norm(quad[0], quad[3]), DbPostprocess.norm(quad[1], quad[2]));
            float[][] std = {{0, 0}, {cw, 0}, {cw, ch}, {0, ch}};
            double[] m = CvWarp.getPerspectiveTransform(quad, std);
            double[] expected = Fixtures.doubles(c, "m");
            for (int k = 0; k < 9; k++) {
                assertEquals("M[" + k + "]", expected[k], m[k], 1e-12 * Math.max(1, Math.abs(expected[k])));
            }
        }
    }

    @Test
    public void rotateCropMatchesPythonRuntime() throws Exception {
        int exact = 0;
        List<Map<String, Object>> cases = Fixtures.cases("warp");
        for (Map<String, Object> c : cases) {
            BgrImage img = new BgrImage(Fixtures.i(c, "w"), Fixtures.i(c, "h"), Fixtures.bytes(c, "src"));
            BgrImage crop = Crops.rotateCrop(img, Fixtures.points(c.get("quad")));
            assertEquals("crop width", Fixtures.i(c, "cw"), crop.width);
            assertEquals("crop height", Fixtures.i(c, "ch"), crop.height);
            assertArrayEquals("crop pixels of quad " + c.get("quad"), Fixtures.bytes(c, "dst"), crop.data);
            exact++;
        }
        assertEquals(cases.size(), exact);
    }

    @Test
    public void invertIsTheInverse() {
        double[] m = {1.5, 0.2, 3, -0.1, 2, 7, 0.001, 0.002, 1};
        double[] inv = CvWarp.invert3x3(m);
        for (int r = 0; r < 3; r++) {
            for (int col = 0; col < 3; col++) {
                double s = 0;
                for (int k = 0; k < 3; k++) {
                    s += m[r * 3 + k] * inv[k * 3 + col];
                }
                assertEquals(r == col ? 1.0 : 0.0, s, 1e-12);
            }
        }
    }
}
