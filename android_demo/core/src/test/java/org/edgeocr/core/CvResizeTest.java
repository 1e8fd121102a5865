package org.edgeocr.core;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.Test;

/** CvResize against cv2.resize (INTER_LINEAR, uint8): every byte equal. */
public class CvResizeTest {
    @Test
    public void matchesOpenCvBitForBit() throws Exception {
        List<Map<String, Object>> cases = Fixtures.cases("resize");
        assertTrue(cases.size() >= 20);
        for (Map<String, Object> c : cases) {
            int sw = Fixtures.i(c, "sw");
            int sh = Fixtures.i(c, "sh");
            int dw = Fixtures.i(c, "dw");
            int dh = Fixtures.i(c, "dh");
            byte[] out = CvResize.resizeLinear(Fixtures.bytes(c, "src"), sw, sh, 3, dw, dh);
            assertArrayEquals("resize " + sw + "x" + sh + " -> " + dw + "x" + dh, Fixtures.bytes(c, "dst"), out);
        }
    }

    @Test
    public void sameSizeIsACopy() {
        byte[] src = {1, 2, 3, 4, 5, 6};
        byte[] out = CvResize.resizeLinear(src, 2, 1, 3, 2, 1);
        assertArrayEquals(src, out);
        assertTrue(out != src);
    }

    @Test(expected = IllegalArgumentException.class)
    public void emptySizeIsRefused() {
        CvResize.resizeLinear(new byte[3], 1, 1, 3, 0, 5);
    }
}
