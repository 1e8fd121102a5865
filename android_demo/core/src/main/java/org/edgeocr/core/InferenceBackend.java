package org.edgeocr.core;

import java.io.Closeable;
import java.io.File;

/**
 * One loaded model: maps its single float32 input to its first output. The pipeline is the same for
 * every implementation, so only this small interface needs porting to another runtime (e.g. Paddle-Lite).
 */
public interface InferenceBackend extends Closeable {
    /** Run the model on {@code input} ([N, C, H, W]). */
    Tensor run(Tensor input) throws OcrException;

    /** Opens a backend for one model file of a bundle. */
    interface Factory {
        InferenceBackend open(File model, String inputName, int threads) throws OcrException;
    }
}
