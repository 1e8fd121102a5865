package org.edgeocr.jvm;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.io.File;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.edgeocr.core.BgrImage;
import org.edgeocr.core.Json;
import org.edgeocr.core.OcrException;
import org.junit.Test;

/**
 * jvm-ocr's javax.imageio decoding gives the pixels edgeocr.image_io.read_image gives (cv2.imdecode +
 * to_bgr): JPEG colour and grey, PNG 8/16-bit, grey+alpha, BGRA (blended onto white), palette, BMP.
 */
public class JvmDecodeTest {
    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> cases() throws Exception {
        String path = System.getProperty("edgeocr.fixtures");
        if (path == null || !new File(path).isFile()) {
            fail("JUnit fixtures not found (edgeocr.fixtures=" + path + "); run android_demo/tools/run-junit.sh");
        }
        byte[] raw = java.nio.file.Files.readAllBytes(new File(path).toPath());
        Map<String, Object> all = (Map<String, Object>) Json.parse(new String(raw, "UTF-8"));
        return (List<Map<String, Object>>) all.get("decode");
    }

    @Test
    public void decodesLikeTheReadImageOfThePythonRuntime() throws Exception {
        List<Map<String, Object>> cases = cases();
        assertTrue(cases.size() >= 10);
        for (Map<String, Object> c : cases) {
            String file = (String) c.get("file");
            BgrImage img = JvmOcr.decode(new File(file));
            assertEquals(file, ((Number) c.get("w")).intValue(), img.width);
            assertEquals(file, ((Number) c.get("h")).intValue(), img.height);
            assertArrayEquals(file, Base64.getDecoder().decode((String) c.get("bgr")), img.data);
        }
    }

    @Test
    public void refusesWhatIsNotAnImage() throws Exception {
        File f = File.createTempFile("notimage", ".png");
        f.deleteOnExit();
        java.nio.file.Files.write(f.toPath(), "hello".getBytes("UTF-8"));
        try {
            JvmOcr.decode(f);
            fail("a text file must be refused");
        } catch (OcrException e) {
            assertTrue(e.getMessage(), e.getMessage().startsWith(f + ": is not an image"));
        }
    }
}
