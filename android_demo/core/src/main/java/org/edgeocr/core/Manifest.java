package org.edgeocr.core;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A bundle's {@code manifest.json} (schema 1, written by {@code edgeocr convert}): model files with size
 * and sha256, input/output names and shapes, and every pre/post-processing parameter. Nothing here has a
 * default of its own: the values come from the manifest, which is where the Python runtime reads them too
 * ({@code edgeocr/stage_params.py} defines them once), so the JVM/Android core can never drift from it.
 */
public final class Manifest {
    public static final int SCHEMA_VERSION = 1;
    public static final String FILE_NAME = "manifest.json";

    /** One model input or output. */
    public static final class TensorSpec {
        public final String name;
        /** Dimensions; named dynamic dimensions ("batch", "width") are -1. */
        public final long[] shape;

        TensorSpec(String name, long[] shape) {
            this.name = name;
            this.shape = shape;
        }
    }

    /** One model file of the bundle. */
    public static final class Stage {
        public final String file;
        public final long size;
        public final String sha256;
        public final List<TensorSpec> inputs;
        public final List<TensorSpec> outputs;

        Stage(String file, long size, String sha256, List<TensorSpec> inputs, List<TensorSpec> outputs) {
            this.file = file;
            this.size = size;
            this.sha256 = sha256;
            this.inputs = inputs;
            this.outputs = outputs;
        }
    }

    /** DB detector parameters (PaddleOCR DetResizeForTest + NormalizeImage + DBPostProcess). */
    public static final class DetParams {
        public int limitSideLen;
        public String limitType;
        public float[] mean;
        public float[] std;
        public String colorOrder;
        public double thresh;
        public double boxThresh;
        public double unclipRatio;
        public int maxCandidates;
        public int minSize;
        public String scoreMode;
        public boolean useDilation;
        public String boxType;
    }

    /** 0/180 degree classifier parameters. */
    public static final class ClsParams {
        public int[] imageShape;
        public String[] labels;
        public double thresh;
        public int batchSize;
    }

    /** CRNN recognizer parameters. */
    public static final class RecParams {
        public int[] imageShape;
        public int batchSize;
        public boolean useSpaceChar;
        public String decoder;
    }

    public final File root;
    public final String variant;
    public final String format;
    public final String backend;
    public final String precision;
    /** Paddle-Lite version a {@code .nb} bundle was optimized with (null for ONNX): the app's library must match. */
    public final String liteVersion;
    /** Paddle-Lite target ("arm" / "x86"; null for ONNX). */
    public final String target;
    /**
     * ONNX Runtime session config entries the bundle asks for ({@code quantization.ort_session_config}, e.g.
     * {@code session.disable_quant_qdq=1} for weight-only int8), applied like the Python runtime does.
     */
    public final Map<String, String> ortSessionConfig;
    public final Stage det;
    public final Stage cls;
    public final Stage rec;
    public final String dictionaryFile;
    public final long dictionarySize;
    public final String dictionarySha256;
    public final DetParams detParams;
    public final ClsParams clsParams;
    public final RecParams recParams;
    public final boolean useCls;
    public final double dropScore;

    private Manifest(File root, Map<String, Object> m) throws OcrException {
        this.root = root;
        Object version = m.get("schema_version");
        if (!(version instanceof Long) || (Long) version != SCHEMA_VERSION) {
            throw new OcrException(path(FILE_NAME) + ": manifest schema_version " + version
                    + " is not supported (this reader knows " + SCHEMA_VERSION + ")");
        }
        variant = str(m, "variant", "");
        format = str(m, "format", "");
        backend = str(m, "backend", "");
        precision = str(m, "precision", "");
        liteVersion = m.get("lite_version") instanceof String ? (String) m.get("lite_version") : null;
        target = m.get("target") instanceof String ? (String) m.get("target") : null;
        Map<String, String> config = new java.util.LinkedHashMap<String, String>();
        if (m.get("quantization") instanceof Map) {
            @SuppressWarnings("unchecked")
            Map<String, Object> q = (Map<String, Object>) m.get("quantization");
            if (q.get("ort_session_config") instanceof Map) {
                @SuppressWarnings("unchecked")
                Map<String, Object> c = (Map<String, Object>) q.get("ort_session_config");
                for (Map.Entry<String, Object> e : c.entrySet()) {
                    config.put(e.getKey(), String.valueOf(e.getValue()));
                }
            }
        }
        ortSessionConfig = java.util.Collections.unmodifiableMap(config);
        Map<String, Object> stages = map(m, "stages", "");
        det = stage(map(stages, "det", "stages."), "stages.det");
        cls = stage(map(stages, "cls", "stages."), "stages.cls");
        rec = stage(map(stages, "rec", "stages."), "stages.rec");
        Map<String, Object> dict = map(m, "dictionary", "");
        dictionaryFile = str(dict, "file", "dictionary.");
        dictionarySize = lng(dict, "size", "dictionary.");
        dictionarySha256 = str(dict, "sha256", "dictionary.");
        detParams = detParams(map(map(stages, "det", "stages."), "params", "stages.det."));
        clsParams = clsParams(map(map(stages, "cls", "stages."), "params", "stages.cls."));
        recParams = recParams(map(map(stages, "rec", "stages."), "params", "stages.rec."));
        Map<String, Object> pipeline = map(m, "pipeline", "");
        checkKeys(pipeline, "pipeline", "use_cls", "drop_score");
        useCls = bool(pipeline, "use_cls", "pipeline.");
        dropScore = unit(dbl(pipeline, "drop_score", "pipeline."), "pipeline.drop_score");
    }

