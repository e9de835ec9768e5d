//! `CREATE TABLE` statements from an Arrow schema plus the Gold table's options.
//!
//! Column types: Boolean `TINYINT(1)`; Int8..Int64 `TINYINT`..`BIGINT` (UInt* `UNSIGNED`); Float16/32
//! `FLOAT`, Float64 `DOUBLE`; Decimal `DECIMAL(p,s)`; Date32/64 `DATE`; Timestamp `DATETIME(0|3|6)`
//! (UTC wall clock, nanoseconds truncated to microseconds); strings `VARCHAR(255)`
//! when they are part of a key, an index or the partitioning (key strings compare exactly:
//! `utf8mb4_bin`), `JSON` for JSON columns, `ENUM(...)` for enum columns, `TEXT` otherwise. An
//! `auto_id` column is an `INT AUTO_INCREMENT` primary key in front of the data columns. Every
//! table is InnoDB, `utf8mb4`.

use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

use super::names::quote;
use crate::error::{Error, Result};
use crate::table_options::{IndexColumn, TableOptions};

/// The serialisable form of [`TableOptions`] that travels with the sink's plan nodes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableLayout {
    /// Primary key columns.
    pub primary_key: Vec<String>,
    /// A surrogate `AUTO_INCREMENT` key column in front of the data columns.
    pub auto_id: Option<String>,
    /// The DATE/DATETIME column whose year partitions the table.
    pub partition_by_year: Option<String>,
    /// Secondary indexes: name and columns.
    pub indexes: Vec<(String, Vec<IndexColumn>)>,
    /// JSON columns.
    pub json_columns: Vec<String>,
    /// ENUM columns and their values.
    pub enums: Vec<(String, Vec<String>)>,
    /// The DATE/DATETIME column whose month partitions the table.
    #[serde(default)]
    pub partition_by_month: Option<String>,
}

impl TableLayout {
    /// The date column partitioning the table and by which period, if any.
    pub fn period_partitioning(&self) -> Option<(&str, PeriodGrain)> {
        match (&self.partition_by_year, &self.partition_by_month) {
            (Some(col), _) => Some((col.as_str(), PeriodGrain::Year)),
            (None, Some(col)) => Some((col.as_str(), PeriodGrain::Month)),
            (None, None) => None,
        }
    }
}

impl From<&TableOptions> for TableLayout {
    fn from(options: &TableOptions) -> Self {
        Self {
            primary_key: options.primary_key.clone(),
            auto_id: options.auto_id.clone(),
            partition_by_year: options.partition_by_year.clone(),
            indexes: options
                .indexes
                .iter()
                .map(|i| (i.name.clone(), i.columns.clone()))
                .collect(),
            json_columns: options.json_columns.clone(),
            enums: options
                .enums
                .iter()
                .map(|e| (e.column.clone(), e.values.clone()))
                .collect(),
            partition_by_month: options.partition_by_month.clone(),
        }
    }
}

/// The calendar period one partition of a date-partitioned table holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PeriodGrain {
    /// `partition_by_year`: `PARTITION BY RANGE (YEAR(col))`, period key = the year (`2016`).
    Year,
    /// `partition_by_month`: `PARTITION BY RANGE (TO_DAYS(col))`, period key = `year * 100 +
    /// month` (`201603`).
    Month,
}

impl PeriodGrain {
    /// The period key of the date `year-month-day`.
    pub fn key(self, year: i32, month: u32) -> i32 {
        match self {
            PeriodGrain::Year => year,
            PeriodGrain::Month => year * 100 + month as i32,
        }
    }

    /// `YEAR(col)` or `TO_DAYS(col)`: the partitioning expression over the quoted column.
    fn expression(self, column: &str) -> String {
        match self {
            PeriodGrain::Year => format!("YEAR({column})"),
            PeriodGrain::Month => format!("TO_DAYS({column})"),
        }
    }

    /// The `VALUES LESS THAN` bound of the period starting at `key`.
    fn start_bound(self, key: i32) -> String {
        match self {
            PeriodGrain::Year => key.to_string(),
            PeriodGrain::Month => format!(
                "TO_DAYS('{:04}-{:02}-01')",
                key.div_euclid(100),
                key.rem_euclid(100)
            ),
        }
    }

