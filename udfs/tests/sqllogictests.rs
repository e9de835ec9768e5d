//! The UDFs' SQL behaviour (SPEC section 4) as sqllogictest files, `tests/slt/*.slt`, run against a
//! DataFusion session with medallion's UDFs registered. Each file is a list of statements and
//! queries with their expected results; column types are checked too (`R` DOUBLE, `I` integer,
//! `T` text, any other letter: another type), and NULL prints as `NULL`.

mod common;

use std::path::Path;

use common::slt_db::{query, slt_files};
use datafusion::error::DataFusionError;
use datafusion::prelude::SessionContext;
use medallion_udfs::register_all;
use sqllogictest::{AsyncDB, DBOutput, DefaultColumnType, Runner, strict_column_validator};

/// A session with the UDFs, as sqllogictest's database.
struct UdfSession {
    ctx: SessionContext,
}

#[async_trait::async_trait]
impl AsyncDB for UdfSession {
    type Error = DataFusionError;
    type ColumnType = DefaultColumnType;

    async fn run(&mut self, sql: &str) -> Result<DBOutput<DefaultColumnType>, DataFusionError> {
        query(&self.ctx, sql).await
    }

    async fn shutdown(&mut self) {}

    fn engine_name(&self) -> &str {
        "datafusion"
    }
}

#[tokio::test]
async fn udf_semantics_hold_in_every_slt_file() {
    let files = slt_files(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/slt"));
    assert!(
        files.len() >= medallion_udfs::all_udfs().len(),
        "expected one .slt file per UDF: {files:?}"
    );
    let mut failures = Vec::new();
    for file in &files {
        let mut runner = Runner::new(|| async {
            let mut ctx = SessionContext::new();
            register_all(&mut ctx)?;
            Ok(UdfSession { ctx })
        });
        runner.with_column_validator(strict_column_validator);
        if let Err(e) = runner.run_file_async(file).await {
            failures.push(format!("{}:\n{e}", file.display()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
