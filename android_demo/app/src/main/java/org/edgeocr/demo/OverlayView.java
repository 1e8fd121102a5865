package org.edgeocr.demo;

import android.content.Context;
import android.graphics.Bitmap;
import android.graphics.Canvas;
import android.graphics.Color;
import android.graphics.Matrix;
import android.graphics.Paint;
import android.graphics.Path;
import android.graphics.RectF;
import android.view.View;

import java.util.ArrayList;
import java.util.List;

/** The image scaled to fit, each detected line's box drawn over it with its number and text. */
final class OverlayView extends View {
    private Bitmap bitmap;
    private final List<Reading.Line> lines = new ArrayList<Reading.Line>();
    private final Matrix matrix = new Matrix();
    private final Paint boxPaint = new Paint(Paint.ANTI_ALIAS_FLAG);
    private final Paint textPaint = new Paint(Paint.ANTI_ALIAS_FLAG);
    private final Paint labelBg = new Paint();
    private final Path path = new Path();
    private final float[] pts = new float[8];

    OverlayView(Context context) {
        super(context);
        float density = context.getResources().getDisplayMetrics().density;
        boxPaint.setStyle(Paint.Style.STROKE);
        boxPaint.setStrokeWidth(2 * density);
        boxPaint.setColor(Color.rgb(0, 200, 80));
        textPaint.setColor(Color.WHITE);
        textPaint.setTextSize(12 * density);
        labelBg.setColor(Color.argb(170, 0, 110, 40));
    }

    void show(Bitmap bmp, List<Reading.Line> newLines) {
        bitmap = bmp;
        lines.clear();
        if (newLines != null) {
            lines.addAll(newLines);
        }
        invalidate();
    }

    @Override
    protected void onDraw(Canvas canvas) {
        super.onDraw(canvas);
        if (bitmap == null) {
            return;
        }
        RectF src = new RectF(0, 0, bitmap.getWidth(), bitmap.getHeight());
        RectF dst = new RectF(0, 0, getWidth(), getHeight());
        matrix.setRectToRect(src, dst, Matrix.ScaleToFit.CENTER);
        canvas.drawBitmap(bitmap, matrix, null);
        int i = 0;
        for (Reading.Line line : lines) {
            i++;
            for (int k = 0; k < 4; k++) {
                pts[2 * k] = line.box[k][0];
                pts[2 * k + 1] = line.box[k][1];
            }
            matrix.mapPoints(pts);
            path.reset();
            path.moveTo(pts[0], pts[1]);
            for (int k = 1; k < 4; k++) {
                path.lineTo(pts[2 * k], pts[2 * k + 1]);
            }
            path.close();
            canvas.drawPath(path, boxPaint);
            String label = i + " " + line.text;
            float w = textPaint.measureText(label);
            float h = textPaint.getTextSize();
            float x = pts[0];
            float y = Math.max(h, pts[1] - 2);
            canvas.drawRect(x, y - h, x + w + 4, y + 3, labelBg);
            canvas.drawText(label, x + 2, y, textPaint);
        }
    }
}
