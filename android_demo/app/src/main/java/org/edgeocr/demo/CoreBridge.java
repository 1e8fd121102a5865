package org.edgeocr.demo;

import org.edgeocr.core.OcrEngine;
import org.edgeocr.core.OcrLine;
import org.edgeocr.core.OcrResult;

import java.io.File;

/**
 * The one place the app touches the plain-Java OCR core ({@code org.edgeocr.core}, shared with the JVM
 * entry {@code jvm-ocr}): load a bundle (the core checks every file's sha256 against manifest.json), run it
 * on an ARGB pixel buffer, close it.
 */
final class CoreBridge {
    private final OcrEngine engine;
    final File bundleDir;
    final int threads;

    private CoreBridge(OcrEngine engine, File bundleDir, int threads) {
        this.engine = engine;
        this.bundleDir = bundleDir;
        this.threads = threads;
    }

    static CoreBridge load(File bundleDir, int threads) throws Exception {
        return new CoreBridge(OcrEngine.load(bundleDir, threads), bundleDir, threads);
    }

    Reading run(int[] argb, int width, int height) throws Exception {
        OcrResult r = engine.run(argb, width, height);
        Reading out = new Reading();
        for (OcrLine l : r.lines) {
            out.lines.add(new Reading.Line(l.box, l.text, l.score));
        }
        out.detMs = r.detMs;
        out.clsMs = r.clsMs;
        out.recMs = r.recMs;
        out.totalMs = r.totalMs;
        return out;
    }

    void close() {
        try {
            engine.close();
        } catch (Exception ignored) {
            // closing native sessions cannot be retried; nothing useful to report
        }
    }
}
