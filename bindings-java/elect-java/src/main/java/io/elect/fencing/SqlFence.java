package io.elect.fencing;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import javax.sql.DataSource;

/**
 * The SQL guard: a fence row per resource in table {@code elect_fence}, raised in the same
 * transaction as the write it guards. A token lower than the row's is refused with
 * {@link StaleTokenException} and the transaction rolls back, so the write does not happen.
 *
 * <pre>{@code
 * long token = election.fencingToken().orElseThrow();
 * SqlFence.inTransaction(dataSource, Dialect.POSTGRESQL, "invoices", token, conn -> {
 *     try (var st = conn.prepareStatement("UPDATE invoices SET state = 'sent' WHERE id = ?")) {
 *         st.setLong(1, id);
 *         return st.executeUpdate();
 *     }
 * });
 * }</pre>
 */
public final class SqlFence {
    private SqlFence() {
    }

    /** The SQL of the fence statements. */
    public enum Dialect {
        /** {@code INSERT ... ON CONFLICT DO UPDATE ... WHERE ... RETURNING}. */
        POSTGRESQL,
        /** MySQL and MariaDB (InnoDB): {@code ON DUPLICATE KEY UPDATE GREATEST}, then a locking read. */
        MYSQL
    }

    /** Work on the connection of a fenced transaction. */
    @FunctionalInterface
    public interface Work<T> {
        T run(Connection connection) throws SQLException;
    }

    /** The fence table of {@code dialect}, for migrations and demos. */
    public static String createTableSql(Dialect dialect) {
        return dialect == Dialect.MYSQL
                ? "CREATE TABLE IF NOT EXISTS elect_fence (resource varchar(255) PRIMARY KEY,"
                        + " token bigint NOT NULL) ENGINE=InnoDB"
                : "CREATE TABLE IF NOT EXISTS elect_fence (resource text PRIMARY KEY, token bigint NOT NULL)";
    }

    /**
     * Raises the fence of {@code resource} to {@code token} in the connection's open
     * transaction (auto-commit must be off). Throws {@link StaleTokenException} when a higher
     * token has been seen: roll back. Otherwise the fence row stays locked until the
     * transaction ends, so what follows in it is the write the token guards.
     */
    public static void fence(Connection connection, Dialect dialect, String resource, long token) throws SQLException {
        StaleTokenException.check(token);
        if (connection.getAutoCommit()) {
            throw new IllegalStateException("SqlFence.fence needs a transaction (auto-commit off):"
                    + " the fence and the write must commit together");
        }
        if (dialect == Dialect.POSTGRESQL) {
            try (PreparedStatement st = connection.prepareStatement(
                    "INSERT INTO elect_fence (resource, token) VALUES (?, ?) ON CONFLICT (resource)"
                            + " DO UPDATE SET token = EXCLUDED.token WHERE elect_fence.token <= EXCLUDED.token"
                            + " RETURNING token")) {
                st.setString(1, resource);
                st.setLong(2, token);
                try (ResultSet rs = st.executeQuery()) {
                    if (rs.next()) {
                        return;
                    }
                }
            }
            throw new StaleTokenException(resource, token, highest(connection, resource, ""));
        }
        try (PreparedStatement st = connection.prepareStatement(
                "INSERT INTO elect_fence (resource, token) VALUES (?, ?)"
                        + " ON DUPLICATE KEY UPDATE token = GREATEST(token, ?)")) {
            st.setString(1, resource);
            st.setLong(2, token);
            st.setLong(3, token);
            st.executeUpdate();
        }
        long highest = highest(connection, resource, " FOR UPDATE");
        if (highest > token) {
            throw new StaleTokenException(resource, token, highest);
        }
    }

    private static long highest(Connection connection, String resource, String lock) throws SQLException {
        try (PreparedStatement st = connection.prepareStatement(
                "SELECT token FROM elect_fence WHERE resource = ?" + lock)) {
            st.setString(1, resource);
            try (ResultSet rs = st.executeQuery()) {
                return rs.next() ? rs.getLong(1) : 0;
            }
        }
    }

    /**
     * Runs {@code work} in a new transaction on a connection of {@code dataSource}, after the
     * fence: commits if it returns, rolls back if it throws (a stale token throws before
     * {@code work} runs).
     */
    public static <T> T inTransaction(DataSource dataSource, Dialect dialect, String resource, long token,
            Work<T> work) throws SQLException {
        StaleTokenException.check(token);
        try (Connection connection = dataSource.getConnection()) {
            return inTransaction(connection, dialect, resource, token, work);
        }
    }

    /** {@link #inTransaction(DataSource, Dialect, String, long, Work)} on a connection of yours. */
    public static <T> T inTransaction(Connection connection, Dialect dialect, String resource, long token,
            Work<T> work) throws SQLException {
        boolean autoCommit = connection.getAutoCommit();
        connection.setAutoCommit(false);
        try {
            fence(connection, dialect, resource, token);
            T result = work.run(connection);
            connection.commit();
            return result;
        } catch (SQLException | RuntimeException | Error e) {
            connection.rollback();
            throw e;
        } finally {
            connection.setAutoCommit(autoCommit);
        }
    }
}
