package org.edgeocr.core;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;

import java.io.File;
import java.nio.FloatBuffer;
import java.util.Collections;
import java.util.Map;

/** {@link InferenceBackend} on ONNX Runtime's Java API ({@code ai.onnxruntime}), CPU execution provider. */
public final class OrtBackend implements InferenceBackend {
    private final OrtEnvironment env;
    private final OrtSession session;
    private final String inputName;

    private OrtBackend(OrtEnvironment env, OrtSession session, String inputName) {
        this.env = env;
        this.session = session;
        this.inputName = inputName;
    }

    /**
     * Factory for {@link OcrEngine}: {@code threads <= 0} keeps ONNX Runtime's default. {@link OcrEngine#load}
     * replaces it by {@link #factory(Map)} with the bundle's session config entries.
     */
    public static final InferenceBackend.Factory FACTORY = factory(Collections.<String, String>emptyMap());

    /** A factory whose sessions get these session config entries ({@code SessionOptions.addConfigEntry}). */
    public static InferenceBackend.Factory factory(final Map<String, String> sessionConfig) {
        return new InferenceBackend.Factory() {
            @Override
            public InferenceBackend open(File model, String inputName, int threads) throws OcrException {
                return OrtBackend.open(model, inputName, threads, sessionConfig);
            }
        };
    }

    /**
     * One session with the options of the Python runtime's backend (edgeocr/backends/onnxruntime_backend.py):
     * all graph optimizations, sequential execution, errors-only logging, {@code threads} intra-op threads and
     * one inter-op thread when given, plus the bundle's session config entries.
     */
    public static OrtBackend open(File model, String inputName, int threads, Map<String, String> sessionConfig)
            throws OcrException {
        OrtEnvironment env;
        try {
            env = OrtEnvironment.getEnvironment();
        } catch (Throwable e) { // UnsatisfiedLinkError when the native library is missing
            throw new OcrException("ONNX Runtime is not available: " + e, e);
        }
        try {
            OrtSession.SessionOptions options = new OrtSession.SessionOptions();
            options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            options.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
            options.setSessionLogLevel(ai.onnxruntime.OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR);
            for (Map.Entry<String, String> e : sessionConfig.entrySet()) {
                options.addConfigEntry(e.getKey(), e.getValue());
            }
            if (threads > 0) {
                options.setIntraOpNumThreads(threads);
                options.setInterOpNumThreads(1);
            }
            OrtSession session = env.createSession(model.getPath(), options);
            options.close();
            if (!session.getInputNames().contains(inputName)) {
                String names = session.getInputNames().toString();
                session.close();
                throw new OcrException(model + ": has no input named " + inputName + " (it has " + names
                        + "); manifest and model do not match");
            }
            return new OrtBackend(env, session, inputName);
        } catch (OrtException e) {
            throw new OcrException(model + ": ONNX Runtime cannot load it: " + e.getMessage(), e);
        }
    }

    @Override
    public Tensor run(Tensor input) throws OcrException {
        OnnxTensor tensor = null;
        OrtSession.Result result = null;
        try {
            tensor = OnnxTensor.createTensor(env, FloatBuffer.wrap(input.data), input.shape);
            result = session.run(Collections.singletonMap(inputName, tensor));
            OnnxTensor out = (OnnxTensor) result.get(0);
            long[] shape = out.getInfo().getShape();
            FloatBuffer fb = out.getFloatBuffer();
            float[] data = new float[fb.remaining()];
            fb.get(data);
            return new Tensor(data, shape);
        } catch (OrtException e) {
            throw new OcrException("ONNX Runtime inference failed: " + e.getMessage(), e);
        } finally {
            if (result != null) {
                result.close();
            }
            if (tensor != null) {
                tensor.close();
            }
        }
    }

    @Override
    public void close() {
        try {
            session.close();
        } catch (OrtException e) {
            // closing a session only frees memory; nothing a caller can do about a failure
        }
    }
}
