package io.elect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.elect.NativeLibrary.Libc;
import io.elect.NativeLibrary.Platform;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Platform detection, the choice of directory, the manifest check and the one error message. */
class NativeLibraryTest {
    private static final List<String> GLIBC_MAPS = List.of(
            "7f0a1c000000-7f0a1c028000 r--p 00000000 08:01 1234 /usr/lib/x86_64-linux-gnu/libc.so.6",
            "7f0a1c200000-7f0a1c22a000 r--p 00000000 08:01 1240 /usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2");
    private static final List<String> MUSL_MAPS = List.of(
            "55d0c0000000-55d0c0001000 r--p 00000000 00:2f 77 /usr/lib/jvm/java-17-openjdk/bin/java",
            "7f3b2c000000-7f3b2c014000 r--p 00000000 00:2f 91 /lib/ld-musl-aarch64.so.1");

    @Test
    void architecturesTakeTheNamesOfRustTargets() {
        assertEquals("x86_64", NativeLibrary.arch("amd64"));
        assertEquals("x86_64", NativeLibrary.arch("x86_64"));
        assertEquals("aarch64", NativeLibrary.arch("aarch64"));
        assertEquals("aarch64", NativeLibrary.arch("ARM64"));
        assertEquals("riscv64", NativeLibrary.arch("riscv64"));
    }

    @Test
    void theMappedLoaderTellsMuslFromGlibc() {
        assertEquals(Libc.GLIBC, NativeLibrary.libc(GLIBC_MAPS, "x86_64", p -> true));
        assertEquals(Libc.MUSL, NativeLibrary.libc(MUSL_MAPS, "aarch64", p -> false));
        // Without /proc: musl's loader on disk decides.
        assertEquals(Libc.MUSL, NativeLibrary.libc(List.of(), "x86_64",
                p -> p.equals(Path.of("/lib/ld-musl-x86_64.so.1"))));
        assertEquals(Libc.GLIBC, NativeLibrary.libc(List.of(), "x86_64", p -> false));
    }

    @Test
    void thisJvmIsDetectedAsWhatItRunsOn() throws IOException {
        Platform p = NativeLibrary.detect();
        boolean musl = Files.readString(Path.of("/proc/self/maps")).contains("ld-musl");
        assertEquals("linux", p.os());
        assertEquals(musl ? Libc.MUSL : Libc.GLIBC, p.libc());
    }

    @Test
    void directoriesNameArchAndLibc() {
        assertEquals("linux-x86_64", new Platform("linux", "x86_64", Libc.GLIBC).directory());
        assertEquals("linux-aarch64-musl", new Platform("linux", "aarch64", Libc.MUSL).directory());
        assertEquals("macosx-aarch64", new Platform("macosx", "aarch64", Libc.GLIBC).directory());
    }

    @Test
    void thePropertyThenTheEnvironmentChooseTheDirectory() {
        assertEquals(Path.of("/p"), NativeLibrary.directory("/p", "/e", "/tmp"));
        assertEquals(Path.of("/e"), NativeLibrary.directory(null, "/e", "/tmp"));
        assertEquals(Path.of("/e"), NativeLibrary.directory(" ", "/e", "/tmp"));
        assertEquals(Path.of("/tmp"), NativeLibrary.directory(null, null, "/tmp"));
    }

    @Test
    void aPlatformWithoutALibraryGetsOneMessageNamingIt() {
        Properties manifest = new Properties();
        manifest.setProperty("platforms", "linux-x86_64,linux-aarch64");
        manifest.setProperty("linux-x86_64.sha256", "00");
        manifest.setProperty("linux-aarch64.sha256", "00");
        assertEquals("/native/linux-x86_64/libelect_jni.so",
                NativeLibrary.resource(manifest, new Platform("linux", "x86_64", Libc.GLIBC)));
        UnsatisfiedLinkError e = assertThrows(UnsatisfiedLinkError.class,
                () -> NativeLibrary.resource(manifest, new Platform("linux", "x86_64", Libc.MUSL)));
        assertEquals("elect: this jar has no native library for linux-x86_64-musl (musl); it has "
                + "linux-x86_64,linux-aarch64. Use a build of elect for this platform, or set "
                + "-Delect.native.library=/path/to/libelect_jni.so built for it", e.getMessage());
        e = assertThrows(UnsatisfiedLinkError.class,
                () -> NativeLibrary.resource(manifest, new Platform("linux", "riscv64", Libc.GLIBC)));
        assertTrue(e.getMessage().startsWith("elect: this jar has no native library for linux-riscv64 (glibc);"),
                e.getMessage());
    }

    @Test
    void theExtractedFileIsCheckedAgainstTheManifest(@TempDir Path dir) throws IOException {
        Properties manifest = new Properties();
        try (InputStream in = NativeLibrary.class.getResourceAsStream(NativeLibrary.MANIFEST)) {
            manifest.load(in);
        }
        String platform = NativeLibrary.detect().directory();
        Path file = dir.resolve("lib.so");
        try (InputStream in = NativeLibrary.class.getResourceAsStream("/native/" + platform + "/libelect_jni.so")) {
            Files.copy(in, file);
        }
        NativeLibrary.verify(file, manifest, platform);

        byte[] bytes = Files.readAllBytes(file);
        bytes[bytes.length / 2] ^= 1;
        Files.write(file, bytes);
        IOException e = assertThrows(IOException.class, () -> NativeLibrary.verify(file, manifest, platform));
        assertTrue(e.getMessage().contains("manifest lists " + bytes.length + " bytes"), e.getMessage());

        Files.write(file, new byte[] {1, 2, 3});
        e = assertThrows(IOException.class, () -> NativeLibrary.verify(file, manifest, platform));
        assertTrue(e.getMessage().contains("is 3 bytes"), e.getMessage());
    }
}