    /// The key of the period after `key`.
    pub fn next(self, key: i32) -> i32 {
        match self {
            PeriodGrain::Year => key + 1,
            PeriodGrain::Month if key.rem_euclid(100) >= 12 => (key.div_euclid(100) + 1) * 100 + 1,
            PeriodGrain::Month => key + 1,
        }
    }
}

/// The periods (years or months) a date-partitioned table has rows for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeriodPartitions {
    /// Years or months.
    pub grain: PeriodGrain,
    /// Period keys present (see [`PeriodGrain::key`]), ascending.
    pub keys: Vec<i32>,
    /// Whether some rows have a NULL date (they go to a first partition `p_null`).
    pub has_null: bool,
}

impl PeriodPartitions {
    /// The partitions for the periods `keys` and every period between the first and the last of
    /// them (ascending, without gaps), plus `p_null` when `has_null`.
    ///
    /// A staging table is created with the periods its tasks have started when the first one
    /// finishes, and a period that turns up later between two of them has no partition of its
    /// own: it used to wait for a re-partitioning of the whole staging table at the end, which
    /// copied every row already exchanged (191 s of a 340 s run at 30M rows, where the year
    /// between two tasks' ranges was started last). With every period between the first and the
    /// last, only a period before the first (split off nothing) or after the last (split off the
    /// empty `p_future`) can be new. A period without rows keeps an empty partition.
    pub fn contiguous(grain: PeriodGrain, keys: &BTreeSet<i32>, has_null: bool) -> Self {
        let mut filled = Vec::with_capacity(keys.len());
        if let (Some(&first), Some(&last)) = (keys.first(), keys.last()) {
            let mut key = first;
            while key <= last {
                filled.push(key);
                key = grain.next(key);
            }
        }
        Self {
            grain,
            keys: filled,
            has_null,
        }
    }

    /// The partition holding the period `key` (`None`: NULL dates): `p2016`, `p201603`, `p_null`.
    pub fn partition_name(key: Option<i32>) -> String {
        match key {
            Some(key) => format!("p{key}"),
            None => "p_null".to_string(),
        }
    }

    /// `PARTITION p<key> VALUES LESS THAN (<start of the next period>)`.
    pub fn definition(&self, key: i32) -> String {
        format!(
            "PARTITION {} VALUES LESS THAN ({})",
            Self::partition_name(Some(key)),
            self.grain.start_bound(self.grain.next(key))
        )
    }

    /// `ALTER TABLE table REORGANIZE PARTITION p_future INTO (...)`: one partition for each of
    /// these periods, split off the end of `table` (qualified), which must have none after them.
    /// Cheap while `p_future` is empty, as it is in every table the sink writes.
    pub fn split_off_future(&self, table: &str) -> String {
        format!(
            "ALTER TABLE {table} REORGANIZE PARTITION p_future INTO (\n  {}\n)",
            self.definitions().join(",\n  ")
        )
    }

    /// The partition definitions: `p_null` (when needed), one per period, `p_future`.
    pub fn definitions(&self) -> Vec<String> {
        let mut defs = Vec::with_capacity(self.keys.len() + 2);
        if self.has_null {
            let below = match self.keys.first() {
                Some(first) => self.grain.start_bound(*first),
                None => self.grain.start_bound(self.grain.key(1, 1)),
            };
            defs.push(format!(
                "PARTITION {} VALUES LESS THAN ({below})",
                Self::partition_name(None)
            ));
        }
        defs.extend(self.keys.iter().map(|key| self.definition(*key)));
        defs.push("PARTITION p_future VALUES LESS THAN MAXVALUE".to_string());
        defs
    }
}

