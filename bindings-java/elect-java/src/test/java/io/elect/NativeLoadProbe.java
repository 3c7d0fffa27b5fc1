package io.elect;

/** A JVM that only loads the native library: prints {@code loaded} or the error, on one line. */
public final class NativeLoadProbe {
    private NativeLoadProbe() {
    }

    public static void main(String[] args) {
        try {
            LeaderElection.version();
            System.out.println("loaded");
        } catch (Throwable t) {
            System.out.println(t.toString().replace('\n', ' '));
        }
    }
}
