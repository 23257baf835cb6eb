//! COPY FROM STDIN / TO STDOUT through the embedded API, in text and CSV formats.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use zizhu_sql::{Database, Session, StatementResult};
use zizhu_types::Value;

fn copy_in<E: zizhu_engine::Engine>(
    s: &mut Session<E>,
    sql: &str,
    data: &str,
) -> zizhu_sql::Result<StatementResult> {
    match s.execute_one(sql)? {
        StatementResult::CopyIn(copy) => s.copy_in(&copy, data.as_bytes()),
        other => panic!("not a COPY FROM: {other:?}"),
    }
}

fn copy_out<E: zizhu_engine::Engine>(s: &mut Session<E>, sql: &str) -> String {
    match s.execute_one(sql).unwrap() {
        StatementResult::CopyOut { data, .. } => String::from_utf8(data.concat()).unwrap(),
        other => panic!("not a COPY TO: {other:?}"),
    }
}

#[test]
fn text_format_round_trips_escapes_and_nulls() {
    let db = Database::memory();
    let mut s = db.session();
    s.execute("CREATE TABLE t (id int PRIMARY KEY, v text, n numeric(6,2))")
        .unwrap();
    let data =
        "1\tplain\t1.5\n2\ttab\\there\\nnewline\t\\N\n3\tback\\\\slash \\101\\x42\t-2\n\\.\n";
    let result = copy_in(&mut s, "COPY t FROM STDIN", data).unwrap();
    assert_eq!(result.tag(), "COPY 3");
    let StatementResult::Query { rows, .. } =
        s.execute_one("SELECT v, n FROM t WHERE id = 2").unwrap()
    else {
        panic!()
    };
    assert_eq!(
        rows[0],
        [Value::Text("tab\there\nnewline".into()), Value::Null]
    );
    let out = copy_out(&mut s, "COPY t TO STDOUT");
    assert_eq!(
        out,
        "1\tplain\t1.50\n2\ttab\\there\\nnewline\t\\N\n3\tback\\\\slash AB\t-2.00\n"
    );
}

#[test]
fn csv_format_with_header_quotes_and_a_column_list() {
    let db = Database::memory();
    let mut s = db.session();
    s.execute("CREATE TABLE t (id int PRIMARY KEY, v text, d date DEFAULT '2024-01-01')")
        .unwrap();
    let data = "id,v\n1,\"a, b\"\n2,\"say \"\"hi\"\"\"\n3,\"two\nlines\"\n4,\n5,\"\"\n";
    let result = copy_in(
        &mut s,
        "COPY t (id, v) FROM STDIN WITH (FORMAT csv, HEADER true)",
        data,
    )
    .unwrap();
    assert_eq!(result.tag(), "COPY 5");
    let out = copy_out(
        &mut s,
        "COPY (SELECT id, v, d FROM t ORDER BY id) TO STDOUT (FORMAT csv, HEADER)",
    );
    assert_eq!(
        out,
        "id,v,d\n1,\"a, b\",2024-01-01\n2,\"say \"\"hi\"\"\",2024-01-01\n3,\"two\nlines\",2024-01-01\n4,,2024-01-01\n5,\"\",2024-01-01\n"
    );
    // The legacy form, and PostgreSQL's boolean spellings.
    copy_in(&mut s, "COPY t (id) FROM STDIN CSV", "6\n").unwrap();
    copy_in(
        &mut s,
        "COPY t (id) FROM STDIN WITH (FORMAT csv, HEADER on, FREEZE on)",
        "id\n7\n",
    )
    .unwrap();
    let StatementResult::Query { rows, .. } = s.execute_one("SELECT count(*) FROM t").unwrap()
    else {
        panic!()
    };
    assert_eq!(rows[0][0], Value::Int64(7));
}