/// A `'...'` SQL string literal (backslash escapes; the sink's sessions never set
/// `NO_BACKSLASH_ESCAPES`).
pub fn sql_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('\'');
    for c in text.chars() {
        match c {
            '\'' => out.push_str("\\'"),
            '\\' => out.push_str("\\\\"),
            '\0' => out.push_str("\\0"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\x1a' => out.push_str("\\Z"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// The DDL of one Gold table: its columns, keys and indexes, checked against each other.
#[derive(Debug, Clone)]
pub struct TableDdl {
    columns: Vec<String>,
    loaded: Vec<String>,
    primary_key: Vec<String>,
    indexes: Vec<String>,
    partition_column: Option<String>,
}

impl TableDdl {
    /// Checks `layout` against `schema` and prepares the table's definitions.
    pub fn new(schema: &Schema, layout: &TableLayout) -> Result<Self> {
        let invalid = |message: String| Error::invalid("MySQL table layout", message);
        let has = |name: &str| schema.fields().iter().any(|f| f.name() == name);
        let mut referenced: Vec<&String> = layout.primary_key.iter().collect();
        referenced.extend(layout.partition_by_year.iter());
        referenced.extend(layout.partition_by_month.iter());
        referenced.extend(
            layout
                .indexes
                .iter()
                .flat_map(|(_, cols)| cols.iter().map(|c| &c.name)),
        );
        referenced.extend(layout.json_columns.iter());
        referenced.extend(layout.enums.iter().map(|(col, _)| col));
        if let Some(missing) = referenced.iter().find(|c| !has(c)) {
            return Err(invalid(format!("column '{missing}' is not in the table")));
        }
        if let Some(id) = &layout.auto_id {
            if has(id) {
                return Err(invalid(format!(
                    "auto_id column '{id}' is also a column of the query"
                )));
            }
            if !layout.primary_key.is_empty() {
                return Err(invalid("auto_id and primary_key exclude each other".into()));
            }
            if layout.period_partitioning().is_some() {
                return Err(invalid(
                    "auto_id cannot be combined with partition_by_year/month (the primary key \
                     must contain the partitioning column)"
                        .into(),
                ));
            }
        }
        if layout.partition_by_year.is_some() && layout.partition_by_month.is_some() {
            return Err(invalid(
                "partition_by_year and partition_by_month exclude each other".into(),
            ));
        }
        if let Some((col, grain)) = layout.period_partitioning() {
            let directive = match grain {
                PeriodGrain::Year => "partition_by_year",
                PeriodGrain::Month => "partition_by_month",
            };
            if !layout.primary_key.is_empty() && !layout.primary_key.iter().any(|c| c == col) {
                return Err(invalid(format!(
                    "the primary key must contain the partitioning column '{col}'"
                )));
            }
            let field = schema
                .field_with_name(col)
                .map_err(|e| invalid(e.to_string()))?;
            if !matches!(
                field.data_type(),
                DataType::Date32 | DataType::Date64 | DataType::Timestamp(_, _)
            ) {
                return Err(invalid(format!(
                    "{directive} column '{col}' is {}, not a date or timestamp",
                    field.data_type()
                )));
            }
        }
        if let Some((col, _)) = layout.enums.iter().find(|(_, values)| values.is_empty()) {
            return Err(invalid(format!("enum column '{col}' has no values")));
        }

        let keyed = |name: &str| {
            layout.primary_key.iter().any(|c| c == name)
                || layout.period_partitioning().map(|(c, _)| c) == Some(name)
                || layout
                    .indexes
                    .iter()
                    .any(|(_, cols)| cols.iter().any(|c| c.name == name))
        };
        let mut columns = Vec::with_capacity(schema.fields().len() + 1);
        if let Some(id) = &layout.auto_id {
            columns.push(format!("{} INT NOT NULL AUTO_INCREMENT", quote(id)?));
        }
        let mut loaded = Vec::with_capacity(schema.fields().len());
        for field in schema.fields() {
            let name = quote(field.name())?;
            let in_key = layout.primary_key.iter().any(|c| c == field.name());
            let sql_type = column_type(field, layout, keyed(field.name()), in_key)?;
            let null = if field.is_nullable() && !in_key {
                "NULL"
            } else {
                "NOT NULL"
            };
            columns.push(format!("{name} {sql_type} {null}"));
            loaded.push(name);
        }
        let primary_key = match &layout.auto_id {
            Some(id) => vec![quote(id)?],
            None => layout
                .primary_key
                .iter()
                .map(|c| quote(c))
                .collect::<Result<_>>()?,
        };
        let index_column = |c: &IndexColumn| -> Result<String> {
            let order = if c.descending { " DESC" } else { "" };
            Ok(format!("{}{order}", quote(&c.name)?))
        };
        let indexes = layout
            .indexes
            .iter()
            .map(|(name, cols)| {
                let cols = cols.iter().map(index_column).collect::<Result<Vec<_>>>()?;
                Ok(format!("INDEX {} ({})", quote(name)?, cols.join(",")))
            })
            .collect::<Result<_>>()?;
        Ok(Self {
            columns,
            loaded,
            primary_key,
            indexes,
            partition_column: layout
                .period_partitioning()
                .map(|(col, _)| quote(col))
                .transpose()?,
        })
    }

    /// The quoted columns rows are loaded into, in schema order (the auto id is not one).
    pub fn loaded_columns(&self) -> &[String] {
        &self.loaded
    }

    /// `CREATE TABLE name (...)`, and `PARTITION BY RANGE (YEAR(col))` (or `TO_DAYS(col)` by
    /// month) when `partitions` is given.
    ///
    /// Without `with_indexes` it is a task table for a bulk load: no secondary indexes (the load
    /// adds them afterwards, see [`TableDdl::add_indexes`]) and `STATS_AUTO_RECALC=0`. InnoDB
    /// otherwise re-analyses a table and rewrites its persistent statistics every time a tenth of
    /// its rows changed, in a background thread, over and over while a table is being filled: at
    /// 7.7M rows that was about a fifth of the server's CPU. The staging table built from the task
    /// tables gets the server's default back and fresh statistics ([`RESTORE_STATISTICS`],
    /// `ANALYZE TABLE`) before it is published.
    pub fn create(
        &self,
        qualified_name: &str,
        with_indexes: bool,
        partitions: Option<&PeriodPartitions>,
    ) -> String {
        let mut parts = self.columns.clone();
        if !self.primary_key.is_empty() {
            parts.push(format!("PRIMARY KEY ({})", self.primary_key.join(",")));
        }
        if with_indexes {
            parts.extend(self.indexes.iter().cloned());
        }
        let mut sql = format!(
            "CREATE TABLE {qualified_name} (\n  {}\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
            parts.join(",\n  ")
        );
        if !with_indexes {
            sql.push_str(" STATS_AUTO_RECALC=0");
        }
        if let Some(clause) = partitions.and_then(|p| self.partition_by(p)) {
            sql.push('\n');
            sql.push_str(&clause);
        }
        sql
    }

    /// `PARTITION BY RANGE (YEAR(col)) (...)` (or `TO_DAYS(col)` by month) with `partitions`;
    /// `None` for a table not partitioned by date.
    pub fn partition_by(&self, partitions: &PeriodPartitions) -> Option<String> {
        let column = self.partition_column.as_ref()?;
        Some(format!(
            "PARTITION BY RANGE ({}) (\n  {}\n)",
            partitions.grain.expression(column),
            partitions.definitions().join(",\n  ")
        ))
    }

    /// `ALTER TABLE name ADD INDEX ..., ADD INDEX ...`: the secondary indexes in one statement, or
    /// `None` when the table has none.
    pub fn add_indexes(&self, qualified_name: &str) -> Option<String> {
        if self.indexes.is_empty() {
            return None;
        }
        let adds: Vec<String> = self.indexes.iter().map(|i| format!("ADD {i}")).collect();
        Some(format!("ALTER TABLE {qualified_name} {}", adds.join(", ")))
    }
}

/// The table option that gives a task table, created with `STATS_AUTO_RECALC=0` (see
/// [`TableDdl::create`]), the server's default statistics recalculation again.
pub const RESTORE_STATISTICS: &str = "STATS_AUTO_RECALC=DEFAULT";

/// The MySQL type of `field`.
fn column_type(field: &Field, layout: &TableLayout, keyed: bool, in_key: bool) -> Result<String> {
    let name = field.name();
    let unsupported = || {
        Error::invalid(
            "MySQL column type",
            format!(
                "column '{name}' has type {}, which the MySQL sink cannot store",
                field.data_type()
            ),
        )
    };
    Ok(match field.data_type() {
        DataType::Boolean => "TINYINT(1)".into(),
        DataType::Int8 => "TINYINT".into(),
        DataType::Int16 => "SMALLINT".into(),
        DataType::Int32 => "INT".into(),
        DataType::Int64 => "BIGINT".into(),
        DataType::UInt8 => "TINYINT UNSIGNED".into(),
        DataType::UInt16 => "SMALLINT UNSIGNED".into(),
        DataType::UInt32 => "INT UNSIGNED".into(),
        DataType::UInt64 => "BIGINT UNSIGNED".into(),
        DataType::Float16 | DataType::Float32 => "FLOAT".into(),
        DataType::Float64 => "DOUBLE".into(),
        DataType::Decimal32(p, s)
        | DataType::Decimal64(p, s)
        | DataType::Decimal128(p, s)
        | DataType::Decimal256(p, s) => {
            if *p > 65 || *s < 0 || *s > 30 || i16::from(*s) > i16::from(*p) {
                return Err(unsupported());
            }
            format!("DECIMAL({p},{s})")
        }
        DataType::Date32 | DataType::Date64 => "DATE".into(),
        DataType::Timestamp(unit, _) => match unit {
            TimeUnit::Second => "DATETIME".into(),
            TimeUnit::Millisecond => "DATETIME(3)".into(),
            TimeUnit::Microsecond | TimeUnit::Nanosecond => "DATETIME(6)".into(),
        },
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
            if layout.json_columns.iter().any(|c| c == name) {
                "JSON".into()
            } else if let Some((_, values)) = layout.enums.iter().find(|(c, _)| c == name) {
                let values: Vec<String> = values.iter().map(|v| sql_string(v)).collect();
                format!("ENUM({})", values.join(","))
            } else if in_key {
                "VARCHAR(255) COLLATE utf8mb4_bin".into()
            } else if keyed {
                "VARCHAR(255)".into()
            } else {
                "TEXT".into()
            }
        }
        DataType::Dictionary(_, value) if value.is_string() => {
            let plain = field.clone().with_data_type(DataType::Utf8);
            return column_type(&plain, layout, keyed, in_key);
        }
        _ => return Err(unsupported()),
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn contiguous_partitions_fill_the_periods_between_the_first_and_the_last() {
        let years = std::collections::BTreeSet::from([2016, 2017, 2020, 2021]);
        let partitions = PeriodPartitions::contiguous(PeriodGrain::Year, &years, false);
        assert_eq!(partitions.keys, [2016, 2017, 2018, 2019, 2020, 2021]);
        let months = std::collections::BTreeSet::from([201611, 201702]);
        let partitions = PeriodPartitions::contiguous(PeriodGrain::Month, &months, true);
        assert_eq!(partitions.keys, [201611, 201612, 201701, 201702]);
        assert!(partitions.has_null);
        let none = PeriodPartitions::contiguous(PeriodGrain::Year, &Default::default(), true);
        assert!(none.keys.is_empty());
    }

    use super::*;
    use datafusion::arrow::datatypes::Field;

    fn options(directives: &[&str]) -> TableLayout {
        let mut options = TableOptions::default();
        for d in directives {
            options.apply_directive(d).unwrap();
        }
        TableLayout::from(&options)
    }

    fn summary_schema() -> Schema {
        Schema::new(vec![
            Field::new("id", DataType::Utf8, true),
            Field::new("state", DataType::Utf8, true),
            Field::new("city", DataType::Utf8View, true),
            Field::new("severity", DataType::Int32, true),
            Field::new("accident_date", DataType::Date32, true),
            Field::new("accident_hour", DataType::Int32, true),
            Field::new("weather_category", DataType::Utf8, false),
            Field::new("temperature_category", DataType::Utf8, false),
            Field::new("safety_score", DataType::Float64, true),
        ])
    }

    fn summary_layout() -> TableLayout {
        options(&[
            "primary_key = id, accident_date",
            "partition_by_year = accident_date",
            "index idx_state_date = state, accident_date",
            "index idx_severity_weather = severity, weather_category",
            "index idx_location = state, city",
            "index idx_temporal = accident_date, accident_hour",
        ])
    }

    #[test]
    fn descending_index_columns_keep_their_order() {
        let layout = options(&["index idx_api = safety_score DESC, state"]);
        let ddl = TableDdl::new(&summary_schema(), &layout).unwrap();
        assert_eq!(
            ddl.add_indexes("`db`.`t`").unwrap(),
            "ALTER TABLE `db`.`t` ADD INDEX `idx_api` (`safety_score` DESC,`state`)"
        );
        let missing = options(&["index idx_api = danger DESC"]);
        let err = TableDdl::new(&summary_schema(), &missing).unwrap_err();
        assert!(err.to_string().contains("column 'danger'"), "{err}");
    }

    #[test]
    fn accidents_summary_is_keyed_and_partitioned_by_year() {
        let ddl = TableDdl::new(&summary_schema(), &summary_layout()).unwrap();
        let partitions = PeriodPartitions {
            grain: PeriodGrain::Year,
            keys: vec![2016, 2017, 2019],
            has_null: false,
        };
        let sql = ddl.create("`db`.`stg`", true, Some(&partitions));
        assert!(sql.starts_with("CREATE TABLE `db`.`stg` ("), "{sql}");
        assert!(
            sql.contains("`id` VARCHAR(255) COLLATE utf8mb4_bin NOT NULL"),
            "{sql}"
        );
        assert!(sql.contains("`accident_date` DATE NOT NULL"), "{sql}");
        assert!(sql.contains("`state` VARCHAR(255) NULL"), "{sql}");
        assert!(
            sql.contains("`temperature_category` TEXT NOT NULL"),
            "{sql}"
        );
        assert!(sql.contains("`safety_score` DOUBLE NULL"), "{sql}");
        assert!(sql.contains("PRIMARY KEY (`id`,`accident_date`)"), "{sql}");
        assert!(
            sql.contains("INDEX `idx_state_date` (`state`,`accident_date`)"),
            "{sql}"
        );
        assert!(
            sql.contains("INDEX `idx_temporal` (`accident_date`,`accident_hour`)"),
            "{sql}"
        );
        assert!(
            sql.contains("PARTITION BY RANGE (YEAR(`accident_date`))"),
            "{sql}"
        );
        assert!(
            sql.contains("PARTITION p2016 VALUES LESS THAN (2017)"),
            "{sql}"
        );
        assert!(
            sql.contains("PARTITION p2019 VALUES LESS THAN (2020)"),
            "{sql}"
        );
        assert!(
            sql.ends_with("PARTITION p_future VALUES LESS THAN MAXVALUE\n)"),
            "{sql}"
        );
        assert!(!sql.contains("p_null"));

        // the bulk-load table: no secondary indexes, no partitions; they are added afterwards
        let plain = ddl.create("`db`.`y`", false, None);
        assert!(
            !plain.contains("INDEX") && !plain.contains("PARTITION"),
            "{plain}"
        );
        assert!(plain.contains("PRIMARY KEY (`id`,`accident_date`)"));
        assert!(plain.ends_with(" STATS_AUTO_RECALC=0"), "{plain}");
        assert!(!sql.contains("STATS_AUTO_RECALC"), "{sql}");
        let alter = ddl.add_indexes("`db`.`y`").unwrap();
        assert_eq!(
            alter,
            "ALTER TABLE `db`.`y` ADD INDEX `idx_state_date` (`state`,`accident_date`), \
             ADD INDEX `idx_severity_weather` (`severity`,`weather_category`), \
             ADD INDEX `idx_location` (`state`,`city`), \
             ADD INDEX `idx_temporal` (`accident_date`,`accident_hour`)"
        );
        assert_eq!(ddl.loaded_columns().len(), 9);
    }

    #[test]
    fn null_dates_get_a_first_partition() {
        let ddl = TableDdl::new(
            &summary_schema(),
            &options(&["partition_by_year = accident_date"]),
        )
        .unwrap();
        let partitions = PeriodPartitions {
            grain: PeriodGrain::Year,
            keys: vec![2020],
            has_null: true,
        };
        let sql = ddl.create("`db`.`t`", true, Some(&partitions));
        assert!(sql.contains(
            "PARTITION p_null VALUES LESS THAN (2020),\n  PARTITION p2020 VALUES LESS THAN (2021)"
        ), "{sql}");
        assert!(!sql.contains("PRIMARY KEY"));
    }

    #[test]
    fn a_later_period_is_split_off_p_future() {
        let added = PeriodPartitions {
            grain: PeriodGrain::Month,
            keys: vec![202312],
            has_null: false,
        };
        assert_eq!(
            added.split_off_future("`db`.`t`"),
            "ALTER TABLE `db`.`t` REORGANIZE PARTITION p_future INTO (\n  \
             PARTITION p202312 VALUES LESS THAN (TO_DAYS('2024-01-01')),\n  \
             PARTITION p_future VALUES LESS THAN MAXVALUE\n)"
        );
        let plain = TableDdl::new(&summary_schema(), &options(&[])).unwrap();
        assert_eq!(plain.partition_by(&added), None);
        let by_month = TableDdl::new(
            &summary_schema(),
            &options(&["partition_by_month = accident_date"]),
        )
        .unwrap();
        assert_eq!(
            by_month.partition_by(&added).as_deref(),
            Some(
                "PARTITION BY RANGE (TO_DAYS(`accident_date`)) (\n  \
                 PARTITION p202312 VALUES LESS THAN (TO_DAYS('2024-01-01')),\n  \
                 PARTITION p_future VALUES LESS THAN MAXVALUE\n)"
            )
        );
    }

    #[test]
    fn month_partitions_use_to_days() {
        let ddl = TableDdl::new(
            &summary_schema(),
            &options(&[
                "primary_key = id, accident_date",
                "partition_by_month = accident_date",
            ]),
        )
        .unwrap();
        let partitions = PeriodPartitions {
            grain: PeriodGrain::Month,
            keys: vec![202311, 202312],
            has_null: true,
        };
        let sql = ddl.create("`db`.`t`", true, Some(&partitions));
        assert!(
            sql.contains("PARTITION BY RANGE (TO_DAYS(`accident_date`))"),
            "{sql}"
        );
        assert!(
            sql.contains("PARTITION p_null VALUES LESS THAN (TO_DAYS('2023-11-01'))"),
            "{sql}"
        );
        assert!(
            sql.contains("PARTITION p202311 VALUES LESS THAN (TO_DAYS('2023-12-01'))"),
            "{sql}"
        );
        assert!(
            sql.contains("PARTITION p202312 VALUES LESS THAN (TO_DAYS('2024-01-01'))"),
            "{sql}"
        );
        assert!(
            TableDdl::new(
                &summary_schema(),
                &options(&[
                    "partition_by_year = accident_date",
                    "partition_by_month = accident_date"
                ])
            )
            .is_err()
        );
    }

    #[test]
    fn enums_json_and_auto_id() {
        let schema = Schema::new(vec![
            Field::new("period_type", DataType::Utf8, false),
            Field::new("trend_direction", DataType::Utf8, true),
            Field::new("severity_distribution", DataType::Utf8, true),
            Field::new("accident_count", DataType::Int64, false),
            Field::new(
                "last_updated",
                DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
                false,
            ),
            Field::new("ok", DataType::Boolean, true),
        ]);
        let layout = options(&[
            "auto_id = id",
            "enum period_type = hourly, daily, monthly, yearly",
            "enum trend_direction = up, down, stable",
            "json = severity_distribution",
            "index idx_period = period_type",
        ]);
        let ddl = TableDdl::new(&schema, &layout).unwrap();
        let sql = ddl.create("`db`.`t`", true, None);
        let first_column = sql.lines().nth(1).unwrap();
        assert_eq!(first_column, "  `id` INT NOT NULL AUTO_INCREMENT,");
        assert!(
            sql.contains("`period_type` ENUM('hourly','daily','monthly','yearly') NOT NULL"),
            "{sql}"
        );
        assert!(
            sql.contains("`trend_direction` ENUM('up','down','stable') NULL"),
            "{sql}"
        );
        assert!(sql.contains("`severity_distribution` JSON NULL"), "{sql}");
        assert!(sql.contains("`accident_count` BIGINT NOT NULL"), "{sql}");
        assert!(sql.contains("`last_updated` DATETIME(6) NOT NULL"), "{sql}");
        assert!(sql.contains("`ok` TINYINT(1) NULL"), "{sql}");
        assert!(sql.contains("PRIMARY KEY (`id`)"), "{sql}");
        assert!(sql.contains("INDEX `idx_period` (`period_type`)"), "{sql}");
        // the auto id is not loaded
        assert_eq!(ddl.loaded_columns()[0], "`period_type`");
        assert_eq!(ddl.loaded_columns().len(), 6);
    }

    #[test]
    fn inconsistent_layouts_are_refused() {
        let schema = summary_schema();
        for bad in [
            vec!["primary_key = id", "partition_by_year = accident_date"],
            vec!["partition_by_year = state"],
            vec!["index i = nope"],
            vec!["auto_id = id"],
            vec!["auto_id = rowid", "partition_by_year = accident_date"],
        ] {
            assert!(TableDdl::new(&schema, &options(&bad)).is_err(), "{bad:?}");
        }
        let odd = Schema::new(vec![Field::new("a b", DataType::Int32, true)]);
        assert!(TableDdl::new(&odd, &TableLayout::default()).is_err());
        let binary = Schema::new(vec![Field::new("b", DataType::Binary, true)]);
        assert!(TableDdl::new(&binary, &TableLayout::default()).is_err());
    }

    #[test]
    fn string_literals_are_escaped() {
        assert_eq!(sql_string("it's a\\b\n"), "'it\\'s a\\\\b\\n'");
    }
}
