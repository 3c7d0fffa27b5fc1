package io.elect.bench;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.springframework.integration.jdbc.lock.DefaultLockRepository;
import org.springframework.integration.jdbc.lock.JdbcLockRegistry;
import org.springframework.integration.leader.Context;
import org.springframework.integration.leader.DefaultCandidate;
import org.springframework.integration.support.leader.LockRegistryLeaderInitiator;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;

/**
 * A candidate as a Spring Integration application elects a leader on a relational database:
 * {@link LockRegistryLeaderInitiator} over {@link JdbcLockRegistry} and
 * {@link DefaultLockRepository} (the {@code INT_LOCK} table), on a HikariCP pool, wired by hand
 * the way Spring Boot's auto-configuration wires them (no application context, so the JVM
 * starts as fast as elect's candidate). Every setting is the library's default except the lock
 * time-to-live, which the comparison sets to elect's {@code ttl}: heartbeat 500 ms (the leader
 * re-takes its lock), busy-wait 50 ms, 100 ms between a waiter's attempts.
 *
 * <p>Stepping down is {@code Context.yield()}, Spring's API for it: the initiator releases the
 * lock on its next turn (within one heartbeat) and tries again after the busy-wait. Closing is
 * {@code stop()}, as a closing application context does; it interrupts the initiator's thread
 * and returns, so {@link #close} waits (a few seconds at most) for that thread's revocation
 * before closing the pool, as an orderly shutdown would.
 */
final class SpringJdbcSide implements Candidate.Side {
    private final HikariDataSource pool;
    private final LockRegistryLeaderInitiator initiator;
    private volatile Context context;
    private final Semaphore revoked = new Semaphore(0);

    /** {@code ttlMs} is the lock's time-to-live; the connection comes from {@link Jdbc#fromEnv()}. */
    SpringJdbcSide(Jdbc jdbc, String name, String id, int ttlMs) {
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(jdbc.url());
        config.setUsername(jdbc.user());
        config.setPassword(jdbc.password());
        config.setPoolName("spring-jdbc-" + id);
        pool = new HikariDataSource(config);
        DefaultLockRepository repository = new DefaultLockRepository(pool);
        repository.setTimeToLive(ttlMs);
        repository.setTransactionManager(new DataSourceTransactionManager(pool));
        repository.afterPropertiesSet();
        repository.afterSingletonsInstantiated();
        repository.start();
        initiator = new LockRegistryLeaderInitiator(new JdbcLockRegistry(repository), new DefaultCandidate(id, name) {
            @Override
            public void onGranted(Context ctx) {
                context = ctx;
                Candidate.say("elected " + System.nanoTime());
            }

            @Override
            public void onRevoked(Context ctx) {
                context = null;
                revoked.release();
            }
        });
        initiator.start();
    }

    @Override
    public void resign() {
        Context c = context;
        if (c != null) {
            c.yield();
        }
    }

    @Override
    public void close() throws InterruptedException {
        boolean leading = context != null;
        initiator.stop();
        if (leading) {
            revoked.tryAcquire(5, TimeUnit.SECONDS);
        }
        pool.close();
    }

    /** A JDBC connection: URL, user and password (never on a command line: from the environment). */
    record Jdbc(String url, String user, String password) {
        static final String URL = "ELECT_BENCH_JDBC_URL";
        static final String USER = "ELECT_BENCH_JDBC_USER";
        static final String PASSWORD = "ELECT_BENCH_JDBC_PASSWORD";

        static Jdbc fromEnv() {
            return new Jdbc(System.getenv(URL), System.getenv(USER), System.getenv(PASSWORD));
        }

        void toEnv(ProcessBuilder builder) {
            builder.environment().put(URL, url);
            builder.environment().put(USER, user);
            builder.environment().put(PASSWORD, password);
        }

        /**
         * The JDBC connection to the server of an elect URI ({@code mysql://}, {@code mariadb://},
         * {@code postgres://}, {@code postgresql://}). Transport security follows elect's
         * {@code sslmode}: by default both encrypt when the server offers TLS.
         */
        static Jdbc of(StoreUri uri) {
            boolean plain = "disable".equals(uri.query("sslmode"));
            return switch (uri.scheme()) {
                case "mysql", "mariadb" -> new Jdbc("jdbc:mariadb://" + uri.hostPort() + "/" + uri.database()
                        + "?sslMode=" + (plain ? "disable" : "trust"), uri.user(), uri.password());
                case "postgres", "postgresql" -> new Jdbc("jdbc:postgresql://" + uri.hostPort() + "/" + uri.database()
                        + "?sslmode=" + (plain ? "disable" : "prefer"), uri.user(), uri.password());
                default -> throw new IllegalArgumentException("no JDBC peer for scheme " + uri.scheme());
            };
        }
    }
}
