//! Gold SQL behaviours of the job plans as sqllogictest files, `tests/slt/*.slt`, run against an
//! embedded session with medallion's UDFs, as DataFusion keeps its own SQL behaviour.
//!
//! Besides SQL, a file may use three statements of this harness:
//! - `medallion inputs JOB`: an empty in-memory table for each lake input of JOB, with the columns
//!   its job.toml declares (string → VARCHAR, integer → BIGINT, number → DOUBLE, timestamp →
//!   TIMESTAMP, boolean → BOOLEAN), to fill with `INSERT INTO ... (columns) VALUES ...`;
//! - `medallion views JOB`: JOB's reference tables and views, with its default parameters, the
//!   materialized ones computed as in a run (so insert the rows first);
//! - `medallion gold JOB TABLE`: a view named TABLE over the Gold table's SQL.
//!
//! Column types are checked (`R` DOUBLE, `I` integer, `T` text, any other letter: another type),
//! and NULL prints as `NULL`.

// the sqllogictest output of a query, shared with the UDFs' suite
#[path = "../../udfs/tests/common/slt_db.rs"]
mod slt_db;

use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use datafusion::datasource::MemTable;
use datafusion::error::DataFusionError;
use datafusion::prelude::SessionContext;
use medallion_core::lake::ColumnKind;
use medallion_core::session;
use medallion_jobs::materialize::materialize_views;
use medallion_jobs::plan::{JobPlan, find_job};
use medallion_jobs::reference::register_reference;
use slt_db::{query, slt_files};
use sqllogictest::{AsyncDB, DBOutput, DefaultColumnType, Runner, strict_column_validator};

/// An embedded session, as sqllogictest's database.
struct GoldSession {
    ctx: SessionContext,
}

fn failure(message: impl std::fmt::Display) -> DataFusionError {
    DataFusionError::Execution(message.to_string())
}

fn job(name: &str) -> Result<JobPlan, DataFusionError> {
    find_job(name).map_err(failure)
}

fn arrow_type(kind: &ColumnKind) -> DataType {
    match kind {
        ColumnKind::String => DataType::Utf8,
        ColumnKind::Integer => DataType::Int64,
        ColumnKind::Number => DataType::Float64,
        ColumnKind::Timestamp => DataType::Timestamp(TimeUnit::Microsecond, None),
        ColumnKind::Boolean => DataType::Boolean,
    }
}

impl GoldSession {
    /// Runs one of the harness's `medallion ...` statements.
    async fn medallion(&self, words: &[&str]) -> Result<(), DataFusionError> {
        match words {
            ["inputs", name] => {
                for input in job(name)?.inputs {
                    let schema = Arc::new(Schema::new(
                        input
                            .columns
                            .iter()
                            .map(|(column, kind)| Field::new(column, arrow_type(kind), true))
                            .collect::<Vec<_>>(),
                    ));
                    let table = MemTable::try_new(schema, vec![Vec::new()])?;
                    self.ctx
                        .register_table(input.name.as_str(), Arc::new(table))?;
                }
                Ok(())
            }
            ["views", name] => {
                let plan = job(name)?;
                for reference in &plan.references {
                    register_reference(&self.ctx, &reference.name, reference.csv)
                        .await
                        .map_err(failure)?;
                }
                for view in &plan.views {
                    let sql = plan.params.substitute(view.sql).map_err(failure)?;
                    self.ctx
                        .sql(&format!("CREATE OR REPLACE VIEW {} AS {sql}", view.name))
                        .await?;
                }
                // every marked view, as in a run of the whole job where each is shared
                let marked: std::collections::HashSet<String> = plan
                    .views
                    .iter()
                    .filter(|v| v.is_materialized())
                    .map(|v| v.name.clone())
                    .collect();
                materialize_views(&self.ctx, &plan.views, &marked, &plan.params)
                    .await
                    .map_err(failure)
            }
            ["gold", name, table] => {
                let plan = job(name)?;
                let gold = plan
                    .gold
                    .iter()
                    .find(|g| g.query.name == *table)
                    .ok_or_else(|| failure(format!("job {name} has no Gold table {table}")))?;
                let sql = gold.sql_with(&plan.params).map_err(failure)?;
                self.ctx
                    .sql(&format!("CREATE OR REPLACE VIEW {table} AS {sql}"))
                    .await?;
                Ok(())
            }
            _ => Err(failure(format!(
                "unknown harness statement: medallion {}",
                words.join(" ")
            ))),
        }
    }
}

#[async_trait::async_trait]
impl AsyncDB for GoldSession {
    type Error = DataFusionError;
    type ColumnType = DefaultColumnType;

    async fn run(&mut self, sql: &str) -> Result<DBOutput<DefaultColumnType>, DataFusionError> {
        let words = sql.split_whitespace().collect::<Vec<_>>();
        if let Some(("medallion", rest)) = words.split_first().map(|(w, r)| (*w, r)) {
            self.medallion(rest).await?;
            return Ok(DBOutput::StatementComplete(0));
        }
        query(&self.ctx, sql).await
    }

    async fn shutdown(&mut self) {}

    fn engine_name(&self) -> &str {
        "datafusion"
    }
}

#[tokio::test]
async fn gold_sql_behaviours_hold_in_every_slt_file() {
    let files = slt_files(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/slt"));
    assert!(!files.is_empty(), "no .slt file in jobs/tests/slt");
    let mut failures = Vec::new();
    for file in &files {
        let mut runner = Runner::new(|| async {
            let ctx = session::embedded_context(2, Some(256 << 20))
                .map_err(|e| failure(format!("embedded session: {e}")))?;
            Ok(GoldSession { ctx })
        });
        runner.with_column_validator(strict_column_validator);
        if let Err(e) = runner.run_file_async(file).await {
            failures.push(format!("{}:\n{e}", file.display()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