    /** Read {@code bundleDir/manifest.json}; with {@code verify}, check each file's size and sha256. */
    public static Manifest load(File bundleDir, boolean verify) throws OcrException {
        if (!bundleDir.isDirectory()) {
            throw new OcrException(bundleDir + ": is not a bundle directory (expected a folder made by `edgeocr convert`)");
        }
        File f = new File(bundleDir, FILE_NAME);
        if (!f.isFile()) {
            throw new OcrException(bundleDir + ": has no manifest.json; is this a bundle made by `edgeocr convert`?");
        }
        String text;
        try {
            text = new String(readAll(f), "UTF-8");
        } catch (IOException e) {
            throw new OcrException(f + ": cannot read: " + e.getMessage());
        }
        Object parsed;
        try {
            parsed = Json.parse(text);
        } catch (OcrException e) {
            throw new OcrException(f + ": is not valid JSON (" + e.getMessage() + ")");
        }
        if (!(parsed instanceof Map)) {
            throw new OcrException(f + ": manifest is malformed (not a JSON object)");
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> m = (Map<String, Object>) parsed;
        Manifest manifest = new Manifest(bundleDir, m);
        if (verify) {
            manifest.verify();
        }
        return manifest;
    }

    /** Check every listed file against its size and sha256. */
    public void verify() throws OcrException {
        check(det.file, det.size, det.sha256);
        check(cls.file, cls.size, cls.sha256);
        check(rec.file, rec.size, rec.sha256);
        check(dictionaryFile, dictionarySize, dictionarySha256);
    }

    public File file(String name) {
        return new File(root, name);
    }

    private void check(String name, long size, String sha256) throws OcrException {
        File f = file(name);
        if (!f.isFile()) {
            throw new OcrException(f + ": listed in manifest.json but missing from the bundle");
        }
        if (f.length() != size || !sha256.equalsIgnoreCase(sha256(f))) {
            throw new OcrException(f + ": does not match the size/sha256 in manifest.json (corrupted or edited?)");
        }
    }

    /** Hex sha256 of a file, streamed. */
    public static String sha256(File f) throws OcrException {
        MessageDigest md;
        try {
            md = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new OcrException("SHA-256 is not available on this platform", e);
        }
        InputStream in = null;
        try {
            in = new FileInputStream(f);
            byte[] buf = new byte[1 << 16];
            int n;
            while ((n = in.read(buf)) > 0) {
                md.update(buf, 0, n);
            }
        } catch (IOException e) {
            throw new OcrException(f + ": cannot read: " + e.getMessage());
        } finally {
            closeQuietly(in);
        }
        byte[] d = md.digest();
        StringBuilder b = new StringBuilder(64);
        for (byte x : d) {
            b.append(Character.forDigit((x >> 4) & 0xf, 16)).append(Character.forDigit(x & 0xf, 16));
        }
        return b.toString();
    }

    static byte[] readAll(File f) throws IOException {
        InputStream in = new FileInputStream(f);
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream((int) Math.max(16, f.length()));
            byte[] buf = new byte[1 << 16];
            int n;
            while ((n = in.read(buf)) > 0) {
                out.write(buf, 0, n);
            }
            return out.toByteArray();
        } finally {
            closeQuietly(in);
        }
    }

