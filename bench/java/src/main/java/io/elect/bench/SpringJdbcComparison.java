package io.elect.bench;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;

/**
 * elect (through the Java binding) and Spring Integration's {@code LockRegistryLeaderInitiator}
 * over {@code JdbcLockRegistry} ({@link SpringJdbcSide}) on the same servers, in one run: for
 * every store (MySQL/MariaDB from {@code ELECT_MYSQL_URI}, PostgreSQL from
 * {@code ELECT_POSTGRES_URI}, as {@code scripts/servers/*} print them) and library, a
 * {@link Fleet} of three candidate JVMs times
 * <ul>
 * <li>graceful hand-over (elect {@code resign()}, Spring {@code Context.yield()}) with both
 * libraries' default lease of 10 s, so only the release can explain a fast successor;</li>
 * <li>shutdown of the leader's JVM, as in a redeploy (elect {@code close()}, Spring
 * {@code LockRegistryLeaderInitiator.stop()}), with the same default lease;</li>
 * <li>SIGKILL of the leader's JVM with the same lease for both ({@code --crash-ttl-ms}).</li>
 * </ul>
 * Prints one JSON line per (store, library, kind) on stdout ({@link ResultLine}, what
 * scripts/bench collects), and a table with the ratios on stderr. Starts no server.
 *
 * <pre>java -cp ... io.elect.bench.SpringJdbcComparison [--graceful 100] [--crash 20]
 *     [--crash-ttl-ms 2000] [--libs elect,spring-jdbc] [--stores mysql,postgres]</pre>
 *
 * scripts/bench's peer-hook flags {@code --rounds N --crash-rounds N --ttl-ms MS} set the
 * graceful and crash (and shutdown) rounds and one lease for every kind, and make Spring the
 * only library measured unless {@code --libs} says otherwise: that run measures elect from Java
 * on the same servers itself (CuratorComparison's elect/postgres and elect/mysql cases).
 */
public final class SpringJdbcComparison {
    /** The default lease of both libraries (elect's {@code ttl}, Spring's lock time-to-live). */
    private static final int DEFAULT_TTL_MS = 10_000;
    private static final Map<String, String> STORE_ENV = Map.of(
            "mysql", "ELECT_MYSQL_URI", "postgres", "ELECT_POSTGRES_URI");

    private record Row(String store, String library, String kind, double medianMs, double p99Ms, int rounds,
            int ttlMs, int wonBack, int unprompted) {
    }

    private final List<Row> rows = new ArrayList<>();

