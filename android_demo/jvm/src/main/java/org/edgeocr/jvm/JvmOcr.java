package org.edgeocr.jvm;

import org.edgeocr.core.BgrImage;
import org.edgeocr.core.Json;
import org.edgeocr.core.OcrEngine;
import org.edgeocr.core.OcrException;
import org.edgeocr.core.OcrLine;
import org.edgeocr.core.OcrResult;

import java.awt.image.BufferedImage;
import java.awt.image.DataBuffer;
import java.awt.image.DataBufferByte;
import java.awt.image.Raster;
import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UnsupportedEncodingException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;

/**
 * {@code jvm-ocr BUNDLE IMAGE...}: the Android OCR core on the host JVM. One JSON line per image on stdout,
 * with the fields of {@code edgeocr ocr --json} (source, image_size, lines, texts, timings in seconds) plus
 * {@code image}. Images are decoded with javax.imageio (JVM only, which is why this class is not in the core).
 * A bad image gets one error line on stderr, the others are still read, and the exit status is 1.
 */
public final class JvmOcr {
    /** Pillow's decompression-bomb limit, as MAX_IMAGE_PIXELS in edgeocr/image_io.py. */
    static final long MAX_IMAGE_PIXELS = 89478485L;
    private static final String USAGE = "usage: jvm-ocr [--threads N] [--no-verify] BUNDLE IMAGE...";

    private JvmOcr() {
    }