    private static void closeQuietly(InputStream in) {
        if (in != null) {
            try {
                in.close();
            } catch (IOException ignored) {
                // nothing to do: the file was only read
            }
        }
    }

    // ---- typed access with one-line errors ---------------------------------------------------

    private String path(String key) {
        return new File(root, FILE_NAME) + ": " + key;
    }

    private OcrException malformed(String key, String what) {
        return new OcrException(new File(root, FILE_NAME) + ": manifest is malformed (" + key + " " + what + ")");
    }

    private Object get(Map<String, Object> m, String key, String prefix) throws OcrException {
        if (!m.containsKey(key)) {
            throw malformed(prefix + key, "is missing");
        }
        return m.get(key);
    }

    @SuppressWarnings("unchecked")
    private Map<String, Object> map(Map<String, Object> m, String key, String prefix) throws OcrException {
        Object v = get(m, key, prefix);
        if (!(v instanceof Map)) {
            throw malformed(prefix + key, "is not an object");
        }
        return (Map<String, Object>) v;
    }

    private String str(Map<String, Object> m, String key, String prefix) throws OcrException {
        Object v = get(m, key, prefix);
        if (!(v instanceof String)) {
            throw malformed(prefix + key, "is not a string");
        }
        return (String) v;
    }

    private long lng(Map<String, Object> m, String key, String prefix) throws OcrException {
        Object v = get(m, key, prefix);
        if (!(v instanceof Long)) {
            throw malformed(prefix + key, "is not an integer");
        }
        return (Long) v;
    }

