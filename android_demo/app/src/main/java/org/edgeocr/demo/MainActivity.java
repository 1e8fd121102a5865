package org.edgeocr.demo;

import android.app.Activity;
import android.content.Intent;
import android.graphics.Typeface;
import android.net.Uri;
import android.os.Bundle;
import android.view.View;
import android.view.ViewGroup;
import android.widget.AdapterView;
import android.widget.ArrayAdapter;
import android.widget.Button;
import android.widget.LinearLayout;
import android.widget.ListView;
import android.widget.Spinner;
import android.widget.TextView;
import android.widget.Toast;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * One screen: choose a bundle and a thread count, pick an image (or a shipped sample), and see the boxes and
 * text over the image, the lines as a list, and the per-stage latency of the first (cold) run after loading
 * the bundle and of the following (warm) runs. All OCR work happens on {@link OcrWorker}'s thread.
 */
public final class MainActivity extends Activity {
    private static final int PICK_IMAGE = 1;
    private static final int WARM_RUNS = 3;
    private static final Integer[] THREADS = {1, 2, 4, 8};

    private BundleStore store;
    private OcrWorker worker;
    private Spinner bundleSpinner;
    private Spinner threadSpinner;
    private Button pickButton;
    private Button sampleButton;
    private Button runButton;
    private TextView status;
    private OverlayView overlay;
    private ArrayAdapter<String> lineAdapter;
    private final List<BundleStore.Entry> bundles = new ArrayList<BundleStore.Entry>();
    private final List<String> samples = new ArrayList<String>();
    private int nextSample;
    private ImageSource image;
    private boolean busy;
    // Cold numbers of the engine currently loaded (kept while only warm runs follow).
    private String coldText = "";

    @Override
    protected void onCreate(Bundle savedInstanceState) {
        super.onCreate(savedInstanceState);
        store = new BundleStore(this);
        worker = new OcrWorker(store, new ImageSource.Decoder(this));
        setContentView(buildLayout());
        loadChoices();
    }

    @Override
    protected void onDestroy() {
        worker.shutdown();
        super.onDestroy();
    }

    private View buildLayout() {
        int pad = (int) (8 * getResources().getDisplayMetrics().density);
        LinearLayout root = new LinearLayout(this);
        root.setOrientation(LinearLayout.VERTICAL);
        root.setPadding(pad, pad, pad, pad);

        LinearLayout row1 = new LinearLayout(this);
        row1.setOrientation(LinearLayout.HORIZONTAL);
        row1.addView(label("Bundle"));
        bundleSpinner = new Spinner(this);
        row1.addView(bundleSpinner, new LinearLayout.LayoutParams(0, ViewGroup.LayoutParams.WRAP_CONTENT, 1f));
        row1.addView(label("Threads"));
        threadSpinner = new Spinner(this);
        ArrayAdapter<Integer> ta = new ArrayAdapter<Integer>(this, android.R.layout.simple_spinner_item,
                Arrays.asList(THREADS));
        ta.setDropDownViewResource(android.R.layout.simple_spinner_dropdown_item);
        threadSpinner.setAdapter(ta);
        int cores = Runtime.getRuntime().availableProcessors();
        threadSpinner.setSelection(cores >= 4 ? 2 : cores >= 2 ? 1 : 0);
        row1.addView(threadSpinner);
        root.addView(row1);

        LinearLayout row2 = new LinearLayout(this);
        row2.setOrientation(LinearLayout.HORIZONTAL);
        pickButton = button("Pick image");
        sampleButton = button("Sample");
        runButton = button("Run again");
        row2.addView(pickButton, weighted());
        row2.addView(sampleButton, weighted());
        row2.addView(runButton, weighted());
        root.addView(row2);

        status = new TextView(this);
        status.setTypeface(Typeface.MONOSPACE);
        status.setTextSize(12);
        status.setText("Pick an image or a sample.");
        root.addView(status);

        overlay = new OverlayView(this);
        root.addView(overlay, new LinearLayout.LayoutParams(ViewGroup.LayoutParams.MATCH_PARENT, 0, 3f));

        ListView list = new ListView(this);
        lineAdapter = new ArrayAdapter<String>(this, android.R.layout.simple_list_item_1, new ArrayList<String>());
        list.setAdapter(lineAdapter);
        root.addView(list, new LinearLayout.LayoutParams(ViewGroup.LayoutParams.MATCH_PARENT, 0, 2f));

        pickButton.setOnClickListener(new View.OnClickListener() {
            @Override
            public void onClick(View v) {
                Intent i = new Intent(Intent.ACTION_GET_CONTENT);
                i.setType("image/*");
                i.addCategory(Intent.CATEGORY_OPENABLE);
                startActivityForResult(Intent.createChooser(i, "Image to read"), PICK_IMAGE);
            }
        });
        sampleButton.setOnClickListener(new View.OnClickListener() {
            @Override
            public void onClick(View v) {
                if (samples.isEmpty()) {
                    toast("no sample images in this APK");
                    return;
                }
                image = ImageSource.sample(samples.get(nextSample % samples.size()));
                nextSample++;
                runOcr();
            }
        });
        runButton.setOnClickListener(new View.OnClickListener() {
            @Override
            public void onClick(View v) {
                runOcr();
            }
        });
        AdapterView.OnItemSelectedListener rerun = new AdapterView.OnItemSelectedListener() {
            @Override
            public void onItemSelected(AdapterView<?> parent, View view, int position, long id) {
                if (image != null) {
                    runOcr(); // new bundle or thread count: the engine reloads, so this run is cold
                }
            }

            @Override
            public void onNothingSelected(AdapterView<?> parent) {
            }
        };
        bundleSpinner.setOnItemSelectedListener(rerun);
        threadSpinner.setOnItemSelectedListener(rerun);
        return root;
    }

