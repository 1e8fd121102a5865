package org.edgeocr.core;

import java.io.File;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Greedy CTC decoding with PaddleOCR's character list, as {@code edgeocr/ctc_decode.py}: class 0 is the
 * blank, 1..N the dictionary lines in file order, then a space when {@code use_space_char}; arg-max per
 * step, repeats merged, blanks dropped, score = mean probability of the kept steps (0 if none).
 */
public final class CtcDecoder {
    private static final String BOM = "\ufeff";
    private final String[] characters;

    public CtcDecoder(String[] characters) {
        this.characters = characters;
    }

    public int numClasses() {
        return characters.length;
    }

    /** {@code ["blank", lines..., (" ")]}: lines split on '\n' only, '\r'/'\n' stripped at both ends, UTF-8. */
    public static CtcDecoder load(File dictionary, boolean useSpaceChar) throws OcrException {
        byte[] raw;
        try {
            raw = Manifest.readAll(dictionary);
        } catch (IOException e) {
            throw new OcrException(dictionary + ": cannot read the recognizer dictionary: " + e.getMessage());
        }
        List<String> chars = new ArrayList<String>();
        chars.add("blank");
        int start = 0;
        int lineno = 0;
        while (start < raw.length) {
            int end = start;
            while (end < raw.length && raw[end] != '\n') {
                end++;
            }
            lineno++;
            String line = decodeUtf8(raw, start, end - start, dictionary, lineno);
            chars.add(stripCrLf(line));
            start = end + 1;
        }
        if (chars.size() > 1 && chars.get(1).startsWith(BOM)) {
            chars.set(1, chars.get(1).substring(BOM.length()));
        }
        if (useSpaceChar) {
            chars.add(" ");
        }
        return new CtcDecoder(chars.toArray(new String[0]));
    }

    private static String decodeUtf8(byte[] raw, int off, int len, File f, int lineno) throws OcrException {
        java.nio.charset.CharsetDecoder dec = java.nio.charset.Charset.forName("UTF-8").newDecoder();
        try {
            return dec.decode(java.nio.ByteBuffer.wrap(raw, off, len)).toString();
        } catch (java.nio.charset.CharacterCodingException e) {
            throw new OcrException(f + ": the recognizer dictionary is not UTF-8 (line " + lineno + ")");
        }
    }

    private static String stripCrLf(String s) {
        int a = 0;
        int b = s.length();
        while (a < b && (s.charAt(a) == '\r' || s.charAt(a) == '\n')) {
            a++;
        }
        while (b > a && (s.charAt(b - 1) == '\r' || s.charAt(b - 1) == '\n')) {
            b--;
        }
        return s.substring(a, b);
    }

    /** Decoded text and score of each row of a {@code [N, T, C]} softmax. */
    public List<Object[]> decode(Tensor probs, File dictionary) throws OcrException {
        if (probs.shape.length != 3 || probs.dim(2) != characters.length) {
            throw new OcrException(dictionary + ": has " + (characters.length - 2) + " entries (+ blank + space = "
                    + characters.length + " classes) but the recognizer outputs shape "
                    + java.util.Arrays.toString(probs.shape) + "; use the dictionary the rec model was trained with");
        }
        int n = probs.dim(0);
        int t = probs.dim(1);
        int c = probs.dim(2);
        List<Object[]> out = new ArrayList<Object[]>(n);
        float[] d = probs.data;
        for (int row = 0; row < n; row++) {
            StringBuilder text = new StringBuilder();
            double sum = 0;
            int kept = 0;
            int prev = -1;
            for (int step = 0; step < t; step++) {
                int base = (row * t + step) * c;
                int best = 0;
                float bestP = d[base];
                for (int k = 1; k < c; k++) {
                    if (d[base + k] > bestP) {
                        bestP = d[base + k];
                        best = k;
                    }
                }
                if (best != 0 && best != prev) {
                    text.append(characters[best]);
                    sum += bestP;
                    kept++;
                }
                prev = best;
            }
            float score = kept == 0 ? 0f : (float) (sum / kept);
            out.add(new Object[] {text.toString(), score});
        }
        return out;
    }
}
