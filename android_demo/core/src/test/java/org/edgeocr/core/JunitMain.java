package org.edgeocr.core;

import java.util.ArrayList;
import java.util.List;
import org.junit.runner.JUnitCore;
import org.junit.runner.Request;
import org.junit.runner.Result;
import org.junit.runner.notification.Failure;

/**
 * Runs the given test classes and ends with the line {@code N passed, N failed}; exit status 1 on any
 * failure (or when no test ran), so `make test` fails the build. Used by android_demo/tools/run-junit.sh.
 */
public final class JunitMain {
    private JunitMain() {
    }

    public static void main(String[] args) throws Exception {
        List<Class<?>> classes = new ArrayList<Class<?>>();
        for (String name : args) {
            classes.add(Class.forName(name));
        }
        JUnitCore core = new JUnitCore();
        Result result = core.run(Request.classes(classes.toArray(new Class<?>[0])));
        for (Failure f : result.getFailures()) {
            System.out.println("FAILED " + f.getTestHeader() + ": " + f.getMessage());
            String trace = f.getTrace();
            String[] lines = trace.split("\n");
            for (int i = 1; i < Math.min(lines.length, 6); i++) {
                System.out.println("    " + lines[i].trim());
            }
        }
        int failed = result.getFailureCount();
        int passed = result.getRunCount() - failed;
        System.out.println(passed + " passed, " + failed + " failed");
        System.exit(failed == 0 && result.getRunCount() > 0 ? 0 : 1);
    }
}