    private void loadChoices() {
        bundles.clear();
        try {
            bundles.addAll(store.list());
            String[] names = getAssets().list(ImageSource.SAMPLE_DIR);
            if (names != null) {
                samples.addAll(Arrays.asList(names));
            }
        } catch (IOException e) {
            toast("listing bundles failed: " + e.getMessage());
        }
        ArrayAdapter<BundleStore.Entry> ba = new ArrayAdapter<BundleStore.Entry>(this,
                android.R.layout.simple_spinner_item, bundles);
        ba.setDropDownViewResource(android.R.layout.simple_spinner_dropdown_item);
        bundleSpinner.setAdapter(ba);
        if (bundles.isEmpty()) {
            status.setText("No bundle: none in the APK's assets and none pushed to " + store.pushDirs());
        }
    }

    @Override
    protected void onActivityResult(int requestCode, int resultCode, Intent data) {
        super.onActivityResult(requestCode, resultCode, data);
        if (requestCode == PICK_IMAGE && resultCode == RESULT_OK && data != null && data.getData() != null) {
            Uri uri = data.getData();
            image = ImageSource.picked(uri);
            runOcr();
        }
    }

    private void runOcr() {
        if (busy || image == null || bundles.isEmpty()) {
            return;
        }
        BundleStore.Entry bundle = bundles.get(Math.max(0, bundleSpinner.getSelectedItemPosition()));
        int threads = THREADS[Math.max(0, threadSpinner.getSelectedItemPosition())];
        setBusy(true);
        status.setText(String.format(Locale.US, "reading %s with %s, %d threads ...", image.label(), bundle,
                threads));
        worker.submit(new OcrWorker.Request(bundle, threads, image, WARM_RUNS), new OcrWorker.Callback() {
            @Override
            public void onResult(OcrWorker.Result r) {
                setBusy(false);
                show(r);
            }
        });
    }

    private void show(OcrWorker.Result r) {
        if (r.error != null) {
            overlay.show(r.bitmap, null);
            lineAdapter.clear();
            status.setText("Failed (" + r.bundleName + "): " + r.error);
            return;
        }
        if (r.cold != null) {
            coldText = String.format(Locale.US, "load  %8.1f ms%n", r.loadMs) + stages("cold ", r.cold);
        }
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.US, "%s, %d threads: %d lines%n", r.bundleName, r.threads,
                r.reading.lines.size()));
        sb.append(coldText);
        if (!r.warm.isEmpty()) {
            Reading mean = new Reading();
            for (Reading w : r.warm) {
                mean.detMs += w.detMs / r.warm.size();
                mean.clsMs += w.clsMs / r.warm.size();
                mean.recMs += w.recMs / r.warm.size();
                mean.totalMs += w.totalMs / r.warm.size();
            }
            sb.append(stages("warm ", mean)).append(String.format(Locale.US, "(warm = mean of %d runs)",
                    r.warm.size()));
        }
        status.setText(sb.toString());
        overlay.show(r.bitmap, r.reading.lines);
        lineAdapter.clear();
        int i = 0;
        for (Reading.Line l : r.reading.lines) {
            i++;
            lineAdapter.add(String.format(Locale.US, "%d. %s  (%.3f)", i, l.text, l.score));
        }
    }

    private static String stages(String name, Reading r) {
        return String.format(Locale.US, "%s det %7.1f  cls %6.1f  rec %7.1f  total %7.1f ms%n", name, r.detMs,
                r.clsMs, r.recMs, r.totalMs);
    }

    private void setBusy(boolean b) {
        busy = b;
        pickButton.setEnabled(!b);
        sampleButton.setEnabled(!b);
        runButton.setEnabled(!b);
        bundleSpinner.setEnabled(!b);
        threadSpinner.setEnabled(!b);
    }

    private TextView label(String text) {
        TextView t = new TextView(this);
        t.setText(text);
        t.setPadding(0, 0, 8, 0);
        return t;
    }

    private Button button(String text) {
        Button b = new Button(this);
        b.setText(text);
        return b;
    }

    private static LinearLayout.LayoutParams weighted() {
        return new LinearLayout.LayoutParams(0, ViewGroup.LayoutParams.WRAP_CONTENT, 1f);
    }

    private void toast(String msg) {
        Toast.makeText(this, msg, Toast.LENGTH_LONG).show();
    }
}