/// CSV fields as PostgreSQL 15 reads them (each expectation was taken from it): quotes in
/// the middle of a field, doubled quotes, a quoted empty string against NULL, `\.` that is not
/// the end marker, multi-byte characters beside delimiters, CRLF lines, a last line without a
/// newline, ESCAPE, and the end marker.
#[test]
fn csv_fields_are_read_as_postgresql_reads_them() {
    let db = Database::memory();
    let mut s = db.session();
    s.execute("CREATE TABLE t (id int, v text, w varchar(5))")
        .unwrap();
    let load = |s: &mut Session<_>, options: &str, data: &str| {
        copy_in(
            s,
            &format!("COPY t FROM STDIN WITH (FORMAT csv{options})"),
            data,
        )
        .unwrap()
    };
    load(
        &mut s,
        "",
        "1,ab\"cd\"ef,x\n2,\"a\"\"b\"c,y\n4,\"\",\n5,\\.,z\n7,\"é,ü\",ñ\n8,end,w",
    );
    load(&mut s, "", "3,x,y\r\n14,\"p\r\nq\",\r\n");
    load(&mut s, ", ESCAPE '\\'", "6,\"a\\\"b\\\\c\\d\",z\n");
    let result = load(&mut s, "", "9,a,b\n\\.\n10,c,d\n");
    assert_eq!(result.tag(), "COPY 1", "the data ends at \\.");
    let StatementResult::Query { rows, .. } =
        s.execute_one("SELECT id, v, w FROM t ORDER BY id").unwrap()
    else {
        panic!()
    };
    let text = |v: &str| Value::Text(v.into());
    let expected = [
        (1, text("abcdef"), text("x")),
        (2, text("a\"bc"), text("y")),
        (3, text("x"), text("y")),
        (4, text(""), Value::Null),
        (5, text("\\."), text("z")),
        (6, text("a\"b\\c\\d"), text("z")),
        (7, text("é,ü"), text("ñ")),
        (8, text("end"), text("w")),
        (9, text("a"), text("b")),
        (14, text("p\r\nq"), Value::Null),
    ];
    let expected: Vec<Vec<Value>> = expected
        .into_iter()
        .map(|(id, v, w)| vec![Value::Int32(id), v, w])
        .collect();
    assert_eq!(rows, expected);
}

/// Fields are read by their column type's input function: a `varchar(n)` field longer than
/// `n` is an error (not cut, as a cast would), trailing blanks excepted; and the format's
/// characters must be one byte.
#[test]
fn fields_too_long_and_multibyte_delimiters_are_errors() {
    let db = Database::memory();
    let mut s = db.session();
    s.execute("CREATE TABLE t (id int, w varchar(5), c char(3))")
        .unwrap();
    let err = copy_in(
        &mut s,
        "COPY t FROM STDIN WITH (FORMAT csv)",
        "1,abcdef,x\n",
    )
    .unwrap_err();
    assert_eq!(err.sqlstate(), "22001");
    assert_eq!(
        err.to_string(),
        "value too long for type character varying(5)"
    );
    copy_in(
        &mut s,
        "COPY t FROM STDIN WITH (FORMAT csv)",
        "2,\"abc   \",ab\n",
    )
    .unwrap();
    let StatementResult::Query { rows, .. } = s.execute_one("SELECT id, w, c FROM t").unwrap()
    else {
        panic!()
    };
    assert_eq!(
        rows,
        [[
            Value::Int32(2),
            Value::Text("abc  ".into()),
            Value::Text("ab ".into())
        ]]
    );
    for option in ["DELIMITER 'é'", "QUOTE 'é'", "ESCAPE 'é'"] {
        let err = s
            .execute_one(&format!("COPY t FROM STDIN WITH (FORMAT csv, {option})"))
            .unwrap_err();
        assert_eq!(err.sqlstate(), "0A000", "{option}");
        assert!(
            err.to_string()
                .ends_with("must be a single one-byte character"),
            "{err}"
        );
    }
}

#[test]
fn a_bad_row_loads_nothing_and_errors_name_the_problem() {
    let db = Database::memory();
    let mut s = db.session();
    s.execute("CREATE TABLE t (id int PRIMARY KEY, v text NOT NULL)")
        .unwrap();
    let code = |r: zizhu_sql::Result<StatementResult>| r.unwrap_err().sqlstate().to_string();
    assert_eq!(
        code(copy_in(&mut s, "COPY t FROM STDIN", "1\ta\n2\n")),
        "22P04"
    );
    assert_eq!(
        code(copy_in(&mut s, "COPY t FROM STDIN", "1\ta\tb\n")),
        "22P04"
    );
    assert_eq!(
        code(copy_in(&mut s, "COPY t FROM STDIN", "1\ta\nx\tb\n")),
        "22P02"
    );
    assert_eq!(
        code(copy_in(&mut s, "COPY t FROM STDIN", "1\ta\n1\tb\n")),
        "23505"
    );
    assert_eq!(
        code(copy_in(&mut s, "COPY t FROM STDIN", "1\t\\N\n")),
        "23502"
    );
    assert_eq!(code(s.execute_one("COPY missing FROM STDIN")), "42P01");
    assert_eq!(code(s.execute_one("COPY t FROM '/etc/passwd'")), "0A000");
    let StatementResult::Query { rows, .. } = s.execute_one("SELECT count(*) FROM t").unwrap()
    else {
        panic!()
    };
    assert_eq!(rows[0][0], Value::Int64(0), "nothing from the failed COPYs");
    // Inside a block, the rows roll back with it.
    s.execute("BEGIN").unwrap();
    copy_in(&mut s, "COPY t FROM STDIN", "1\ta\n").unwrap();
    s.execute("ROLLBACK").unwrap();
    let StatementResult::Query { rows, .. } = s.execute_one("SELECT count(*) FROM t").unwrap()
    else {
        panic!()
    };
    assert_eq!(rows[0][0], Value::Int64(0));
}

