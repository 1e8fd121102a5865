package org.edgeocr.core;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;

/**
 * Classifier and recognizer input, as {@code edgeocr/rec_preprocess.py} and {@code cls_stage.py}: a crop
 * resized to the model height keeping its aspect ratio (at most the batch width), normalized to
 * {@code (x / 255 - 0.5) / 0.5} in float32, right-padded with zeros; crops batched in order of aspect ratio.
 */
public final class LinePreprocess {
    private static final float[] UNIT_LUT = buildUnitLut();

    private LinePreprocess() {
    }

    private static float[] buildUnitLut() {
        float[] lut = new float[256];
        for (int v = 0; v < 256; v++) {
            float x = (float) v / 255f;
            x -= 0.5f;
            x /= 0.5f;
            lut[v] = x;
        }
        return lut;
    }

    /** Width of an {@code h x w} crop at height {@code imgH} keeping its ratio, at most {@code imgW}. */
    public static int resizedWidth(int h, int w, int imgH, int imgW) {
        double ratio = w / (double) h;
        double c = Math.ceil(imgH * ratio);
        return c > imgW ? imgW : (int) c;
    }

    /** Write the resized, normalized crop into {@code dst} at {@code offset} ({@code [3, imgH, imgW]} block). */
    public static void fill(float[] dst, int offset, BgrImage crop, int imgH, int imgW) {
        int rw = resizedWidth(crop.height, crop.width, imgH, imgW);
        byte[] r = CvResize.resizeLinear(crop.data, crop.width, crop.height, 3, rw, imgH);
        int plane = imgH * imgW;
        for (int y = 0; y < imgH; y++) {
            for (int x = 0; x < rw; x++) {
                int s = (y * rw + x) * 3;
                int d = offset + y * imgW + x;
                dst[d] = UNIT_LUT[r[s] & 0xff];
                dst[d + plane] = UNIT_LUT[r[s + 1] & 0xff];
                dst[d + 2 * plane] = UNIT_LUT[r[s + 2] & 0xff];
            }
        }
    }

    /** Indices of crops sorted by width / height (ties keep their order; ties cannot change any batch). */
    public static List<Integer> aspectOrder(final List<BgrImage> crops) {
        List<Integer> order = new ArrayList<Integer>();
        for (int i = 0; i < crops.size(); i++) {
            order.add(i);
        }
        Collections.sort(order, new Comparator<Integer>() {
            @Override
            public int compare(Integer a, Integer b) {
                double ra = crops.get(a).width / (double) crops.get(a).height;
                double rb = crops.get(b).width / (double) crops.get(b).height;
                return ra < rb ? -1 : (ra > rb ? 1 : 0);
            }
        });
        return order;
    }
}
