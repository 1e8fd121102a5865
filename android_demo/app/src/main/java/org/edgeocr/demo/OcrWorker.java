package org.edgeocr.demo;

import android.graphics.Bitmap;
import android.os.Handler;
import android.os.HandlerThread;
import android.os.Looper;
import android.os.SystemClock;

import java.io.File;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs everything slow (bundle copy, model load, image decode, OCR) on one background thread and hands the
 * result to the UI thread. One engine is kept loaded; changing the bundle or the thread count reloads it
 * (ONNX Runtime fixes the intra-op thread count when a session is created), and the first run after a load
 * is reported as "cold", the following ones as "warm".
 */
final class OcrWorker {
    /** What the UI asks for. */
    static final class Request {
        final BundleStore.Entry bundle;
        final int threads;
        final ImageSource image;
        final int warmRuns;

        Request(BundleStore.Entry bundle, int threads, ImageSource image, int warmRuns) {
            this.bundle = bundle;
            this.threads = threads;
            this.image = image;
            this.warmRuns = warmRuns;
        }
    }

    /** What the UI gets back (on its own thread). */
    static final class Result {
        Bitmap bitmap;
        Reading reading;
        /** Set when this request (re)loaded the engine: load time and the first, cold run. */
        Double loadMs;
        Reading cold;
        final List<Reading> warm = new ArrayList<Reading>();
        String bundleName;
        int threads;
        String error;
    }

    interface Callback {
        void onResult(Result result);
    }

    private final BundleStore store;
    private final ImageSource.Decoder decoder;
    private final HandlerThread thread;
    private final Handler handler;
    private final Handler ui = new Handler(Looper.getMainLooper());
    private CoreBridge engine; // only touched on the worker thread
    private String engineKey;
    private ImageSource decodedSource;
    private ImageSource.Pixels decoded;

    OcrWorker(BundleStore store, ImageSource.Decoder decoder) {
        this.store = store;
        this.decoder = decoder;
        thread = new HandlerThread("edgeocr-ocr");
        thread.start();
        handler = new Handler(thread.getLooper());
    }

    void submit(final Request req, final Callback cb) {
        handler.post(new Runnable() {
            @Override
            public void run() {
                final Result res = process(req);
                ui.post(new Runnable() {
                    @Override
                    public void run() {
                        cb.onResult(res);
                    }
                });
            }
        });
    }

    void shutdown() {
        handler.post(new Runnable() {
            @Override
            public void run() {
                if (engine != null) {
                    engine.close();
                    engine = null;
                }
                thread.quit();
            }
        });
    }

    private Result process(Request req) {
        Result res = new Result();
        res.bundleName = req.bundle.toString();
        res.threads = req.threads;
        try {
            if (decoded == null || !req.image.equals(decodedSource)) {
                decoded = null;
                decoded = decoder.decode(req.image);
                decodedSource = req.image;
            }
        } catch (Throwable t) {
            res.error = describe(t);
            return res;
        }
        res.bitmap = decoded.bitmap;
        try {
            String key = req.bundle.dir.getAbsolutePath() + "#" + req.threads;
            boolean fresh = false;
            if (engine == null || !key.equals(engineKey)) {
                if (engine != null) {
                    engine.close();
                    engine = null;
                }
                long t0 = SystemClock.elapsedRealtimeNanos();
                engine = load(req.bundle, req.threads);
                engineKey = key;
                res.loadMs = (SystemClock.elapsedRealtimeNanos() - t0) / 1e6;
                fresh = true;
            }
            int[] px = decoded.argb;
            if (fresh) {
                res.cold = engine.run(px, decoded.width, decoded.height);
                res.reading = res.cold;
            }
            for (int i = 0; i < req.warmRuns; i++) {
                Reading r = engine.run(px, decoded.width, decoded.height);
                res.warm.add(r);
                res.reading = r;
            }
        } catch (Throwable t) {
            res.error = describe(t);
            // A failed load or run leaves no engine behind: the next request loads afresh (a cold run).
            if (engine != null) {
                engine.close();
                engine = null;
            }
            engineKey = null;
        }
        return res;
    }

    private static String describe(Throwable t) {
        String msg = t.getMessage();
        return t.getClass().getSimpleName() + (msg == null ? "" : ": " + msg);
    }

    private CoreBridge load(BundleStore.Entry bundle, int threads) throws Exception {
        File dir = store.prepare(bundle);
        try {
            return CoreBridge.load(dir, threads);
        } catch (Exception first) {
            if (!bundle.fromAssets) {
                throw first;
            }
            // A damaged copy of a shipped bundle (e.g. storage full during the copy): copy once more.
            store.invalidate(bundle);
            return CoreBridge.load(store.prepare(bundle), threads);
        }
    }
}
