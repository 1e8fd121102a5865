package org.edgeocr.core;

/** One recognized line: 4 corners {x, y} (TL, TR, BR, BL) in input-image pixels, text and score. */
public final class OcrLine {
    public final float[][] box;
    public final String text;
    public final float score;

    public OcrLine(float[][] box, String text, float score) {
        this.box = box;
        this.text = text;
        this.score = score;
    }
}
