package org.edgeocr.core;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;

import java.util.List;
import java.util.Map;
import org.junit.Test;

/** Det resize rule and normalization, rec/cls line input, CTC decoding, pixel-buffer conversions. */
public class StagesTest {
    @Test
    public void detResizeRuleMatches() throws Exception {
        Map<String, Object> d = Fixtures.section("det");
        @SuppressWarnings("unchecked")
        List<Object> sizes = (List<Object>) d.get("sizes");
        @SuppressWarnings("unchecked")
        List<Object> max = (List<Object>) d.get("max");
        @SuppressWarnings("unchecked")
        List<Object> min = (List<Object>) d.get("min");
        for (int k = 0; k < sizes.size(); k++) {
            int[] hw = Fixtures.ints(sizes.get(k));
            assertArrayEquals("max rule for " + hw[0] + "x" + hw[1], Fixtures.ints(max.get(k)),
                    DetPreprocess.resizeHw(hw[0], hw[1], Fixtures.detParams("max", 960)));
            assertArrayEquals("min rule for " + hw[0] + "x" + hw[1], Fixtures.ints(min.get(k)),
                    DetPreprocess.resizeHw(hw[0], hw[1], Fixtures.detParams("min", 736)));
        }
    }

    @Test
    public void detNormalizationIsBitIdentical() throws Exception {
        Map<String, Object> d = Fixtures.section("det");
        float[] expected = Fixtures.floats(d, "normalized"); // [1, 3, 1, 256]
        float[][] lut = DetPreprocess.normalizeLut(new float[] {0.485f, 0.456f, 0.406f}, new float[] {0.229f, 0.224f, 0.225f});
        for (int c = 0; c < 3; c++) {
            for (int v = 0; v < 256; v++) {
                assertEquals("channel " + c + " value " + v, Float.floatToIntBits(expected[c * 256 + v]),
                        Float.floatToIntBits(lut[c][v]));
            }
        }
    }

    @Test
    public void detPreprocessPadsTinyImagesAndRefusesHugeInputs() throws Exception {
        BgrImage tiny = new BgrImage(5, 4, new byte[5 * 4 * 3]);
        Tensor t = DetPreprocess.preprocess(tiny, Fixtures.detParams("max", 960));
        assertArrayEquals(new long[] {1, 3, 32, 32}, t.shape);
        try {
            DetPreprocess.preprocess(new BgrImage(4, 3000, new byte[4 * 3000 * 3]), Fixtures.detParams("min", 4000));
            org.junit.Assert.fail("a 4x3000 image at limit_type=min 4000 needs a 4000x3000000 input and must be refused");
        } catch (OcrException e) {
            org.junit.Assert.assertTrue(e.getMessage(), e.getMessage().contains("over the cap"));
        }
    }

    @Test
    public void recLineInputIsBitIdentical() throws Exception {
        for (Map<String, Object> c : Fixtures.cases("rec")) {
            BgrImage crop = new BgrImage(Fixtures.i(c, "w"), Fixtures.i(c, "h"), Fixtures.bytes(c, "src"));
            int w = (int) (32 * Fixtures.d(c.get("ratio")));
            assertEquals(Fixtures.i(c, "out_w"), w);
            float[] out = new float[3 * 32 * w];
            LinePreprocess.fill(out, 0, crop, 32, w);
            float[] expected = Fixtures.floats(c, "out");
            for (int i = 0; i < out.length; i++) {
                if (Float.floatToIntBits(expected[i]) != Float.floatToIntBits(out[i])) {
                    org.junit.Assert.fail("crop " + crop.width + "x" + crop.height + " value " + i + ": expected "
                            + expected[i] + ", got " + out[i]);
                }
            }
        }
    }

    @Test
    public void ctcDecodingMatches() throws Exception {
        Map<String, Object> c = Fixtures.section("ctc");
        @SuppressWarnings("unchecked")
        List<Object> chars = (List<Object>) c.get("chars");
        CtcDecoder dec = new CtcDecoder(chars.toArray(new String[0]));
        int[] shape = Fixtures.ints(c.get("shape"));
        Tensor probs = new Tensor(Fixtures.floats(c, "probs"), new long[] {shape[0], shape[1], shape[2]});
        List<Object[]> got = dec.decode(probs, new java.io.File("dict.txt"));
        @SuppressWarnings("unchecked")
        List<Object> texts = (List<Object>) c.get("texts");
        @SuppressWarnings("unchecked")
        List<Object> scores = (List<Object>) c.get("scores");
        for (int i = 0; i < got.size(); i++) {
            assertEquals(texts.get(i), got.get(i)[0]);
            assertEquals((float) Fixtures.d(scores.get(i)), (Float) got.get(i)[1], 1e-6f);
        }
        assertEquals("", got.get(1)[0]);
        assertEquals(0f, (Float) got.get(1)[1], 0f);
    }

    @Test(expected = OcrException.class)
    public void ctcRefusesAMismatchedDictionary() throws Exception {
        new CtcDecoder(new String[] {"blank", "a", " "}).decode(new Tensor(new float[8], new long[] {1, 2, 4}),
                new java.io.File("dict.txt"));
    }

    @Test
    public void argbAlphaIsBlendedOntoWhiteLikePaddleOcr() {
        // alpha 128 over white: int(255 * (1 - a/255) + v * a/255)
        int[] argb = {0xFF102030, 0x80000000 | (200 << 16) | (100 << 8) | 50};
        BgrImage img = BgrImage.fromArgb(argb, 2, 1);
        assertArrayEquals(new byte[] {0x30, 0x20, 0x10, (byte) 152, (byte) 177, (byte) 227}, img.data);
    }

    @Test
    public void rotations() {
        byte[] d = new byte[2 * 3 * 3];
        for (int i = 0; i < 6; i++) {
            d[3 * i] = (byte) i;
        }
        BgrImage img = new BgrImage(3, 2, d); // rows [0 1 2] [3 4 5]
        BgrImage r90 = img.rot90(); // np.rot90: rows [2 5] [1 4] [0 3]
        assertEquals(2, r90.width);
        assertEquals(3, r90.height);
        byte[] firstChannel = new byte[6];
        for (int i = 0; i < 6; i++) {
            firstChannel[i] = r90.data[3 * i];
        }
        assertArrayEquals(new byte[] {2, 5, 1, 4, 0, 3}, firstChannel);
        BgrImage r180 = img.rotate180();
        for (int i = 0; i < 6; i++) {
            assertEquals(5 - i, r180.data[3 * i]);
        }
    }
}
