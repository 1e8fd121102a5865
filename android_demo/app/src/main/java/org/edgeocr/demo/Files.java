package org.edgeocr.demo;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.Charset;

/** The few file helpers the app needs (java.nio.file is API 26; the app runs from API 24). */
final class Files {
    private static final Charset UTF8 = Charset.forName("UTF-8");

    private Files() {
    }

    static String readText(File f) throws IOException {
        InputStream in = new FileInputStream(f);
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            byte[] buf = new byte[8192];
            int n;
            while ((n = in.read(buf)) > 0) {
                out.write(buf, 0, n);
            }
            return new String(out.toByteArray(), UTF8);
        } finally {
            in.close();
        }
    }

    static void writeText(File f, String text) throws IOException {
        FileOutputStream out = new FileOutputStream(f);
        try {
            out.write(text.getBytes(UTF8));
        } finally {
            out.close();
        }
    }

    static void deleteTree(File f) {
        File[] children = f.listFiles();
        if (children != null) {
            for (File c : children) {
                deleteTree(c);
            }
        }
        if (f.exists() && !f.delete()) {
            f.deleteOnExit();
        }
    }
}
