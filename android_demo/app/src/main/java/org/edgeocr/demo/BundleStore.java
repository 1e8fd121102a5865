package org.edgeocr.demo;

import android.content.Context;
import android.content.pm.PackageInfo;
import android.content.pm.PackageManager;
import android.content.res.AssetManager;

import java.io.File;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Where the app finds bundles: the ones shipped in the APK's assets ({@code assets/bundles/NAME/}) and any
 * bundle folder a user pushed into the app's files dirs ({@code files/bundles/NAME/} or
 * {@code /sdcard/Android/data/org.edgeocr.demo/files/bundles/NAME/}).
 *
 * <p>ONNX Runtime loads models from files, so an asset bundle is copied once into
 * {@code files/asset-bundles/NAME/} (again after an app update). The core verifies every file's sha256 against
 * the bundle's manifest.json when it loads the bundle, so a bad copy or a damaged push is refused, not run.
 */
final class BundleStore {
    static final String ASSET_DIR = "bundles";
    static final String MANIFEST = "manifest.json";
    private static final String COPY_DIR = "asset-bundles";
    private static final String STAMP = ".copied-from-apk";

    /** One bundle the user can choose. */
    static final class Entry {
        final String name;
        final boolean fromAssets;
        final File dir; // the pushed folder; for asset bundles the copy target

        Entry(String name, boolean fromAssets, File dir) {
            this.name = name;
            this.fromAssets = fromAssets;
            this.dir = dir;
        }

        @Override
        public String toString() {
            return fromAssets ? name : name + " (pushed)";
        }
    }

    private final Context context;

    BundleStore(Context context) {
        this.context = context.getApplicationContext();
    }

    /** Folders where a pushed bundle is looked for (created so that `adb push` has a target). */
    List<File> pushDirs() {
        List<File> dirs = new ArrayList<File>();
        dirs.add(new File(context.getFilesDir(), ASSET_DIR));
        File ext = context.getExternalFilesDir(null);
        if (ext != null) {
            dirs.add(new File(ext, ASSET_DIR));
        }
        for (File d : dirs) {
            if (!d.isDirectory() && !d.mkdirs()) {
                continue;
            }
        }
        return dirs;
    }

    /** Shipped bundles first (sorted), then pushed ones. */
    List<Entry> list() throws IOException {
        List<Entry> out = new ArrayList<Entry>();
        String[] names = context.getAssets().list(ASSET_DIR);
        if (names != null) {
            List<String> sorted = new ArrayList<String>();
            Collections.addAll(sorted, names);
            Collections.sort(sorted);
            File copies = new File(context.getFilesDir(), COPY_DIR);
            for (String n : sorted) {
                out.add(new Entry(n, true, new File(copies, n)));
            }
        }
        for (File base : pushDirs()) {
            File[] children = base.listFiles();
            if (children == null) {
                continue;
            }
            List<File> dirs = new ArrayList<File>();
            for (File c : children) {
                if (c.isDirectory() && new File(c, MANIFEST).isFile()) {
                    dirs.add(c);
                }
            }
            Collections.sort(dirs);
            for (File d : dirs) {
                out.add(new Entry(d.getName(), false, d));
            }
        }
        return out;
    }

    /**
     * The folder to load: a pushed bundle as is; an asset bundle copied into the files dir first (once per
     * installed APK version). Runs on the worker thread (copying ~10 MB takes a moment).
     */
    File prepare(Entry e) throws IOException {
        if (!e.fromAssets) {
            return e.dir;
        }
        String stamp = apkStamp();
        File stampFile = new File(e.dir, STAMP);
        if (stampFile.isFile() && stamp.equals(Files.readText(stampFile))) {
            return e.dir;
        }
        Files.deleteTree(e.dir);
        if (!e.dir.mkdirs()) {
            throw new IOException(e.dir + ": cannot create");
        }
        AssetManager assets = context.getAssets();
        String[] files = assets.list(ASSET_DIR + "/" + e.name);
        if (files == null || files.length == 0) {
            throw new IOException("assets/" + ASSET_DIR + "/" + e.name + ": empty");
        }
        byte[] buf = new byte[1 << 16];
        for (String f : files) {
            InputStream in = assets.open(ASSET_DIR + "/" + e.name + "/" + f);
            try {
                OutputStream out = new FileOutputStream(new File(e.dir, f));
                try {
                    int n;
                    while ((n = in.read(buf)) > 0) {
                        out.write(buf, 0, n);
                    }
                } finally {
                    out.close();
                }
            } finally {
                in.close();
            }
        }
        Files.writeText(stampFile, stamp);
        return e.dir;
    }

    /** Forget the copy of an asset bundle (after the core refused it), so the next load copies again. */
    void invalidate(Entry e) {
        if (e.fromAssets) {
            Files.deleteTree(e.dir);
        }
    }

    private String apkStamp() {
        try {
            PackageInfo pi = context.getPackageManager().getPackageInfo(context.getPackageName(), 0);
            return pi.versionCode + ":" + pi.lastUpdateTime;
        } catch (PackageManager.NameNotFoundException ex) {
            return "unknown";
        }
    }
}
