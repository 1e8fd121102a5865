package org.edgeocr.core;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.io.File;
import java.io.FileOutputStream;
import java.io.IOException;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/** manifest.json reading, sha256 verification and the one-line errors of a broken bundle. */
public class ManifestTest {
    @Rule
    public TemporaryFolder tmp = new TemporaryFolder();

    static final String PARAMS_DET = "{\"limit_side_len\": 960, \"limit_type\": \"max\", \"mean\": [0.485, 0.456, 0.406],"
            + " \"std\": [0.229, 0.224, 0.225], \"color_order\": \"BGR\", \"thresh\": 0.3, \"box_thresh\": 0.6,"
            + " \"unclip_ratio\": 1.5, \"max_candidates\": 1000, \"min_size\": 3, \"score_mode\": \"fast\","
            + " \"use_dilation\": false, \"box_type\": \"quad\"}";

    private static void write(File f, String text) throws IOException {
        FileOutputStream o = new FileOutputStream(f);
        try {
            o.write(text.getBytes("UTF-8"));
        } finally {
            o.close();
        }
    }

    private static String entry(File dir, String name, String content, String inputs, String params) throws Exception {
        File f = new File(dir, name);
        write(f, content);
        return "{\"file\": \"" + name + "\", \"size\": " + f.length() + ", \"sha256\": \"" + Manifest.sha256(f)
                + "\", \"inputs\": [{\"name\": \"x\", \"shape\": " + inputs + "}], \"outputs\": [{\"name\": \"y\","
                + " \"shape\": [\"batch\", 2]}], \"params\": " + params + ", \"ops\": []}";
    }

    static File bundleIn(File dir, String detParams) throws Exception {
        String m = "{\"schema_version\": 1, \"variant\": \"onnx-fp32\", \"format\": \"onnx\", \"backend\": \"onnxruntime\","
                + " \"precision\": \"fp32\", \"stages\": {"
                + "\"det\": " + entry(dir, "det.onnx", "det", "[\"batch\", 3, \"height\", \"width\"]", detParams) + ", "
                + "\"cls\": " + entry(dir, "cls.onnx", "cls", "[\"batch\", 3, 48, \"width\"]",
                "{\"image_shape\": [3, 48, 192], \"labels\": [\"0\", \"180\"], \"thresh\": 0.9, \"batch_size\": 6}") + ", "
                + "\"rec\": " + entry(dir, "rec.onnx", "rec", "[\"batch\", 3, 32, \"width\"]",
                "{\"image_shape\": [3, 32, 320], \"batch_size\": 6, \"use_space_char\": true, \"decoder\": \"ctc_greedy\"}")
                + "}, \"dictionary\": {\"file\": \"keys.txt\", \"size\": 4, \"sha256\": \"%s\", \"entries\": 2,"
                + " \"use_space_char\": true}, \"pipeline\": {\"use_cls\": true, \"drop_score\": 0.5}}";
        File keys = new File(dir, "keys.txt");
        write(keys, "a\nb\n");
        write(new File(dir, "manifest.json"), String.format(m, Manifest.sha256(keys)));
        return dir;
    }

    private File bundle(String detParams) throws Exception {
        return bundleIn(tmp.newFolder(), detParams);
    }

    @Test
    public void readsEveryParameter() throws Exception {
        Manifest m = Manifest.load(bundle(PARAMS_DET), true);
        assertEquals("onnx-fp32", m.variant);
        assertEquals(960, m.detParams.limitSideLen);
        assertArrayEquals(new float[] {0.485f, 0.456f, 0.406f}, m.detParams.mean, 0f);
        assertEquals(0.6, m.detParams.boxThresh, 0.0);
        assertEquals(1.5, m.detParams.unclipRatio, 0.0);
        assertArrayEquals(new int[] {3, 48, 192}, m.clsParams.imageShape);
        assertEquals("180", m.clsParams.labels[1]);
        assertEquals(6, m.recParams.batchSize);
        assertTrue(m.useCls);
        assertEquals(0.5, m.dropScore, 0.0);
        assertEquals("x", m.rec.inputs.get(0).name);
        assertArrayEquals(new long[] {-1, 3, 32, -1}, m.rec.inputs.get(0).shape);
        CtcDecoder d = CtcDecoder.load(m.file(m.dictionaryFile), m.recParams.useSpaceChar);
        assertEquals(4, d.numClasses()); // blank, a, b, space
    }

    @Test
    public void readsTheOrtSessionConfigOfAQuantizedBundle() throws Exception {
        File dir = bundle(PARAMS_DET);
        assertTrue(Manifest.load(dir, true).ortSessionConfig.isEmpty());
        File mf = new File(dir, "manifest.json");
        String text = new String(Manifest.readAll(mf), "UTF-8");
        write(mf, text.replace("\"precision\": \"fp32\",", "\"precision\": \"int8\", \"quantization\": "
                + "{\"recipe\": \"weight-only\", \"ort_session_config\": {\"session.disable_quant_qdq\": \"1\"}},"));
        Manifest m = Manifest.load(dir, true);
        assertEquals("int8", m.precision);
        assertEquals("{session.disable_quant_qdq=1}", m.ortSessionConfig.toString());
    }

    @Test
    public void detectsAnEditedFile() throws Exception {
        File dir = bundle(PARAMS_DET);
        write(new File(dir, "rec.onnx"), "reC");
        try {
            Manifest.load(dir, true);
            fail("an edited model must be refused");
        } catch (OcrException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("rec.onnx: does not match the size/sha256"));
        }
        Manifest.load(dir, false); // without verification it loads
    }

    @Test
    public void namesAMissingFile() throws Exception {
        File dir = bundle(PARAMS_DET);
        assertTrue(new File(dir, "keys.txt").delete());
        try {
            Manifest.load(dir, true);
            fail("a missing dictionary must be refused");
        } catch (OcrException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("keys.txt: listed in manifest.json but missing"));
        }
    }

    @Test
    public void namesAMissingOrUnknownParameter() throws Exception {
        try {
            Manifest.load(bundle(PARAMS_DET.replace("\"box_thresh\": 0.6,", "")), false);
            fail("a missing parameter must be refused");
        } catch (OcrException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("stages.det.params.box_thresh is missing"));
        }
        try {
            Manifest.load(bundle(PARAMS_DET.replace("\"box_thresh\"", "\"box_tresh\"")), false);
            fail("an unknown parameter must be refused");
        } catch (OcrException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("box_tresh is not a known parameter"));
        }
        try {
            Manifest.load(bundle(PARAMS_DET.replace("\"thresh\": 0.3", "\"thresh\": 3")), false);
            fail("an out-of-range threshold must be refused");
        } catch (OcrException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("must be within [0, 1]"));
        }
    }

    @Test
    public void refusesNonBundles() throws Exception {
        File empty = tmp.newFolder();
        try {
            Manifest.load(empty, true);
            fail();
        } catch (OcrException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("has no manifest.json"));
        }
        write(new File(empty, "manifest.json"), "{\"schema_version\": 2}");
        try {
            Manifest.load(empty, true);
            fail();
        } catch (OcrException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("schema_version 2 is not supported"));
        }
        write(new File(empty, "manifest.json"), "{not json");
        try {
            Manifest.load(empty, true);
            fail();
        } catch (OcrException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("is not valid JSON"));
        }
    }

    @Test
    public void sha256OfKnownText() throws Exception {
        File f = tmp.newFile();
        write(f, "abc");
        assertEquals("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", Manifest.sha256(f));
    }
}
