package org.edgeocr.core;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.util.List;
import java.util.Map;
import org.junit.Test;

/** The core's own JSON reader (the JVM has no org.json) and string quoting. */
public class JsonTest {
    @Test
    @SuppressWarnings("unchecked")
    public void parsesEveryValueKind() throws Exception {
        Map<String, Object> m = (Map<String, Object>) Json.parse(
                " {\"a\": 1, \"b\": -2.5e-1, \"c\": [true, false, null], \"d\": {\"e\": \"x\\\"y\\\\z\\n\\u4e2d\"}, \"f\": []} ");
        assertEquals(1L, m.get("a"));
        assertEquals(-0.25, (Double) m.get("b"), 0.0);
        List<Object> c = (List<Object>) m.get("c");
        assertEquals(Boolean.TRUE, c.get(0));
        assertEquals(Boolean.FALSE, c.get(1));
        assertNull(c.get(2));
        assertEquals("x\"y\\z\n中", ((Map<String, Object>) m.get("d")).get("e"));
        assertTrue(((List<Object>) m.get("f")).isEmpty());
        assertEquals("[a, b, c, d, f]", m.keySet().toString());
    }

    @Test
    public void rejectsMalformedInput() {
        String[] bad = {"", "{", "{\"a\" 1}", "[1,]", "{\"a\": tru}", "\"abc", "[1] x", "{\"a\": 01x}", "{'a': 1}"};
        for (String s : bad) {
            try {
                Json.parse(s);
                fail("accepted malformed JSON: " + s);
            } catch (OcrException e) {
                assertTrue(e.getMessage(), e.getMessage().startsWith("invalid JSON at character"));
            }
        }
    }

    @Test
    public void quoteRoundTrips() throws Exception {
        String s = "tab\tquote\" back\\slash 中文 \u0001";
        assertEquals(s, Json.parse(Json.quote(s)));
    }
}