#[test]
fn vacuum_checks_its_table_and_refuses_to_run_in_a_block() {
    let db = Database::memory();
    let mut s = db.session();
    s.execute("CREATE TABLE t (id int)").unwrap();
    s.execute("VACUUM").unwrap();
    s.execute("VACUUM ANALYZE t").unwrap();
    s.execute("VACUUM (FULL, VERBOSE false) t").unwrap();
    assert_eq!(s.execute("VACUUM missing").unwrap_err().sqlstate(), "42P01");
    s.execute("BEGIN").unwrap();
    assert_eq!(s.execute("VACUUM t").unwrap_err().sqlstate(), "25001");
    s.execute("ROLLBACK").unwrap();
}

/// A load of several chunks (a chunk is bound once and takes up to 1,000 rows): defaults,
/// CHECK constraints and unique indexes apply to every row, and a violation in a late chunk
/// loads nothing.
#[test]
fn a_load_of_many_chunks_applies_defaults_and_constraints_to_every_row() {
    let db = Database::memory();
    let mut s = db.session();
    s.execute(
        "CREATE TABLE t (id serial PRIMARY KEY, k int NOT NULL CHECK (k >= 0), v text DEFAULT 'd')",
    )
    .unwrap();
    s.execute("CREATE UNIQUE INDEX t_k ON t (k)").unwrap();
    let data: String = (0..2_500).map(|k| format!("{k}\n")).collect();
    let result = copy_in(&mut s, "COPY t (k) FROM STDIN", &data).unwrap();
    assert_eq!(result.tag(), "COPY 2500");
    let StatementResult::Query { rows, .. } = s
        .execute_one("SELECT count(*), min(id), max(id), count(DISTINCT k), min(v), max(v) FROM t")
        .unwrap()
    else {
        panic!("no rows");
    };
    assert_eq!(
        rows[0],
        vec![
            Value::Int64(2_500),
            Value::Int32(1),
            Value::Int32(2_500),
            Value::Int64(2_500),
            Value::Text("d".into()),
            Value::Text("d".into()),
        ]
    );
    // A duplicate key in the third chunk, and a CHECK violation there: all or nothing.
    let code = |r: zizhu_sql::Result<StatementResult>| r.unwrap_err().sqlstate().to_string();
    let duplicate: String = (10_000..12_500)
        .map(|k| format!("{}\n", if k == 12_400 { 7 } else { k }))
        .collect();
    assert_eq!(
        code(copy_in(&mut s, "COPY t (k) FROM STDIN", &duplicate)),
        "23505"
    );
    let negative: String = (10_000..12_500)
        .map(|k| format!("{}\n", if k == 12_400 { -1 } else { k }))
        .collect();
    assert_eq!(
        code(copy_in(&mut s, "COPY t (k) FROM STDIN", &negative)),
        "23514"
    );
    let bad_type: String = (10_000..12_500)
        .map(|k| {
            format!(
                "{}\n",
                if k == 12_400 {
                    "x".to_string()
                } else {
                    k.to_string()
                }
            )
        })
        .collect();
    assert_eq!(
        code(copy_in(&mut s, "COPY t (k) FROM STDIN", &bad_type)),
        "22P02"
    );
    let StatementResult::Query { rows, .. } = s.execute_one("SELECT count(*) FROM t").unwrap()
    else {
        panic!("no rows");
    };
    assert_eq!(rows[0][0], Value::Int64(2_500));
}
