package org.edgeocr.core;

/**
 * Upright text-line crops, as {@code edgeocr/crop.py} (PaddleOCR {@code get_rotate_crop_image}): a
 * perspective warp of the quadrilateral to a {@code width x height} rectangle (bicubic, replicated border),
 * and crops at least 1.5 times taller than wide turned 90 degrees counter-clockwise (vertical text).
 */
public final class Crops {
    /** h / w at which a crop is considered vertical text and rotated (PaddleOCR constant). */
    public static final double VERTICAL_RATIO = 1.5;

    private Crops() {
    }

    public static BgrImage rotateCrop(BgrImage img, float[][] points) {
        int cw = (int) Math.max(DbPostprocess.norm(points[0], points[1]), DbPostprocess.norm(points[2], points[3]));
        int ch = (int) Math.max(DbPostprocess.norm(points[0], points[3]), DbPostprocess.norm(points[1], points[2]));
        if (cw <= 0 || ch <= 0) {
            throw new IllegalArgumentException("crop box has no area: " + cw + "x" + ch);
        }
        float[][] std = {{0, 0}, {cw, 0}, {cw, ch}, {0, ch}};
        double[] m = CvWarp.getPerspectiveTransform(points, std);
        byte[] d = CvWarp.warpPerspectiveCubicReplicate(img.data, img.width, img.height, 3, m, cw, ch);
        BgrImage crop = new BgrImage(cw, ch, d);
        if (ch * 1.0 / cw >= VERTICAL_RATIO) {
            crop = crop.rot90();
        }
        return crop;
    }
}
