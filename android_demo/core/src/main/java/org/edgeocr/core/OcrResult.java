package org.edgeocr.core;

import java.util.List;

/**
 * Lines of one image in reading order and wall-clock milliseconds per stage: det/cls/rec include their
 * pre/post-processing, crop is the perspective crops, total is end to end (after the pixel buffer was
 * handed in), *InferMs the part spent inside the backend.
 */
public final class OcrResult {
    public final List<OcrLine> lines;
    public final int width;
    public final int height;
    public final double detMs;
    public final double clsMs;
    public final double recMs;
    public final double cropMs;
    public final double totalMs;
    public final double detInferMs;
    public final double clsInferMs;
    public final double recInferMs;

    public OcrResult(List<OcrLine> lines, int width, int height, double detMs, double clsMs, double recMs,
                     double cropMs, double totalMs, double detInferMs, double clsInferMs, double recInferMs) {
        this.lines = lines;
        this.width = width;
        this.height = height;
        this.detMs = detMs;
        this.clsMs = clsMs;
        this.recMs = recMs;
        this.cropMs = cropMs;
        this.totalMs = totalMs;
        this.detInferMs = detInferMs;
        this.clsInferMs = clsInferMs;
        this.recInferMs = recInferMs;
    }

    public List<OcrLine> getLines() {
        return lines;
    }

    public double getDetMs() {
        return detMs;
    }

    public double getClsMs() {
        return clsMs;
    }

    public double getRecMs() {
        return recMs;
    }

    public double getTotalMs() {
        return totalMs;
    }
}
