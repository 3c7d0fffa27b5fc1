package io.elect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A Java declaration of the native methods that does not match the library fails when the
 * library loads, naming the mismatch, not at the first call. Each case compiles an altered
 * {@code NativeElection} and loads it ahead of the real one in a fresh JVM.
 */
class LoadTimeCheckTest {
    private static final Path SOURCE = Path.of("src/main/java/io/elect/NativeElection.java");

    @TempDir
    Path dir;

    @Test
    void theUnalteredDeclarationsLoad() throws Exception {
        assertEquals("loaded", load(Files.readString(SOURCE)));
    }

    @Test
    void aRenamedNativeMethodFailsTheLoad() throws Exception {
        assertLoadFails("static native boolean isLeader(long handle);",
                "static native boolean leading(long handle);", "isLeader");
    }

    @Test
    void aChangedSignatureFailsTheLoad() throws Exception {
        assertLoadFails("static native void resign(long handle);",
                "static native void resign(int handle);", "resign");
    }

    @Test
    void aNativeMethodWithoutRustCodeFailsTheLoad() throws Exception {
        assertLoadFails("static native String version();",
                "static native String version();\n    static native void extra();", "extra");
    }

    /** Loading the declarations with {@code from} replaced by {@code to} fails naming {@code part}. */
    private void assertLoadFails(String from, String to, String part) throws Exception {
        String source = Files.readString(SOURCE);
        assertTrue(source.contains(from), "NativeElection.java no longer declares " + from);
        String outcome = load(source.replace(from, to));
        assertTrue(outcome.startsWith("java.lang.UnsatisfiedLinkError") && outcome.contains(part), outcome);
    }

    /**
     * Compiles {@code source} as io.elect.NativeElection and reports how loading it ends
     * ({@link NativeLoadProbe} with the altered class ahead of the real one).
     */
    private String load(String source) throws IOException, InterruptedException {
        Path src = dir.resolve("src/io/elect");
        Files.createDirectories(src);
        Files.writeString(src.resolve("NativeElection.java"), source);
        Path classes = dir.resolve("classes");
        String cp = System.getProperty("java.class.path");
        int rc = ToolProvider.getSystemJavaCompiler().run(null, null, null, "-d", classes.toString(),
                "-cp", cp, src.resolve("NativeElection.java").toString());
        assertEquals(0, rc, "the altered class must compile");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, "-Xcheck:jni", "-cp", classes + ":" + cp, "io.elect.NativeLoadProbe")
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        return out;
    }
}
