package org.edgeocr.core;

import java.io.Closeable;
import java.io.File;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * PP-OCRv2 det -> sort -> crop -> cls -> rec -> drop_score on a bundle, the Java twin of
 * {@code edgeocr.OCR} ({@code edgeocr/pipeline.py}): same steps, same parameters (all read from the
 * bundle's manifest), so the phone reads what the Python runtime reads. Not thread-safe: use one engine
 * per worker thread.
 */
public final class OcrEngine implements Closeable {
    private final Manifest manifest;
    private final CtcDecoder decoder;
    private final InferenceBackend det;
    private final InferenceBackend cls;
    private final InferenceBackend rec;

    private OcrEngine(Manifest manifest, CtcDecoder decoder, InferenceBackend det, InferenceBackend cls,
                      InferenceBackend rec) {
        this.manifest = manifest;
        this.decoder = decoder;
        this.det = det;
        this.cls = cls;
        this.rec = rec;
    }

    /** Load a bundle with ONNX Runtime, verifying every file's sha256; {@code threads <= 0}: ORT's default. */
    public static OcrEngine load(File bundleDir, int threads) throws OcrException {
        return load(bundleDir, threads, true, OrtBackend.FACTORY);
    }

    /** Load a bundle with any backend; {@code verify} checks sizes and sha256s against the manifest. */
    public static OcrEngine load(File bundleDir, int threads, boolean verify, InferenceBackend.Factory factory)
            throws OcrException {
        Manifest m = Manifest.load(bundleDir, verify);
        if (factory == OrtBackend.FACTORY) {
            if (!"onnx".equals(m.format) && !"ort".equals(m.format)) {
                throw new OcrException(bundleDir + ": is a '" + m.format + "' bundle (" + m.variant
                        + "); ONNX Runtime runs only onnx/ort bundles");
            }
            factory = OrtBackend.factory(m.ortSessionConfig);
        }
        checkInput(m, m.det, 3, -1, "det");
        checkInput(m, m.cls, m.clsParams.imageShape[0], m.clsParams.imageShape[1], "cls");
        checkInput(m, m.rec, m.recParams.imageShape[0], m.recParams.imageShape[1], "rec");
        CtcDecoder decoder = CtcDecoder.load(m.file(m.dictionaryFile), m.recParams.useSpaceChar);
        InferenceBackend d = null;
        InferenceBackend c = null;
        InferenceBackend r = null;
        try {
            d = factory.open(m.file(m.det.file), m.det.inputs.get(0).name, threads);
            if (m.useCls) {
                c = factory.open(m.file(m.cls.file), m.cls.inputs.get(0).name, threads);
            }
            r = factory.open(m.file(m.rec.file), m.rec.inputs.get(0).name, threads);
            return new OcrEngine(m, decoder, d, c, r);
        } catch (OcrException e) {
            closeAll(d, c, r);
            throw e;
        } catch (RuntimeException e) {
            closeAll(d, c, r);
            throw e;
        }
    }

    private static void checkInput(Manifest m, Manifest.Stage s, int channels, int height, String name)
            throws OcrException {
        long[] shape = s.inputs.get(0).shape;
        if (shape.length != 4 || shape[1] != channels || (height > 0 && shape[2] >= 0 && shape[2] != height)) {
            throw new OcrException(m.file(Manifest.FILE_NAME) + ": stage " + name + " input shape "
                    + Arrays.toString(shape) + " does not match its parameters (channels " + channels
                    + (height > 0 ? ", height " + height : "") + ")");
        }
    }

    private static void closeAll(InferenceBackend... backends) {
        for (InferenceBackend b : backends) {
            if (b != null) {
                try {
                    b.close();
                } catch (java.io.IOException ignored) {
                    // releasing native memory; nothing to report
                }
            }
        }
    }

    public Manifest manifest() {
        return manifest;
    }

    /** The bundle variant, e.g. "onnx-fp32". */
    public String variant() {
        return manifest.variant;
    }

    /** OCR of ARGB pixels ({@code Bitmap.getPixels} layout). */
    public OcrResult run(int[] argb, int width, int height) throws OcrException {
        BgrImage img;
        try {
            img = BgrImage.fromArgb(argb, width, height);
        } catch (IllegalArgumentException e) {
            throw new OcrException(e.getMessage(), e);
        }
        return run(img);
    }

    /** OCR of interleaved BGR bytes (OpenCV layout). */
    public OcrResult run(byte[] bgr, int width, int height) throws OcrException {
        BgrImage img;
        try {
            img = new BgrImage(width, height, bgr);
        } catch (IllegalArgumentException e) {
            throw new OcrException(e.getMessage(), e);
        }
        return run(img);
    }

    /** OCR of a BGR image: lines in reading order with lines scoring below drop_score removed. */
    public OcrResult run(BgrImage img) throws OcrException {
        long t0 = System.nanoTime();
        long[] infer = new long[1];
        // det
        Tensor detIn = DetPreprocess.preprocess(img, manifest.detParams);
        Tensor map = timed(det, detIn, infer);
        long detInfer = infer[0];
        List<float[][]> found = DbPostprocess.postprocess(map, img.height, img.width, manifest.detParams);
        List<float[][]> boxes = new ArrayList<float[][]>();
        for (Integer k : BoxSort.sortOrder(found)) {
            boxes.add(found.get(k));
        }
        long t1 = System.nanoTime();
        // crop
        List<BgrImage> crops = new ArrayList<BgrImage>();
        for (float[][] b : boxes) {
            crops.add(Crops.rotateCrop(img, b));
        }
        long t2 = System.nanoTime();
        // cls
        infer[0] = 0;
        if (cls != null && !crops.isEmpty()) {
            classify(crops, infer);
        }
        long clsInfer = infer[0];
        long t3 = System.nanoTime();
        // rec
        infer[0] = 0;
        Object[][] texts = recognize(crops, infer);
        long recInfer = infer[0];
        long t4 = System.nanoTime();
        List<OcrLine> lines = new ArrayList<OcrLine>();
        for (int i = 0; i < boxes.size(); i++) {
            float score = (Float) texts[i][1];
            if (score >= manifest.dropScore) {
                lines.add(new OcrLine(boxes.get(i), (String) texts[i][0], score));
            }
        }
        long t5 = System.nanoTime();
        return new OcrResult(lines, img.width, img.height, ms(t1 - t0), ms(t3 - t2), ms(t4 - t3), ms(t2 - t1),
                ms(t5 - t0), ms(detInfer), ms(clsInfer), ms(recInfer));
    }

    private static double ms(long nanos) {
        return nanos / 1e6;
    }

    private static Tensor timed(InferenceBackend b, Tensor in, long[] acc) throws OcrException {
        long t = System.nanoTime();
        Tensor out = b.run(in);
        acc[0] += System.nanoTime() - t;
        return out;
    }

    /** cls_stage.classify: batches in aspect order, crops labelled "180" above cls thresh turned around. */
    private void classify(List<BgrImage> crops, long[] infer) throws OcrException {
        Manifest.ClsParams p = manifest.clsParams;
        int c = p.imageShape[0];
        int h = p.imageShape[1];
        int w = p.imageShape[2];
        List<Integer> order = LinePreprocess.aspectOrder(crops);
        for (int beg = 0; beg < order.size(); beg += p.batchSize) {
            List<Integer> idx = order.subList(beg, Math.min(order.size(), beg + p.batchSize));
            int n = idx.size();
            float[] batch = new float[n * c * h * w];
            for (int row = 0; row < n; row++) {
                LinePreprocess.fill(batch, row * c * h * w, crops.get(idx.get(row)), h, w);
            }
            Tensor probs = timed(cls, new Tensor(batch, new long[] {n, c, h, w}), infer);
            if (probs.shape.length != 2 || probs.dim(0) != n || probs.dim(1) != p.labels.length) {
                throw new OcrException("classifier output has shape " + Arrays.toString(probs.shape) + ", expected ["
                        + n + ", " + p.labels.length + "] (one probability per label in the manifest)");
            }
            int nl = p.labels.length;
            for (int row = 0; row < n; row++) {
                int best = 0;
                for (int k = 1; k < nl; k++) {
                    if (probs.data[row * nl + k] > probs.data[row * nl + best]) {
                        best = k;
                    }
                }
                double score = probs.data[row * nl + best];
                if (p.labels[best].contains("180") && score > p.thresh) {
                    int k = idx.get(row);
                    crops.set(k, crops.get(k).rotate180());
                }
            }
        }
    }

    /** {text, score} per crop, in input order (rec batches sorted by aspect ratio, padded to the widest). */
    private Object[][] recognize(List<BgrImage> crops, long[] infer) throws OcrException {
        Manifest.RecParams p = manifest.recParams;
        int c = p.imageShape[0];
        int h = p.imageShape[1];
        Object[][] texts = new Object[crops.size()][];
        List<Integer> order = LinePreprocess.aspectOrder(crops);
        for (int beg = 0; beg < order.size(); beg += p.batchSize) {
            List<Integer> idx = order.subList(beg, Math.min(order.size(), beg + p.batchSize));
            int n = idx.size();
            double ratio = p.imageShape[2] / (double) h;
            for (Integer k : idx) {
                ratio = Math.max(ratio, crops.get(k).width * 1.0 / crops.get(k).height);
            }
            int w = (int) (h * ratio);
            float[] batch = new float[n * c * h * w];
            for (int row = 0; row < n; row++) {
                LinePreprocess.fill(batch, row * c * h * w, crops.get(idx.get(row)), h, w);
            }
            Tensor probs = timed(rec, new Tensor(batch, new long[] {n, c, h, w}), infer);
            List<Object[]> decoded = decoder.decode(probs, manifest.file(manifest.dictionaryFile));
            for (int row = 0; row < n; row++) {
                texts[idx.get(row)] = decoded.get(row);
            }
        }
        return texts;
    }

    @Override
    public void close() {
        closeAll(det, cls, rec);
    }
}
