package io.elect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Where the library is extracted, in fresh JVMs: the environment variable rescues a JVM whose
 * temporary directory is unusable (a read-only /tmp), the system property wins over it, and a
 * directory that cannot be used fails with one message naming the platform and the way out.
 */
class ExtractionDirectoryTest {
    @TempDir
    Path dir;

    private String load(String envDir, String... jvmArgs) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(List.of(jvmArgs));
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), "io.elect.NativeLoadProbe"));
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().put(NativeLibrary.DIR_ENV, envDir);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        return out;
    }

    @Test
    void theEnvironmentVariableStandsInForAnUnusableTmpdir() throws Exception {
        Path notADirectory = Files.writeString(dir.resolve("file"), "x");
        Path extractTo = Files.createDirectory(dir.resolve("extract"));
        assertEquals("loaded", load(extractTo.toString(), "-Djava.io.tmpdir=" + notADirectory));
        try (var left = Files.list(extractTo)) {
            assertEquals(0, left.count(), "the extracted copy is deleted once loaded");
        }
    }

    @Test
    void thePropertyWinsAndAnUnusableDirectoryIsNamed() throws Exception {
        Path notADirectory = Files.writeString(dir.resolve("file"), "x");
        Path extractTo = Files.createDirectory(dir.resolve("extract"));
        String out = load(extractTo.toString(), "-D" + NativeLibrary.DIR_PROPERTY + "=" + notADirectory);
        String platform = NativeLibrary.detect().toString();
        assertTrue(out.startsWith("java.lang.UnsatisfiedLinkError: elect: cannot load the native library for "
                + platform + " from " + notADirectory + " (choose another directory with -Delect.native.dir"
                + " or $ELECT_NATIVE_DIR): "), out);
    }
}
