package org.edgeocr.core;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.File;
import java.util.ArrayList;
import java.util.List;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/**
 * The pipeline glue with scripted backends (no ONNX Runtime): det map -> box, crop -> cls (180 turn) ->
 * rec batch shape -> CTC text -> drop_score, timings. The real models are checked by the pytest parity test.
 */
public class OcrEngineTest {
    @Rule
    public TemporaryFolder tmp = new TemporaryFolder();

    /** Records every input it gets and answers with a scripted output. */
    abstract static class Fake implements InferenceBackend {
        final List<long[]> shapes = new ArrayList<long[]>();

        @Override
        public Tensor run(Tensor input) {
            shapes.add(input.shape);
            return answer(input);
        }

        abstract Tensor answer(Tensor input);

        @Override
        public void close() {
        }
    }

    private OcrEngine engine(final Fake det, final Fake cls, final Fake rec) throws Exception {
        File dir = ManifestTest.bundleIn(tmp.newFolder(), ManifestTest.PARAMS_DET);
        return OcrEngine.load(dir, 1, true, new InferenceBackend.Factory() {
            @Override
            public InferenceBackend open(File model, String inputName, int threads) {
                assertEquals("x", inputName);
                return model.getName().startsWith("det") ? det : (model.getName().startsWith("cls") ? cls : rec);
            }
        });
    }

    private static Fake detWithBar() {
        return new Fake() {
            @Override
            Tensor answer(Tensor in) {
                int h = in.dim(2);
                int w = in.dim(3);
                float[] map = new float[h * w];
                for (int y = h / 4; y < h / 2; y++) {
                    for (int x = w / 8; x < w * 7 / 8; x++) {
                        map[y * w + x] = 0.95f;
                    }
                }
                return new Tensor(map, new long[] {1, 1, h, w});
            }
        };
    }

    private static Fake cls(final float p180) {
        return new Fake() {
            @Override
            Tensor answer(Tensor in) {
                int n = in.dim(0);
                float[] p = new float[n * 2];
                for (int i = 0; i < n; i++) {
                    p[2 * i] = 1 - p180;
                    p[2 * i + 1] = p180;
                }
                return new Tensor(p, new long[] {n, 2});
            }
        };
    }

    /** 4 classes (blank, a, b, space): steps "a a blank b" with probability {@code p}. */
    private static Fake rec(final float p) {
        return new Fake() {
            @Override
            Tensor answer(Tensor in) {
                int n = in.dim(0);
                int t = 4;
                float[] d = new float[n * t * 4];
                int[] seq = {1, 1, 0, 2};
                for (int i = 0; i < n; i++) {
                    for (int s = 0; s < t; s++) {
                        for (int k = 0; k < 4; k++) {
                            d[(i * t + s) * 4 + k] = k == seq[s] ? p : (1 - p) / 3;
                        }
                    }
                }
                return new Tensor(d, new long[] {n, t, 4});
            }
        };
    }

    @Test
    public void oneLineThroughEveryStage() throws Exception {
        Fake det = detWithBar();
        Fake cls = cls(0.95f);
        Fake rec = rec(0.8f);
        OcrEngine e = engine(det, cls, rec);
        int w = 200;
        int h = 64;
        int[] argb = new int[w * h];
        java.util.Arrays.fill(argb, 0xFFFFFFFF);
        OcrResult r = e.run(argb, w, h);
        assertArrayEquals(new long[] {1, 3, 64, 192}, det.shapes.get(0)); // 200x64 -> rounded to 32
        assertEquals(1, r.lines.size());
        assertEquals("ab", r.lines.get(0).text);
        assertEquals(0.8f, r.lines.get(0).score, 1e-6f);
        assertArrayEquals(new long[] {1, 3, 48, 192}, cls.shapes.get(0));
        long[] recShape = rec.shapes.get(0);
        assertEquals(32, recShape[2]);
        assertTrue("rec batch width >= 320", recShape[3] >= 320);
        float[][] box = r.lines.get(0).box;
        assertTrue(box[0][0] < box[1][0] && box[0][1] < box[3][1]);
        assertTrue(r.totalMs >= r.detMs && r.detMs >= 0 && r.recMs >= 0 && r.clsMs >= 0);
        assertEquals("onnx-fp32", e.variant());
        e.close();
    }

    @Test
    public void dropScoreRemovesWeakLines() throws Exception {
        OcrEngine e = engine(detWithBar(), cls(0.1f), rec(0.4f)); // 0.4 < drop_score 0.5
        OcrResult r = e.run(new byte[200 * 64 * 3], 200, 64);
        assertEquals(0, r.lines.size());
    }

    @Test
    public void badPixelBuffersAreOneLineErrors() throws Exception {
        OcrEngine e = engine(detWithBar(), cls(0.1f), rec(0.9f));
        try {
            e.run(new int[10], 5, 5);
            org.junit.Assert.fail("a 10-pixel buffer for a 5x5 image must be refused");
        } catch (OcrException ex) {
            assertTrue(ex.getMessage(), ex.getMessage().contains("ARGB buffer holds 10 pixels"));
        }
        try {
            e.run(new byte[0], 0, 0);
            org.junit.Assert.fail("an empty image must be refused");
        } catch (OcrException ex) {
            assertTrue(ex.getMessage(), ex.getMessage().contains("has no pixels"));
        }
    }

    @Test
    public void noTextNoClsNoRecBatch() throws Exception {
        Fake det = new Fake() {
            @Override
            Tensor answer(Tensor in) {
                return new Tensor(new float[in.dim(2) * in.dim(3)], new long[] {1, 1, in.dim(2), in.dim(3)});
            }
        };
        Fake cls = cls(0.5f);
        Fake rec = rec(0.9f);
        OcrResult r = engine(det, cls, rec).run(new byte[50 * 40 * 3], 50, 40);
        assertEquals(0, r.lines.size());
        assertEquals(0, cls.shapes.size());
        assertEquals(0, rec.shapes.size());
    }
}
