package io.elect.fencing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.elect.fencing.SqlFence.Dialect;
import java.net.URI;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The SQL guard over JDBC against the real PostgreSQL of the test run (ELECT_POSTGRES_URI). */
class SqlFenceTest {
    private String table;

    /** A JDBC connection to the PostgreSQL of {@code ELECT_POSTGRES_URI} (postgres://user:pw@host:port/db). */
    static Connection connect() throws SQLException {
        String uri = System.getenv("ELECT_POSTGRES_URI");
        assumeTrue(uri != null && !uri.isEmpty(), "ELECT_POSTGRES_URI not set");
        URI u = URI.create(uri);
        String[] user = u.getRawUserInfo().split(":", 2);
        return DriverManager.getConnection("jdbc:postgresql://" + u.getHost() + ":" + u.getPort() + u.getPath(),
                user[0], user.length > 1 ? java.net.URLDecoder.decode(user[1], java.nio.charset.StandardCharsets.UTF_8) : "");
    }

    @BeforeEach
    void createTables() throws SQLException {
        table = "rows_" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
        try (Connection c = connect(); Statement st = c.createStatement()) {
            st.execute(SqlFence.createTableSql(Dialect.POSTGRESQL));
            st.execute("CREATE TABLE " + table + " (id int PRIMARY KEY, token bigint NOT NULL)");
        }
    }

    @AfterEach
    void dropTable() throws SQLException {
        try (Connection c = connect(); Statement st = c.createStatement()) {
            st.execute("DROP TABLE IF EXISTS " + table);
        }
    }

    private int insert(Connection c, int id, long token) throws SQLException {
        return SqlFence.inTransaction(c, Dialect.POSTGRESQL, table, token, conn -> {
            try (PreparedStatement st = conn.prepareStatement("INSERT INTO " + table + " VALUES (?, ?)")) {
                st.setInt(1, id);
                st.setLong(2, token);
                return st.executeUpdate();
            }
        });
    }

    private List<String> rows() throws SQLException {
        List<String> rows = new ArrayList<>();
        try (Connection c = connect(); Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT id, token FROM " + table + " ORDER BY id")) {
            while (rs.next()) {
                rows.add(rs.getInt(1) + "@" + rs.getLong(2));
            }
        }
        return rows;
    }

    @Test
    void aStaleTokenIsRejectedAndDoesNotWrite() throws SQLException {
        try (Connection c = connect()) {
            assertEquals(1, insert(c, 1, 5));
            assertEquals(1, insert(c, 2, 7));
            StaleTokenException e = assertThrows(StaleTokenException.class, () -> insert(c, 3, 5));
            assertEquals(7, e.highest());
            assertTrue(e.getMessage().contains(table), e.getMessage());
            assertEquals(1, insert(c, 4, 7)); // the same term writes again
            assertTrue(c.getAutoCommit(), "the connection's auto-commit is restored");
        }
        assertEquals(List.of("1@5", "2@7", "4@7"), rows());
    }

    @Test
    void anOlderWriterQueuedBehindANewerOneIsRejected() throws Exception {
        try (Connection newer = connect(); Connection older = connect()) {
            newer.setAutoCommit(false);
            SqlFence.fence(newer, Dialect.POSTGRESQL, table, 9);
            CompletableFuture<Integer> stale = CompletableFuture.supplyAsync(() -> {
                try {
                    return insert(older, 2, 8);
                } catch (SQLException e) {
                    throw new RuntimeException(e);
                }
            });
            waitForLockWait(newer);
            try (Statement st = newer.createStatement()) {
                st.executeUpdate("INSERT INTO " + table + " VALUES (1, 9)");
            }
            newer.commit();
            Throwable t = assertThrows(Exception.class, () -> stale.get(15, TimeUnit.SECONDS)).getCause();
            assertTrue(t instanceof StaleTokenException, String.valueOf(t));
        }
        assertEquals(List.of("1@9"), rows());
    }

    private static void waitForLockWait(Connection c) throws Exception {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (System.nanoTime() < end) {
            try (Connection watch = connect(); Statement st = watch.createStatement(); ResultSet rs = st.executeQuery(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()")) {
                rs.next();
                if (rs.getInt(1) > 0) {
                    return;
                }
            }
            Thread.sleep(10);
        }
        throw new AssertionError("the older writer never waited for the fence row");
    }

    @Test
    void badUseIsNamed() throws SQLException {
        try (Connection c = connect()) {
            assertTrue(assertThrows(IllegalArgumentException.class, () -> insert(c, 1, 0)).getMessage()
                    .contains("not leading"));
            assertTrue(assertThrows(IllegalStateException.class,
                    () -> SqlFence.fence(c, Dialect.POSTGRESQL, table, 3)).getMessage().contains("auto-commit"));
        }
        assertEquals(List.of(), rows());
    }
}
