package io.elect.spring.fencing;

import io.elect.fencing.SqlFence;
import io.elect.fencing.SqlFence.Dialect;
import java.sql.PreparedStatement;
import org.springframework.jdbc.core.ConnectionCallback;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * The SQL guard ({@link SqlFence}) on a {@link JdbcTemplate}. Inside a Spring-managed
 * transaction the fence joins it (the fence row stays locked until that transaction ends);
 * outside one, each call is a transaction of its own.
 *
 * <pre>{@code
 * FencedJdbc.update(jdbc, Dialect.POSTGRESQL, "invoices", token,
 *         "UPDATE invoices SET state = 'sent' WHERE id = ?", id);
 * }</pre>
 *
 * A stale token throws {@link io.elect.fencing.StaleTokenException} and writes nothing.
 */
public final class FencedJdbc {
    private FencedJdbc() {
    }

    /** {@code work} on the template's connection, after the fence of {@code resource}. */
    public static <T> T execute(JdbcTemplate jdbc, Dialect dialect, String resource, long token, SqlFence.Work<T> work) {
        return jdbc.execute((ConnectionCallback<T>) connection -> {
            if (connection.getAutoCommit()) {
                return SqlFence.inTransaction(connection, dialect, resource, token, work);
            }
            SqlFence.fence(connection, dialect, resource, token);
            return work.run(connection);
        });
    }

    /** One update statement under the fence; returns the rows it affected. */
    public static int update(JdbcTemplate jdbc, Dialect dialect, String resource, long token, String sql, Object... args) {
        return execute(jdbc, dialect, resource, token, connection -> {
            try (PreparedStatement st = connection.prepareStatement(sql)) {
                for (int i = 0; i < args.length; i++) {
                    st.setObject(i + 1, args[i]);
                }
                return st.executeUpdate();
            }
        });
    }
}
