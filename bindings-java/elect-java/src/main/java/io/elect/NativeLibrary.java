package io.elect;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.function.Predicate;

/**
 * Loads {@code libelect_jni} from inside the jar, so no {@code java.library.path} is needed.
 *
 * <p>The jar holds one library per platform, {@code native/linux-<arch>[-musl]/libelect_jni.so},
 * and {@code native/manifest.properties} with each one's size and SHA-256, written when the jar
 * was built. The loader detects the architecture and the C library of this process, copies the
 * matching library into a directory (a shared object must be a file to be mapped), checks the
 * copy against the manifest, loads it and deletes the file at once: Linux keeps the mapping.
 *
 * <ul>
 * <li>{@value #DIR_PROPERTY} (system property) or {@value #DIR_ENV} (environment variable)
 * choose that directory, e.g. for containers whose {@code /tmp} is read-only or
 * {@code noexec}; the default is {@code java.io.tmpdir}.
 * <li>{@value #LIBRARY_PROPERTY} names a library file to load instead (development).
 * </ul>
 */
final class NativeLibrary {
    static final String LIBRARY_PROPERTY = "elect.native.library";
    static final String DIR_PROPERTY = "elect.native.dir";
    static final String DIR_ENV = "ELECT_NATIVE_DIR";
    static final String MANIFEST = "/native/manifest.properties";
    private static final String FILE = "libelect_jni.so";

    private NativeLibrary() {
    }

    enum Libc { GLIBC, MUSL }

    /**
     * Where a library can run: {@code os} and {@code arch} as the JVM names them after
     * normalization, and the C library (which matters only on Linux).
     */
    record Platform(String os, String arch, Libc libc) {
        /** The directory of its library in the jar, e.g. {@code linux-aarch64-musl}. */
        String directory() {
            return os + "-" + arch + (os.equals("linux") && libc == Libc.MUSL ? "-musl" : "");
        }

        @Override
        public String toString() {
            return directory() + (os.equals("linux") ? " (" + libc.name().toLowerCase(Locale.ROOT) + ")" : "");
        }
    }

    static Platform detect() {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        os = os.startsWith("linux") ? "linux" : os.replaceAll("[^a-z0-9]", "");
        List<String> maps;
        try {
            maps = os.equals("linux") ? Files.readAllLines(Path.of("/proc/self/maps")) : List.of();
        } catch (IOException | UncheckedIOException e) {
            maps = List.of();
        }
        String arch = arch(System.getProperty("os.arch", ""));
        return new Platform(os, arch, libc(maps, arch, Files::exists));
    }

    /** The JVM's {@code os.arch} in the names Rust targets use. */
    static String arch(String osArch) {
        String arch = osArch.toLowerCase(Locale.ROOT);
        return switch (arch) {
            case "amd64", "x86_64", "x86-64" -> "x86_64";
            case "aarch64", "arm64" -> "aarch64";
            default -> arch.replaceAll("[^a-z0-9_]", "");
        };
    }

    /**
     * The C library this process runs on: the dynamic loader mapped into it names it
     * ({@code ld-musl-*.so.1} or glibc's {@code ld-linux*.so.*} / {@code libc.so.6}). Without
     * a readable {@code /proc/self/maps}, musl's loader on disk decides.
     */
    static Libc libc(List<String> maps, String arch, Predicate<Path> exists) {
        for (String line : maps) {
            if (line.contains("/ld-musl-") || line.contains("/libc.musl-")) {
                return Libc.MUSL;
            }
            if (line.contains("/ld-linux") || line.contains("/libc.so.6")) {
                return Libc.GLIBC;
            }
        }
        return exists.test(Path.of("/lib/ld-musl-" + arch + ".so.1")) ? Libc.MUSL : Libc.GLIBC;
    }

    /** The extraction directory: the system property, else the environment variable, else tmp. */
    static Path directory(String property, String env, String tmpdir) {
        if (property != null && !property.isBlank()) {
            return Path.of(property);
        }
        if (env != null && !env.isBlank()) {
            return Path.of(env);
        }
        return Path.of(tmpdir);
    }

    /**
     * The resource of {@code platform}'s library, or the one error a user sees when this jar
     * has none for it.
     */
    static String resource(Properties manifest, Platform platform) {
        String dir = platform.directory();
        if (manifest.getProperty(dir + ".sha256") == null) {
            throw new UnsatisfiedLinkError("elect: this jar has no native library for " + platform
                    + "; it has " + manifest.getProperty("platforms", "none")
                    + ". Use a build of elect for this platform, or set -D" + LIBRARY_PROPERTY
                    + "=/path/to/" + FILE + " built for it");
        }
        return "/native/" + dir + "/" + FILE;
    }

    /** Checks an extracted file against the size and SHA-256 the manifest lists for it. */
    static void verify(Path file, Properties manifest, String platformDirectory) throws IOException {
        long expectedSize = Long.parseLong(manifest.getProperty(platformDirectory + ".size", "-1"));
        String expectedHash = manifest.getProperty(platformDirectory + ".sha256", "");
        long size = Files.size(file);
        String hash = sha256(file);
        if (size != expectedSize || !hash.equals(expectedHash)) {
            throw new IOException("the extracted " + file + " is " + size + " bytes with SHA-256 "
                    + hash + ", but the jar's manifest lists " + expectedSize + " bytes with SHA-256 "
                    + expectedHash + " for " + platformDirectory
                    + " (a damaged jar, a full disk, or something else writing to that directory)");
        }
    }

    static void load() {
        String explicit = System.getProperty(LIBRARY_PROPERTY);
        if (explicit != null && !explicit.isEmpty()) {
            System.load(Path.of(explicit).toAbsolutePath().toString());
            return;
        }
        Platform platform = detect();
        Properties manifest = manifest();
        String resource = resource(manifest, platform);
        Path dir = directory(System.getProperty(DIR_PROPERTY), System.getenv(DIR_ENV),
                System.getProperty("java.io.tmpdir"));
        Path file = null;
        try (InputStream in = NativeLibrary.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IOException("the manifest lists " + resource + " but the jar lacks it");
            }
            Files.createDirectories(dir);
            file = Files.createTempFile(dir, "libelect_jni-", ".so");
            Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
            verify(file, manifest, platform.directory());
            System.load(file.toAbsolutePath().toString());
        } catch (IOException | UnsatisfiedLinkError e) {
            UnsatisfiedLinkError error = new UnsatisfiedLinkError("elect: cannot load the native library for "
                    + platform + " from " + dir + " (choose another directory with -D" + DIR_PROPERTY
                    + " or $" + DIR_ENV + "): " + e.getMessage());
            error.initCause(e);
            throw error;
        } finally {
            if (file != null) {
                try {
                    Files.deleteIfExists(file);
                } catch (IOException e) {
                    // Loaded or not, a leftover copy is only disk space; the load result stands.
                }
            }
        }
    }

    private static Properties manifest() {
        Properties manifest = new Properties();
        try (InputStream in = NativeLibrary.class.getResourceAsStream(MANIFEST)) {
            if (in != null) {
                manifest.load(in);
            }
        } catch (IOException e) {
            throw new UnsatisfiedLinkError("elect: cannot read " + MANIFEST + " in the jar: " + e);
        }
        return manifest;
    }

    private static String sha256(Path file) throws IOException {
        MessageDigest digest;
        try {
            digest = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buffer = new byte[1 << 16];
            for (int n; (n = in.read(buffer)) > 0; ) {
                digest.update(buffer, 0, n);
            }
        }
        return HexFormat.of().formatHex(digest.digest());
    }
}
