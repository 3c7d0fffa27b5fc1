package io.elect.fencing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.elect.fencing.SqlFence.Dialect;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** The MySQL dialect over JDBC on the MariaDB of the test run (ELECT_MYSQL_URI). */
class SqlFenceMySqlTest {
    @Test
    void aStaleTokenIsRejectedAndDoesNotWrite() throws SQLException {
        String uri = System.getenv("ELECT_MYSQL_URI");
        assumeTrue(uri != null && !uri.isEmpty(), "ELECT_MYSQL_URI not set");
        URI u = URI.create(uri);
        String[] user = u.getRawUserInfo().split(":", 2);
        String table = "rows_" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
        try (Connection c = DriverManager.getConnection("jdbc:mariadb://" + u.getHost() + ":" + u.getPort() + u.getPath(),
                user[0], URLDecoder.decode(user[1], StandardCharsets.UTF_8)); Statement st = c.createStatement()) {
            st.execute(SqlFence.createTableSql(Dialect.MYSQL));
            st.execute("CREATE TABLE " + table + " (id int PRIMARY KEY, token bigint NOT NULL) ENGINE=InnoDB");
            try {
                long[][] writes = {{1, 5}, {2, 7}, {4, 7}};
                for (long[] w : writes) {
                    assertEquals(1, insert(c, table, w[0], w[1]));
                    if (w[0] == 2) {
                        assertEquals(7, assertThrows(StaleTokenException.class, () -> insert(c, table, 3, 5)).highest());
                    }
                }
                try (ResultSet rs = st.executeQuery("SELECT GROUP_CONCAT(id ORDER BY id) FROM " + table)) {
                    rs.next();
                    assertEquals("1,2,4", rs.getString(1));
                }
            } finally {
                st.execute("DROP TABLE " + table);
            }
        }
    }

    private static int insert(Connection c, String table, long id, long token) throws SQLException {
        return SqlFence.inTransaction(c, Dialect.MYSQL, table, token, conn -> {
            try (PreparedStatement st = conn.prepareStatement("INSERT INTO " + table + " VALUES (?, ?)")) {
                st.setLong(1, id);
                st.setLong(2, token);
                return st.executeUpdate();
            }
        });
    }
}
