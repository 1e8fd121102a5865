package org.edgeocr.demo;

import android.content.Context;
import android.graphics.Bitmap;
import android.graphics.BitmapFactory;
import android.net.Uri;

import java.io.IOException;
import java.io.InputStream;

/** An image to read: a picked document (content Uri) or a sample shipped in the APK's assets. */
final class ImageSource {
    static final String SAMPLE_DIR = "samples";
    /**
     * Larger pictures are decoded with a power-of-two subsampling to at most this side: det resizes to
     * limit_side_len (960) anyway, and a 12 MP ARGB buffer would cost 48 MB twice (Bitmap + int[]).
     */
    static final int MAX_SIDE = 2048;

    final Uri uri;          // a picked image, or null
    final String assetPath; // "samples/NAME", or null

    private ImageSource(Uri uri, String assetPath) {
        this.uri = uri;
        this.assetPath = assetPath;
    }

    static ImageSource picked(Uri uri) {
        return new ImageSource(uri, null);
    }

    static ImageSource sample(String name) {
        return new ImageSource(null, SAMPLE_DIR + "/" + name);
    }

    String label() {
        return uri != null ? uri.getLastPathSegment() : assetPath;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof ImageSource)) {
            return false;
        }
        ImageSource s = (ImageSource) o;
        return String.valueOf(uri).equals(String.valueOf(s.uri))
                && String.valueOf(assetPath).equals(String.valueOf(s.assetPath));
    }

    @Override
    public int hashCode() {
        return String.valueOf(uri).hashCode() * 31 + String.valueOf(assetPath).hashCode();
    }

    /** A decoded image: the Bitmap to show and its ARGB pixels for the core. */
    static final class Pixels {
        final Bitmap bitmap;
        final int[] argb;
        final int width;
        final int height;

        Pixels(Bitmap bitmap) {
            this.bitmap = bitmap;
            width = bitmap.getWidth();
            height = bitmap.getHeight();
            argb = new int[width * height];
            bitmap.getPixels(argb, 0, width, 0, 0, width, height);
        }
    }

    /** Decodes sources with the platform codecs (JPEG, PNG, WebP, ...). */
    static final class Decoder {
        private final Context context;

        Decoder(Context context) {
            this.context = context.getApplicationContext();
        }

        private InputStream open(ImageSource s) throws IOException {
            if (s.uri != null) {
                InputStream in = context.getContentResolver().openInputStream(s.uri);
                if (in == null) {
                    throw new IOException(s.uri + ": cannot open");
                }
                return in;
            }
            return context.getAssets().open(s.assetPath);
        }

        Pixels decode(ImageSource s) throws IOException {
            BitmapFactory.Options bounds = new BitmapFactory.Options();
            bounds.inJustDecodeBounds = true;
            InputStream in = open(s);
            try {
                BitmapFactory.decodeStream(in, null, bounds);
            } finally {
                in.close();
            }
            if (bounds.outWidth <= 0 || bounds.outHeight <= 0) {
                throw new IOException(s.label() + ": not an image the platform can decode");
            }
            BitmapFactory.Options opts = new BitmapFactory.Options();
            opts.inPreferredConfig = Bitmap.Config.ARGB_8888;
            opts.inSampleSize = 1;
            while (Math.max(bounds.outWidth, bounds.outHeight) / opts.inSampleSize > MAX_SIDE) {
                opts.inSampleSize *= 2;
            }
            in = open(s);
            Bitmap bmp;
            try {
                bmp = BitmapFactory.decodeStream(in, null, opts);
            } finally {
                in.close();
            }
            if (bmp == null) {
                throw new IOException(s.label() + ": decoding failed");
            }
            if (bmp.getConfig() != Bitmap.Config.ARGB_8888) {
                bmp = bmp.copy(Bitmap.Config.ARGB_8888, false);
            }
            return new Pixels(bmp);
        }
    }
}
