package org.edgeocr.demo;

import java.util.ArrayList;
import java.util.List;

/** What one OCR run gave, in the app's own terms (only CoreBridge knows the core's classes). */
final class Reading {
    /** One text line: its box (4 corners, x/y in image pixels), text and recognition score. */
    static final class Line {
        final float[][] box;
        final String text;
        final float score;

        Line(float[][] box, String text, float score) {
            this.box = box;
            this.text = text;
            this.score = score;
        }
    }

    final List<Line> lines = new ArrayList<Line>();
    double detMs;
    double clsMs;
    double recMs;
    double totalMs;
}
