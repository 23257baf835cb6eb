// The JDBC system test's client (crates/zizhu/tests/server.rs compiles and runs it).
import java.sql.*;
import java.math.BigDecimal;

public class JdbcCheck {
    public static void main(String[] args) throws Exception {
        String url = args[0];
        try (Connection c = DriverManager.getConnection(url, "zizhu", args[1])) {
            try (Statement s = c.createStatement()) {
                s.execute("CREATE TABLE j (id int PRIMARY KEY, name text, amount numeric(10,2), d date)");
            }
            c.setAutoCommit(false);
            try (PreparedStatement p = c.prepareStatement("INSERT INTO j VALUES (?, ?, ?, ?)")) {
                for (int i = 1; i <= 20; i++) {
                    p.setInt(1, i);
                    p.setString(2, "name" + i);
                    p.setBigDecimal(3, new BigDecimal(i).movePointLeft(1));
                    p.setDate(4, Date.valueOf("2024-01-" + String.format("%02d", i)));
                    p.addBatch();
                }
                int[] counts = p.executeBatch();
                System.out.println("batch " + counts.length);
            }
            c.commit();
            try (PreparedStatement p = c.prepareStatement("SELECT name, amount, d FROM j WHERE id = ?")) {
                for (int i = 0; i < 7; i++) { // past prepareThreshold: server-side prepared
                    p.setInt(1, 3 + i);
                    try (ResultSet r = p.executeQuery()) {
                        r.next();
                        if (i == 0 || i == 6) System.out.println(r.getString(1) + " " + r.getBigDecimal(2) + " " + r.getDate(3));
                    }
                }
            }
            try (Statement s = c.createStatement()) {
                s.executeUpdate("UPDATE j SET amount = amount + 1 WHERE id = 1");
                c.rollback();
                try (ResultSet r = s.executeQuery("SELECT amount FROM j WHERE id = 1")) { r.next(); System.out.println("after rollback " + r.getBigDecimal(1)); }
                try { s.executeQuery("SELECT 1/0"); } catch (SQLException e) { System.out.println("error " + e.getSQLState()); }
                c.rollback();
                try (ResultSet r = s.executeQuery("SELECT count(*) FROM j")) { r.next(); System.out.println("count " + r.getLong(1)); }
            }
            c.commit();
            DatabaseMetaData md = c.getMetaData();
            System.out.println("product " + md.getDatabaseProductName() + " " + md.getDatabaseProductVersion());
            // getTables and the other metadata calls read pg_catalog, which is not built yet.
        }
    }
}