    private int integer(Map<String, Object> m, String key, String prefix) throws OcrException {
        long v = lng(m, key, prefix);
        if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) {
            throw malformed(prefix + key, "is out of range");
        }
        return (int) v;
    }

    private double dbl(Map<String, Object> m, String key, String prefix) throws OcrException {
        Object v = get(m, key, prefix);
        if (!(v instanceof Number)) {
            throw malformed(prefix + key, "is not a number");
        }
        return ((Number) v).doubleValue();
    }

    private boolean bool(Map<String, Object> m, String key, String prefix) throws OcrException {
        Object v = get(m, key, prefix);
        if (!(v instanceof Boolean)) {
            throw malformed(prefix + key, "is not true/false");
        }
        return (Boolean) v;
    }

    private List<Object> list(Map<String, Object> m, String key, String prefix) throws OcrException {
        Object v = get(m, key, prefix);
        if (!(v instanceof List)) {
            throw malformed(prefix + key, "is not a list");
        }
        @SuppressWarnings("unchecked")
        List<Object> l = (List<Object>) v;
        return l;
    }

    private float[] floats(Map<String, Object> m, String key, String prefix, int n) throws OcrException {
        List<Object> l = list(m, key, prefix);
        if (l.size() != n) {
            throw malformed(prefix + key, "must have " + n + " numbers");
        }
        float[] r = new float[n];
        for (int i = 0; i < n; i++) {
            if (!(l.get(i) instanceof Number)) {
                throw malformed(prefix + key, "must hold numbers");
            }
            // np.array(mean, dtype=np.float32): the double rounded to float
            r[i] = (float) ((Number) l.get(i)).doubleValue();
        }
        return r;
    }

    private int[] ints(Map<String, Object> m, String key, String prefix, int n) throws OcrException {
        List<Object> l = list(m, key, prefix);
        if (l.size() != n) {
            throw malformed(prefix + key, "must have " + n + " integers");
        }
        int[] r = new int[n];
        for (int i = 0; i < n; i++) {
            if (!(l.get(i) instanceof Long)) {
                throw malformed(prefix + key, "must hold integers");
            }
            r[i] = (int) (long) (Long) l.get(i);
        }
        return r;
    }

    private Stage stage(Map<String, Object> s, String name) throws OcrException {
        String p = name + ".";
        return new Stage(str(s, "file", p), lng(s, "size", p), str(s, "sha256", p),
                tensors(list(s, "inputs", p), p + "inputs"), tensors(list(s, "outputs", p), p + "outputs"));
    }

    private List<TensorSpec> tensors(List<Object> l, String key) throws OcrException {
        List<TensorSpec> r = new ArrayList<TensorSpec>();
        for (Object o : l) {
            if (!(o instanceof Map)) {
                throw malformed(key, "must hold objects");
            }
            @SuppressWarnings("unchecked")
            Map<String, Object> t = (Map<String, Object>) o;
            List<Object> dims = list(t, "shape", key + ".");
            long[] shape = new long[dims.size()];
            for (int i = 0; i < shape.length; i++) {
                Object d = dims.get(i);
                shape[i] = d instanceof Long ? (Long) d : -1;
            }
            r.add(new TensorSpec(str(t, "name", key + "."), shape));
        }
        if (r.isEmpty()) {
            throw malformed(key, "is empty");
        }
        return r;
    }

    private void checkKeys(Map<String, Object> m, String where, String... valid) throws OcrException {
        Set<String> ok = new HashSet<String>(Arrays.asList(valid));
        for (String k : m.keySet()) {
            if (!ok.contains(k)) {
                throw malformed(where + "." + k, "is not a known parameter; valid: " + Arrays.toString(valid));
            }
        }
    }

    private String choice(String value, String key, String... valid) throws OcrException {
        for (String v : valid) {
            if (v.equals(value)) {
                return value;
            }
        }
        throw malformed(key, "= " + value + " is not supported; valid: " + Arrays.toString(valid));
    }

    private double unit(double v, String key) throws OcrException {
        if (!(v >= 0.0 && v <= 1.0)) {
            throw malformed(key, "= " + v + " must be within [0, 1]");
        }
        return v;
    }

    private int positive(int v, String key) throws OcrException {
        if (v < 1) {
            throw malformed(key, "= " + v + " must be >= 1");
        }
        return v;
    }

    private DetParams detParams(Map<String, Object> m) throws OcrException {
        String p = "stages.det.params.";
        checkKeys(m, "stages.det.params", "limit_side_len", "limit_type", "mean", "std", "color_order", "thresh",
                "box_thresh", "unclip_ratio", "max_candidates", "min_size", "score_mode", "use_dilation", "box_type");
        DetParams d = new DetParams();
        d.limitSideLen = integer(m, "limit_side_len", p);
        if (d.limitSideLen < 32) {
            throw malformed(p + "limit_side_len", "must be >= 32");
        }
        d.limitType = choice(str(m, "limit_type", p), p + "limit_type", "max", "min");
        d.mean = floats(m, "mean", p, 3);
        d.std = floats(m, "std", p, 3);
        d.colorOrder = choice(str(m, "color_order", p), p + "color_order", "BGR", "RGB");
        d.thresh = unit(dbl(m, "thresh", p), p + "thresh");
        d.boxThresh = unit(dbl(m, "box_thresh", p), p + "box_thresh");
        d.unclipRatio = dbl(m, "unclip_ratio", p);
        d.maxCandidates = integer(m, "max_candidates", p);
        d.minSize = integer(m, "min_size", p);
        d.scoreMode = choice(str(m, "score_mode", p), p + "score_mode", "fast", "slow");
        d.useDilation = bool(m, "use_dilation", p);
        d.boxType = choice(str(m, "box_type", p), p + "box_type", "quad");
        return d;
    }

    private ClsParams clsParams(Map<String, Object> m) throws OcrException {
        String p = "stages.cls.params.";
        checkKeys(m, "stages.cls.params", "image_shape", "labels", "thresh", "batch_size");
        ClsParams c = new ClsParams();
        c.imageShape = ints(m, "image_shape", p, 3);
        List<Object> labels = list(m, "labels", p);
        c.labels = new String[labels.size()];
        for (int i = 0; i < c.labels.length; i++) {
            c.labels[i] = String.valueOf(labels.get(i));
        }
        c.thresh = unit(dbl(m, "thresh", p), p + "thresh");
        c.batchSize = positive(integer(m, "batch_size", p), p + "batch_size");
        return c;
    }

    private RecParams recParams(Map<String, Object> m) throws OcrException {
        String p = "stages.rec.params.";
        checkKeys(m, "stages.rec.params", "image_shape", "batch_size", "use_space_char", "decoder");
        RecParams r = new RecParams();
        r.imageShape = ints(m, "image_shape", p, 3);
        r.batchSize = positive(integer(m, "batch_size", p), p + "batch_size");
        r.useSpaceChar = bool(m, "use_space_char", p);
        r.decoder = choice(str(m, "decoder", p), p + "decoder", "ctc_greedy");
        return r;
    }
}