    public static void main(String[] args) throws Exception {
        int graceful = 100;
        int crash = 20;
        int crashTtl = 2000;
        int gracefulTtl = DEFAULT_TTL_MS;
        List<String> libs = null;
        boolean hook = false;
        List<String> stores = List.of("mysql", "postgres");
        for (int i = 0; i < args.length; i += 2) {
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException("flag " + args[i] + " needs a value");
            }
            switch (args[i]) {
                case "--graceful" -> graceful = Integer.parseInt(args[i + 1]);
                case "--crash" -> crash = Integer.parseInt(args[i + 1]);
                case "--crash-ttl-ms" -> crashTtl = Integer.parseInt(args[i + 1]);
                case "--rounds" -> {
                    graceful = Integer.parseInt(args[i + 1]);
                    hook = true;
                }
                case "--crash-rounds" -> crash = Integer.parseInt(args[i + 1]);
                case "--ttl-ms" -> {
                    crashTtl = Integer.parseInt(args[i + 1]);
                    gracefulTtl = crashTtl;
                }
                case "--libs" -> libs = List.of(args[i + 1].split(","));
                case "--stores" -> stores = List.of(args[i + 1].split(","));
                default -> throw new IllegalArgumentException("unknown flag " + args[i]);
            }
        }
        if (libs == null) {
            libs = hook ? List.of("spring-jdbc") : List.of("elect", "spring-jdbc");
        }
        SpringJdbcComparison run = new SpringJdbcComparison();
        for (String store : stores) {
            String env = STORE_ENV.get(store);
            if (env == null) {
                throw new IllegalArgumentException("unknown store " + store + " (mysql, postgres)");
            }
            String raw = System.getenv(env);
            if (raw == null || raw.isEmpty()) {
                System.err.printf("%s unset: %s skipped%n", env, store);
                continue;
            }
            StoreUri uri = StoreUri.parse(raw);
            for (String lib : libs) {
                run.measure(store, uri, lib, graceful, crash, gracefulTtl, crashTtl);
            }
        }
        run.ratios();
        System.exit(0);
    }

    private void measure(String store, StoreUri uri, String lib, int gracefulRounds, int crashRounds,
            int gracefulTtl, int crashTtl) throws Exception {
        SpringJdbcSide.Jdbc jdbc = SpringJdbcSide.Jdbc.of(uri);
        if (lib.equals("spring-jdbc")) {
            createLockTable(store, jdbc);
        }
        System.err.printf("%s on %s: %d graceful rounds and %d shutdowns (ttl %d ms), %d SIGKILL rounds (ttl %d ms)%n",
                lib, uri, gracefulRounds, crashRounds, gracefulTtl, crashRounds, crashTtl);
        try (Fleet fleet = new Fleet(launcher(lib, uri, jdbc, gracefulTtl))) {
            add(store, lib, "graceful", fleet.graceful(gracefulRounds), gracefulTtl);
            add(store, lib, "shutdown", fleet.shutdown(crashRounds), gracefulTtl);
        }
        try (Fleet fleet = new Fleet(launcher(lib, uri, jdbc, crashTtl))) {
            add(store, lib, "crash", fleet.crash(crashRounds), crashTtl);
        }
    }

    private static Fleet.Launcher launcher(String lib, StoreUri uri, SpringJdbcSide.Jdbc jdbc, int ttlMs) {
        String name = "bench-" + UUID.randomUUID().toString().substring(0, 8);
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        return id -> {
            ProcessBuilder b = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                    Candidate.class.getName(), lib, "-", name, id, Integer.toString(ttlMs));
            switch (lib) {
                case "elect" -> b.environment().put(Candidate.URI_ENV, uri.with("ttl", ttlMs + "ms"));
                case "spring-jdbc" -> jdbc.toEnv(b);
                default -> throw new IllegalArgumentException("library: elect or spring-jdbc, not " + lib);
            }
            return b;
        };
    }

    /** Spring Integration's own {@code INT_LOCK} DDL for the server, from its jar. */
    private static void createLockTable(String store, SpringJdbcSide.Jdbc jdbc) throws IOException, SQLException {
        String resource = "org/springframework/integration/jdbc/schema-"
                + (store.equals("mysql") ? "mysql" : "postgresql") + ".sql";
        String ddl;
        try (InputStream in = SpringJdbcComparison.class.getClassLoader().getResourceAsStream(resource)) {
            if (in == null) {
                throw new IOException("no " + resource + " on the class path");
            }
            ddl = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        int start = ddl.indexOf("CREATE TABLE INT_LOCK");
        String create = ddl.substring(start, ddl.indexOf(';', start))
                .replace("CREATE TABLE INT_LOCK", "CREATE TABLE IF NOT EXISTS INT_LOCK");
        try (Connection c = DriverManager.getConnection(jdbc.url(), jdbc.user(), jdbc.password());
                Statement s = c.createStatement()) {
            s.execute(create);
        }
    }

    private void add(String store, String lib, String kind, Fleet.Result result, int ttlMs) {
        double[] m = Stats.medianP99(result.nanos(), 1e6);
        Row row = new Row(store, lib, kind, m[0], m[1], result.nanos().length, ttlMs, result.wonBack(),
                result.unprompted());
        rows.add(row);
        long[] sorted = result.nanos().clone();
        Arrays.sort(sorted);
        String what = kind.equals("crash") ? "SIGKILL failover" : kind + " failover";
        System.out.println(ResultLine.of(lib, store, what, sorted, 1e6, ttlMs, 3));
        System.out.flush();
    }

    /** The table, with each row's median and p99 over elect's on the same store and kind. */
    private void ratios() {
        System.err.printf("%-9s %-12s %-9s %11s %11s %8s %8s %9s %10s%n", "store", "library", "kind", "median ms",
                "p99 ms", "x elect", "p99 x", "won back", "unprompted");
        for (Row r : rows) {
            Row elect = rows.stream().filter(e -> e.library.equals("elect") && e.store.equals(r.store)
                    && e.kind.equals(r.kind)).findFirst().orElse(null);
            String ratio = elect == null ? "" : String.format(Locale.ROOT, "%.2f", r.medianMs / elect.medianMs);
            String p99Ratio = elect == null ? "" : String.format(Locale.ROOT, "%.2f", r.p99Ms / elect.p99Ms);
            System.err.printf(Locale.ROOT, "%-9s %-12s %-9s %11.3f %11.3f %8s %8s %9d %10d%n", r.store, r.library,
                    r.kind, r.medianMs, r.p99Ms, ratio, p99Ratio, r.wonBack, r.unprompted);
        }
    }
}
