package org.edgeocr.core;

/** Any failure of the OCR core that a user can act on (bad bundle, bad image, backend error); one-line message. */
public class OcrException extends Exception {
    private static final long serialVersionUID = 1L;

    public OcrException(String message) {
        super(message);
    }

    public OcrException(String message, Throwable cause) {
        super(message, cause);
    }
}
