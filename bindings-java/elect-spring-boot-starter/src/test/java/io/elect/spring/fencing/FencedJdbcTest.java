package io.elect.spring.fencing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.elect.fencing.SqlFence;
import io.elect.fencing.SqlFence.Dialect;
import io.elect.fencing.StaleTokenException;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.jdbc.datasource.SimpleDriverDataSource;
import org.springframework.transaction.support.TransactionTemplate;

/** FencedJdbc against the real PostgreSQL of the test run (ELECT_POSTGRES_URI). */
class FencedJdbcTest {
    private JdbcTemplate jdbc;
    private SimpleDriverDataSource dataSource;
    private String table;

    @BeforeEach
    void setUp() {
        String uri = System.getenv("ELECT_POSTGRES_URI");
        assumeTrue(uri != null && !uri.isEmpty(), "ELECT_POSTGRES_URI not set");
        URI u = URI.create(uri);
        String[] userInfo = u.getRawUserInfo().split(":", 2);
        dataSource = new SimpleDriverDataSource(new org.postgresql.Driver(),
                "jdbc:postgresql://" + u.getHost() + ":" + u.getPort() + u.getPath(), userInfo[0],
                URLDecoder.decode(userInfo[1], StandardCharsets.UTF_8));
        jdbc = new JdbcTemplate(dataSource);
        table = "rows_" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
        jdbc.execute(SqlFence.createTableSql(Dialect.POSTGRESQL));
        jdbc.execute("CREATE TABLE " + table + " (id int PRIMARY KEY, token bigint NOT NULL)");
    }

    @AfterEach
    void dropTable() {
        if (jdbc != null) {
            jdbc.execute("DROP TABLE IF EXISTS " + table);
        }
    }

    private int insert(int id, long token) {
        return FencedJdbc.update(jdbc, Dialect.POSTGRESQL, table, token, "INSERT INTO " + table + " VALUES (?, ?)", id, token);
    }

    @Test
    void aStaleTokenIsRejectedAndDoesNotWrite() {
        assertThat(insert(1, 5)).isEqualTo(1);
        assertThat(insert(2, 7)).isEqualTo(1);
        assertThatThrownBy(() -> insert(3, 5)).isInstanceOf(StaleTokenException.class).hasMessageContaining("highest seen 7");
        assertThat(insert(4, 7)).isEqualTo(1);
        assertThat(jdbc.queryForList("SELECT id FROM " + table + " ORDER BY id", Integer.class)).containsExactly(1, 2, 4);
    }

    @Test
    void theFenceJoinsASpringTransaction() {
        TransactionTemplate tx = new TransactionTemplate(new DataSourceTransactionManager(dataSource));
        assertThatThrownBy(() -> tx.executeWithoutResult(status -> {
            insert(1, 9);
            throw new IllegalStateException("the outer transaction fails");
        })).hasMessage("the outer transaction fails");
        // The fence rolled back with the transaction: 8 is not stale.
        assertThat(insert(2, 8)).isEqualTo(1);
        assertThat(jdbc.queryForList("SELECT id FROM " + table, Integer.class)).containsExactly(2);
    }
}
