package io.elect;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import org.junit.jupiter.api.Test;

/** The other tests only prove the JNI code right if the JVM checks every JNI call. */
class JniCheckTest {
    @Test
    void testsRunUnderXcheckJni() {
        assertTrue(ManagementFactory.getRuntimeMXBean().getInputArguments().contains("-Xcheck:jni"),
                "surefire's argLine must pass -Xcheck:jni");
    }

    @Test
    void theLibraryComesFromTheJar() {
        assertTrue(NativeLibrary.class.getResource("/native/" + NativeLibrary.detect().directory() + "/libelect_jni.so") != null);
        assertTrue(System.getProperty(NativeLibrary.LIBRARY_PROPERTY) == null, "no library path override in the tests");
        assertTrue(!LeaderElection.version().isEmpty());
    }
}
