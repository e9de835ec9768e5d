//! Reading a MySQL query's rows back as [`Val`]s, to compare with the Parquet sink's.

use mysql_async::consts::ColumnType;
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Value};

use super::Val;

/// Every row of `sql`, through the binary protocol so values keep their types: integers, doubles,
/// text (VARCHAR, ENUM, JSON), `TINYINT(1)` as a boolean, `DATE` as `YYYY-MM-DD` and `DATETIME` as
/// `YYYY-MM-DD HH:MM:SS.ffffff`.
pub async fn mysql_rows(conn: &mut Conn, sql: &str) -> Vec<Vec<Val>> {
    let result: Vec<mysql_async::Row> = conn
        .exec(sql, ())
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    result
        .iter()
        .map(|row| {
            row.columns_ref()
                .iter()
                .enumerate()
                .map(|(n, column)| {
                    let boolean = column.column_type() == ColumnType::MYSQL_TYPE_TINY
                        && column.column_length() == 1;
                    match row.as_ref(n).unwrap_or(&Value::NULL) {
                        Value::NULL => Val::Null,
                        Value::Int(v) if boolean => Val::Bool(*v != 0),
                        Value::Int(v) => Val::Int(*v),
                        Value::UInt(v) => Val::Int(i64::try_from(*v).unwrap()),
                        Value::Float(v) => Val::Float(f64::from(*v)),
                        Value::Double(v) => Val::Float(*v),
                        Value::Bytes(b) => Val::Str(String::from_utf8_lossy(b).to_string()),
                        Value::Date(y, m, d, 0, 0, 0, 0)
                            if column.column_type() == ColumnType::MYSQL_TYPE_DATE =>
                        {
                            Val::Str(format!("{y:04}-{m:02}-{d:02}"))
                        }
                        Value::Date(y, m, d, h, mi, sec, us) => Val::Str(format!(
                            "{y:04}-{m:02}-{d:02} {h:02}:{mi:02}:{sec:02}.{us:06}"
                        )),
                        other => panic!("{sql}: unexpected value {other:?}"),
                    }
                })
                .collect()
        })
        .collect()
}
