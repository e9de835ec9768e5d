//! The gate's side of the sink: a Gold table the gate reads is computed once, kept, and written
//! from memory; `data_quality_results` is staged with the run's tables, or, when the gate stopped
//! the run, published alone in a staging area of its own.

use datafusion::arrow::array::RecordBatch;
use datafusion::prelude::DataFrame;
use medallion_core::sink::{GoldSink, GoldTable, Merge};
use medallion_core::{Error, Result};
use tracing::warn;

use super::gate::Gate;
use super::outcome::Outcome;
use super::results::{self, DATA_QUALITY_RESULTS};

impl Gate {
    /// Computes `df`, the rows of Gold table `table`, keeps them for the gate, and returns them
    /// as a DataFrame to write (read from memory by the client, embedded or on a cluster).
    pub async fn capture_and_replay(&self, table: &str, df: DataFrame) -> Result<DataFrame> {
        let schema = df.schema().as_arrow().clone();
        let batches = df
            .collect()
            .await
            .map_err(|e| Error::engine(format!("computing Gold table {table}"), e))?;
        self.capture(table, batches.clone());
        let replay = match batches.is_empty() {
            true => self.local.read_batch(RecordBatch::new_empty(schema.into())),
            false => self.local.read_batches(batches),
        };
        replay.map_err(|e| Error::engine(format!("holding Gold table {table}"), e))
    }

    /// Stages `outcomes` of run `run_id` of `job` into `data_quality_results`, upserted by run and
    /// expectation so the table keeps every run's rows.
    pub async fn write_results(
        &self,
        sink: &dyn GoldSink,
        run_id: &str,
        job: &str,
        outcomes: &[Outcome],
    ) -> Result<u64> {
        let batch = results::batch(run_id, job, chrono::Utc::now(), outcomes)?;
        let df = self
            .local
            .read_batch(batch)
            .map_err(|e| Error::engine("holding data_quality_results", e))?;
        let options = results::table_options();
        let table = GoldTable {
            name: DATA_QUALITY_RESULTS,
            options: &options,
        };
        sink.write_merged(table, df, &Merge::Upsert).await
    }

    /// Publishes `outcomes` alone, after the run they belong to was aborted: a staging area of
    /// its own, then publish (or abort). A failure is logged: the run has already failed.
    pub async fn publish_results_alone(
        &self,
        sink: &mut dyn GoldSink,
        run_id: &str,
        job: &str,
        outcomes: &[Outcome],
    ) {
        let staging = format!("{run_id}-dq");
        let published = async {
            sink.prepare(&staging).await?;
            self.write_results(&*sink, run_id, job, outcomes).await?;
            sink.publish().await
        }
        .await;
        if let Err(e) = published {
            warn!(error = %e, "could not publish data_quality_results of the failed run");
            if let Err(e) = sink.abort().await {
                warn!(error = %e, "could not drop the staging area of data_quality_results");
            }
        }
    }
}
