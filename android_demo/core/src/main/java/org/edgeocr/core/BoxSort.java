package org.edgeocr.core;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;

/**
 * Reading order, as {@code edgeocr/box_sort.py} (PaddleOCR {@code sorted_boxes}): by top-left y then x,
 * then a box moves left of its predecessor when their top-left corners are less than 10 pixels apart
 * vertically and it starts further left.
 */
public final class BoxSort {
    /** Two boxes whose top-left y differ by less than this many pixels are on the same line (PaddleOCR constant). */
    public static final float SAME_LINE_DY = 10;

    private BoxSort() {
    }

    /** Indices putting {@code boxes} in reading order. */
    public static List<Integer> sortOrder(final List<float[][]> boxes) {
        List<Integer> keyed = new ArrayList<Integer>();
        for (int i = 0; i < boxes.size(); i++) {
            keyed.add(i);
        }
        Collections.sort(keyed, new Comparator<Integer>() {
            @Override
            public int compare(Integer a, Integer b) {
                float[] pa = boxes.get(a)[0];
                float[] pb = boxes.get(b)[0];
                if (pa[1] != pb[1]) {
                    return pa[1] < pb[1] ? -1 : 1;
                }
                if (pa[0] != pb[0]) {
                    return pa[0] < pb[0] ? -1 : 1;
                }
                return 0;
            }
        });
        for (int i = 0; i < keyed.size() - 1; i++) {
            for (int j = i; j >= 0; j--) {
                float[] a = boxes.get(keyed.get(j))[0];
                float[] b = boxes.get(keyed.get(j + 1))[0];
                if (Math.abs(b[1] - a[1]) < SAME_LINE_DY && b[0] < a[0]) {
                    Integer t = keyed.get(j);
                    keyed.set(j, keyed.get(j + 1));
                    keyed.set(j + 1, t);
                } else {
                    break;
                }
            }
        }
        return keyed;
    }
}
