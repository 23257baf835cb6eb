// The JDBC system test's client (crates/zizhu/tests/server.rs compiles and runs it).
import java.sql.*;
import java.math.BigDecimal;

public class JdbcCheck {
    static void dump(String title, ResultSet r, String... cols) throws SQLException {
        System.out.println("-- " + title);
        while (r.next()) {
            StringBuilder b = new StringBuilder();
            for (String c : cols) b.append(c).append('=').append(r.getString(c)).append(' ');
            System.out.println(b.toString().trim());
        }
        r.close();
    }

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
            try (Statement s = c.createStatement()) {
                s.execute("CREATE TABLE k (id serial PRIMARY KEY, j_id int REFERENCES j (id) ON DELETE CASCADE, qty bigint NOT NULL, note varchar(40))");
                s.execute("CREATE INDEX k_j_qty ON k (j_id, qty)");
                s.execute("CREATE VIEW kv AS SELECT id, qty FROM k");
            }
            c.commit();
            dump("tables", md.getTables(null, "public", "%", new String[]{"TABLE", "VIEW"}), "TABLE_SCHEM", "TABLE_NAME", "TABLE_TYPE");
            dump("columns", md.getColumns(null, "public", "k", "%"), "COLUMN_NAME", "DATA_TYPE", "TYPE_NAME", "COLUMN_SIZE", "IS_NULLABLE", "COLUMN_DEF", "IS_AUTOINCREMENT");
            dump("primary keys", md.getPrimaryKeys(null, "public", "k"), "COLUMN_NAME", "KEY_SEQ", "PK_NAME");
            dump("index info", md.getIndexInfo(null, "public", "k", false, false), "INDEX_NAME", "NON_UNIQUE", "COLUMN_NAME", "ORDINAL_POSITION");
            dump("imported keys", md.getImportedKeys(null, "public", "k"), "PKTABLE_NAME", "PKCOLUMN_NAME", "FKCOLUMN_NAME", "FK_NAME", "DELETE_RULE");
        }
    }
}
