package io.elect;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.elect.spring.ElectProperties;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Every option of core is a property of the starter ({@code elect.connect-timeout} for
 * {@code connect_timeout}): a core option the properties lack fails here. In package
 * {@code io.elect} to read core's table through the native library, as TablesTest does.
 */
class PropertiesTablesTest {
    @Test
    void thePropertiesSetEveryOption() {
        NativeLibrary.load();
        // Spring binds `connect-timeout` and `connectTimeout` alike: compare without case or `_`.
        List<String> setters = Arrays.stream(ElectProperties.class.getMethods())
                .map(m -> m.getName().toLowerCase(Locale.ROOT)).collect(Collectors.toList());
        List<String> options = Arrays.stream(NativeElection.tables().split("\n"))
                .map(l -> l.split(" "))
                .filter(r -> r[0].equals("option"))
                .map(r -> r[1])
                .collect(Collectors.toList());
        assertTrue(options.size() >= 8, "core lists its options");
        for (String option : options) {
            String setter = "set" + option.replace("_", "");
            assertTrue(setters.contains(setter), "ElectProperties lacks option `" + option + "`");
        }
    }
}
