package io.elect;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.params.provider.Arguments;

/**
 * The stores the tests run on: the file backend always, and each server store whose
 * {@code ELECT_<STORE>_URI} is set (by {@code eval "$(scripts/servers/<store> start NAME)"}).
 */
final class Stores {
    private static final String[] SERVERS = {"ETCD", "ZK", "REDIS", "POSTGRES", "MYSQL"};
    private static Path fileDir;

    private Stores() {
    }

    /** Arguments (store name, base URI) for {@code @MethodSource("io.elect.Stores#all")}. */
    static Stream<Arguments> all() {
        List<Arguments> stores = new ArrayList<>();
        stores.add(Arguments.of("file", fileUri()));
        for (String store : SERVERS) {
            String uri = System.getenv("ELECT_" + store + "_URI");
            if (uri != null && !uri.isEmpty()) {
                stores.add(Arguments.of(store.toLowerCase(), uri));
            }
        }
        return stores.stream();
    }

    /** A file:// store in a temporary directory, removed when the JVM exits. */
    static synchronized String fileUri() {
        if (fileDir == null) {
            try {
                fileDir = Files.createTempDirectory("elect-java-test-");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            Path dir = fileDir;
            Runtime.getRuntime().addShutdownHook(new Thread(() -> delete(dir)));
        }
        return "file://" + fileDir;
    }

    /** {@code base} with query options appended, e.g. {@code with(uri, "ttl=2s")}. */
    static String with(String base, String options) {
        return base + (base.contains("?") ? "&" : "?") + options;
    }

    /** A name no other test or run uses, so runs against a shared server do not collide. */
    static String uniqueName(String prefix) {
        return prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
    }

    private static void delete(Path dir) {
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // best effort: it is a temporary directory
        }
    }
}