    public static void main(String[] args) throws UnsupportedEncodingException {
        PrintStream out = new PrintStream(System.out, true, "UTF-8");
        int threads = 0;
        boolean verify = true;
        List<String> positional = new ArrayList<String>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if ("--threads".equals(a)) {
                if (i + 1 >= args.length) {
                    fail("--threads needs a number");
                }
                try {
                    threads = Integer.parseInt(args[++i]);
                } catch (NumberFormatException e) {
                    fail("--threads: '" + args[i] + "' is not a number");
                }
                if (threads < 1) {
                    fail("--threads must be >= 1");
                }
            } else if ("--no-verify".equals(a)) {
                verify = false;
            } else if ("-h".equals(a) || "--help".equals(a)) {
                System.out.println(USAGE);
                System.out.println("Reads the text in each IMAGE (PNG, JPEG, BMP, GIF) with the models of BUNDLE "
                        + "(onnx-fp32 / onnx-int8 ...),");
                System.out.println("exactly as the Android app does, and prints one JSON line per image.");
                return;
            } else if (a.startsWith("--")) {
                fail("unknown option " + a + "\n" + USAGE);
            } else {
                positional.add(a);
            }
        }
        if (positional.size() < 2) {
            fail(USAGE);
        }
        File bundle = new File(positional.get(0));
        OcrEngine engine;
        try {
            engine = OcrEngine.load(bundle, threads, verify, org.edgeocr.core.OrtBackend.FACTORY);
        } catch (OcrException e) {
            fail(e.getMessage());
            return;
        }
        int failed = 0;
        try {
            for (String path : positional.subList(1, positional.size())) {
                BgrImage img;
                try {
                    img = decode(new File(path));
                } catch (OcrException e) {
                    System.err.println("jvm-ocr: error: " + e.getMessage());
                    failed++;
                    continue;
                }
                try {
                    out.println(toJson(path, engine.run(img)));
                } catch (OcrException e) {
                    System.err.println("jvm-ocr: error: " + path + ": " + e.getMessage());
                    failed++;
                }
            }
        } finally {
            engine.close();
        }
        if (failed > 0) {
            System.err.println("jvm-ocr: " + failed + " of " + (positional.size() - 1) + " file(s) failed");
            System.exit(1);
        }
    }

    private static void fail(String message) {
        System.err.println("jvm-ocr: error: " + message);
        System.exit(2);
    }

    /** Decode a PNG/JPEG/BMP/GIF file to BGR (grey replicated, alpha blended onto white). */
    public static BgrImage decode(File f) throws OcrException {
        if (f.isDirectory()) {
            throw new OcrException(f + ": is a directory, not an image");
        }
        if (!f.isFile()) {
            throw new OcrException(f + ": cannot read: no such file");
        }
        if (f.length() == 0) {
            throw new OcrException(f + ": is empty (0 bytes)");
        }
        checkHeader(f);
        BufferedImage bi;
        try {
            bi = ImageIO.read(f);
        } catch (IOException e) {
            throw new OcrException(f + ": is not an image Java ImageIO can decode (" + e.getMessage() + ")");
        } catch (RuntimeException e) {
            throw new OcrException(f + ": is not an image Java ImageIO can decode (" + e + ")");
        }
        if (bi == null) {
            throw new OcrException(f + ": is not an image Java ImageIO can decode; use JPEG, PNG, BMP or GIF");
        }
        return toBgr(bi);
    }

    /** Refuse truncated JPEGs and images whose header declares too many pixels, before decoding (as image_io.py). */
    static void checkHeader(File f) throws OcrException {
        byte[] head = new byte[3];
        byte[] tail = new byte[(int) Math.min(1024, f.length())];
        try {
            java.io.RandomAccessFile raf = new java.io.RandomAccessFile(f, "r");
            try {
                raf.readFully(head, 0, (int) Math.min(3, f.length()));
                raf.seek(f.length() - tail.length);
                raf.readFully(tail);
            } finally {
                raf.close();
            }
        } catch (IOException e) {
            throw new OcrException(f + ": cannot read: " + e.getMessage());
        }
        if ((head[0] & 0xff) == 0xff && (head[1] & 0xff) == 0xd8 && (head[2] & 0xff) == 0xff) {
            boolean eoi = false;
            for (int i = 0; i + 1 < tail.length; i++) {
                if ((tail[i] & 0xff) == 0xff && (tail[i + 1] & 0xff) == 0xd9) {
                    eoi = true;
                    break;
                }
            }
            if (!eoi) {
                throw new OcrException(f + ": is a truncated JPEG (no end-of-image marker); re-export or re-download it");
            }
        }
        try {
            javax.imageio.stream.ImageInputStream in = ImageIO.createImageInputStream(f);
            if (in == null) {
                return;
            }
            try {
                java.util.Iterator<javax.imageio.ImageReader> readers = ImageIO.getImageReaders(in);
                if (!readers.hasNext()) {
                    return;
                }
                javax.imageio.ImageReader reader = readers.next();
                try {
                    reader.setInput(in);
                    long w = reader.getWidth(0);
                    long h = reader.getHeight(0);
                    if (w * h > MAX_IMAGE_PIXELS) {
                        throw new OcrException(f + ": declares " + w + "x" + h + " = "
                                + String.format(Locale.ROOT, "%.1f", w * h / 1e6) + " Mpx, over the limit of "
                                + String.format(Locale.ROOT, "%.1f", MAX_IMAGE_PIXELS / 1e6) + " Mpx");
                    }
                } finally {
                    reader.dispose();
                }
            } finally {
                in.close();
            }
        } catch (IOException e) {
            // the full decode below reports unreadable files
        }
    }

    /** Raw samples where the decoder gives them (8-bit grey, 8-bit BGR), else ARGB through getRGB. */
    static BgrImage toBgr(BufferedImage bi) {
        int w = bi.getWidth();
        int h = bi.getHeight();
        Raster r = bi.getRaster();
        int type = bi.getType();
        if (type == BufferedImage.TYPE_3BYTE_BGR && r.getDataBuffer() instanceof DataBufferByte
                && r.getDataBuffer().getNumBanks() == 1 && r.getSampleModelTranslateX() == 0
                && r.getSampleModelTranslateY() == 0) {
            byte[] src = ((DataBufferByte) r.getDataBuffer()).getData();
            if (src.length == w * h * 3) {
                return new BgrImage(w, h, src.clone());
            }
        }
        int tt = r.getTransferType();
        java.awt.image.ColorModel cm = bi.getColorModel();
        int csType = cm.getColorSpace().getType();
        boolean gray = csType == java.awt.color.ColorSpace.TYPE_GRAY;
        if (!(cm instanceof java.awt.image.IndexColorModel) && (tt == DataBuffer.TYPE_BYTE || tt == DataBuffer.TYPE_USHORT)
                && (gray || csType == java.awt.color.ColorSpace.TYPE_RGB) && !cm.isAlphaPremultiplied()) {
            // Raw samples, as cv2.imdecode(IMREAD_UNCHANGED) + to_bgr see them: grey is replicated without the
            // gamma curve getRGB would apply, 16-bit keeps its high byte, alpha is blended onto white.
            int bands = r.getNumBands();
            int shift = tt == DataBuffer.TYPE_USHORT ? 8 : 0;
            int[] argb = new int[w * h];
            int[] row = new int[w * bands];
            for (int y = 0; y < h; y++) {
                r.getPixels(0, y, w, 1, row);
                for (int x = 0; x < w; x++) {
                    int o = x * bands;
                    int cr;
                    int cg;
                    int cb;
                    int a = 255;
                    if (gray) {
                        cr = row[o] >> shift;
                        cg = cr;
                        cb = cr;
                        if (bands >= 2) {
                            a = row[o + 1] >> shift;
                        }
                    } else {
                        cr = row[o] >> shift;
                        cg = row[o + 1] >> shift;
                        cb = row[o + 2] >> shift;
                        if (bands >= 4) {
                            a = row[o + 3] >> shift;
                        }
                    }
                    argb[y * w + x] = (a << 24) | (cr << 16) | (cg << 8) | cb;
                }
            }
            return BgrImage.fromArgb(argb, w, h);
        }
        int[] argb = bi.getRGB(0, 0, w, h, null, 0, w);
        return BgrImage.fromArgb(argb, w, h);
    }

    static String toJson(String path, OcrResult r) {
        StringBuilder b = new StringBuilder();
        b.append("{\"image\": ").append(Json.quote(path));
        b.append(", \"source\": ").append(Json.quote(path));
        b.append(", \"image_size\": [").append(r.height).append(", ").append(r.width).append("]");
        b.append(", \"lines\": [");
        for (int i = 0; i < r.lines.size(); i++) {
            OcrLine l = r.lines.get(i);
            if (i > 0) {
                b.append(", ");
            }
            b.append("{\"box\": [");
            for (int k = 0; k < 4; k++) {
                if (k > 0) {
                    b.append(", ");
                }
                b.append('[').append(num(l.box[k][0])).append(", ").append(num(l.box[k][1])).append(']');
            }
            b.append("], \"text\": ").append(Json.quote(l.text)).append(", \"score\": ").append(num(l.score)).append('}');
        }
        b.append("], \"texts\": [");
        for (int i = 0; i < r.lines.size(); i++) {
            if (i > 0) {
                b.append(", ");
            }
            b.append(Json.quote(r.lines.get(i).text));
        }
        double infer = r.detInferMs + r.clsInferMs + r.recInferMs;
        b.append("], \"timings\": {");
        b.append("\"det\": ").append(sec(r.detMs));
        b.append(", \"cls\": ").append(sec(r.clsMs));
        b.append(", \"rec\": ").append(sec(r.recMs));
        b.append(", \"crop\": ").append(sec(r.cropMs));
        b.append(", \"total\": ").append(sec(r.totalMs));
        b.append(", \"infer\": ").append(sec(infer));
        b.append(", \"det_infer\": ").append(sec(r.detInferMs));
        b.append(", \"cls_infer\": ").append(sec(r.clsInferMs));
        b.append(", \"rec_infer\": ").append(sec(r.recInferMs));
        b.append(", \"prepost\": ").append(sec(Math.max(r.totalMs - infer, 0)));
        b.append("}}");
        return b.toString();
    }

    private static String num(float v) {
        if (v == Math.rint(v) && Math.abs(v) < 1e9) {
            return String.format(Locale.ROOT, "%.1f", v);
        }
        return Float.toString(v);
    }

    private static String sec(double ms) {
        return String.format(Locale.ROOT, "%.6f", ms / 1000.0);
    }
}
