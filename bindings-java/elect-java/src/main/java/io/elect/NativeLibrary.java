package io.elect;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;

/**
 * Loads {@code libelect_jni} from inside the jar, so no {@code java.library.path} is needed.
 *
 * <p>The library is copied to a temporary file (a shared object must be a file to be mapped),
 * loaded, and the file deleted at once: Linux keeps the mapping. The system property
 * {@code elect.native.library} names a library file to load instead (for development).
 */
final class NativeLibrary {
    static final String PROPERTY = "elect.native.library";

    private NativeLibrary() {
    }

    static String platform() {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        String osName = os.startsWith("linux") ? "linux" : os.replaceAll("[^a-z0-9]", "");
        String archName = switch (arch) {
            case "amd64", "x86_64" -> "x86_64";
            case "aarch64", "arm64" -> "aarch64";
            default -> arch;
        };
        return osName + "-" + archName;
    }

    static void load() {
        String explicit = System.getProperty(PROPERTY);
        if (explicit != null && !explicit.isEmpty()) {
            System.load(Path.of(explicit).toAbsolutePath().toString());
            return;
        }
        String resource = "/native/" + platform() + "/libelect_jni.so";
        try (InputStream in = NativeLibrary.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new UnsatisfiedLinkError("elect: this jar has no native library for "
                        + platform() + " (looked for " + resource + ")");
            }
            Path file = Files.createTempFile("libelect_jni-", ".so");
            try {
                Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
                System.load(file.toAbsolutePath().toString());
            } finally {
                Files.deleteIfExists(file);
            }
        } catch (IOException e) {
            UnsatisfiedLinkError error =
                    new UnsatisfiedLinkError("elect: cannot extract " + resource + ": " + e);
            error.initCause(e);
            throw error;
        }
    }
}
