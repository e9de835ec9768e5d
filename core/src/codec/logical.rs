//! The logical codec: ORC lake tables, MySQL staging tables and materialized views, then
//! Ballista's own nodes and file formats.

use std::sync::Arc;

use ballista_core::serde::BallistaLogicalExtensionCodec;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::TableProvider;
use datafusion::common::TableReference;
use datafusion::datasource::file_format::FileFormatFactory;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::TaskContext;
use datafusion::logical_expr::{AggregateUDF, Extension, LogicalPlan, ScalarUDF, WindowUDF};
use datafusion_proto::logical_plan::LogicalExtensionCodec;
use serde::{Deserialize, Serialize};

use super::{tagged, untag, utf8};
use crate::materialized::MaterializedTable;
use crate::orc::OrcTable;
use crate::sink::{MySqlTable, ParquetPartsTable};

const ORC_TABLE_TAG: &[u8] = b"medallion.orc_table:";
const MYSQL_TABLE_TAG: &[u8] = b"medallion.mysql_table:";
const PARQUET_PARTS_TABLE_TAG: &[u8] = b"medallion.parquet_parts_table:";
const MATERIALIZED_TABLE_TAG: &[u8] = b"medallion.materialized_table:";

/// What an [`OrcTable`] needs on the other side: its URLs (the schema travels beside it).
#[derive(Serialize, Deserialize)]
struct OrcTableSpec {
    urls: Vec<String>,
}

/// Logical extension codec installed in every medallion process.
#[derive(Debug, Default)]
pub struct MedallionLogicalCodec {
    ballista: BallistaLogicalExtensionCodec,
}

impl LogicalExtensionCodec for MedallionLogicalCodec {
    fn try_decode(
        &self,
        buf: &[u8],
        inputs: &[LogicalPlan],
        ctx: &TaskContext,
    ) -> Result<Extension> {
        self.ballista.try_decode(buf, inputs, ctx)
    }

    fn try_encode(&self, node: &Extension, buf: &mut Vec<u8>) -> Result<()> {
        self.ballista.try_encode(node, buf)
    }

    fn try_decode_table_provider(
        &self,
        buf: &[u8],
        table_ref: &TableReference,
        schema: SchemaRef,
        ctx: &TaskContext,
    ) -> Result<Arc<dyn TableProvider>> {
        if let Some(payload) = untag(MYSQL_TABLE_TAG, buf) {
            return Ok(Arc::new(MySqlTable::from_bytes(payload, schema)?));
        }
        if let Some(payload) = untag(PARQUET_PARTS_TABLE_TAG, buf) {
            return Ok(Arc::new(ParquetPartsTable::new(utf8(payload)?, schema)));
        }
        if let Some(payload) = untag(MATERIALIZED_TABLE_TAG, buf) {
            return Ok(Arc::new(MaterializedTable::from_bytes(payload, schema)?));
        }
        match untag(ORC_TABLE_TAG, buf) {
            Some(payload) => {
                let spec: OrcTableSpec = serde_json::from_slice(payload).map_err(|e| {
                    DataFusionError::Internal(format!("decoding ORC table {table_ref}: {e}"))
                })?;
                Ok(Arc::new(OrcTable::try_new(spec.urls, schema)?))
            }
            None => self
                .ballista
                .try_decode_table_provider(buf, table_ref, schema, ctx),
        }
    }

    fn try_encode_table_provider(
        &self,
        table_ref: &TableReference,
        node: Arc<dyn TableProvider>,
        buf: &mut Vec<u8>,
    ) -> Result<()> {
        if let Some(mysql) = node.downcast_ref::<MySqlTable>() {
            tagged(MYSQL_TABLE_TAG, &mysql.to_bytes()?, buf);
            return Ok(());
        }
        if let Some(parts) = node.downcast_ref::<ParquetPartsTable>() {
            tagged(PARQUET_PARTS_TABLE_TAG, parts.dir().as_bytes(), buf);
            return Ok(());
        }
        if let Some(materialized) = node.downcast_ref::<MaterializedTable>() {
            tagged(MATERIALIZED_TABLE_TAG, &materialized.to_bytes()?, buf);
            return Ok(());
        }
        match node.downcast_ref::<OrcTable>() {
            Some(orc) => {
                let spec = OrcTableSpec {
                    urls: orc.urls().to_vec(),
                };
                let payload = serde_json::to_vec(&spec).map_err(|e| {
                    DataFusionError::Internal(format!("encoding ORC table {table_ref}: {e}"))
                })?;
                tagged(ORC_TABLE_TAG, &payload, buf);
                Ok(())
            }
            None => self
                .ballista
                .try_encode_table_provider(table_ref, node, buf),
        }
    }

    fn try_decode_file_format(
        &self,
        buf: &[u8],
        ctx: &TaskContext,
    ) -> Result<Arc<dyn FileFormatFactory>> {
        self.ballista.try_decode_file_format(buf, ctx)
    }

    fn try_encode_file_format(
        &self,
        buf: &mut Vec<u8>,
        node: Arc<dyn FileFormatFactory>,
    ) -> Result<()> {
        self.ballista.try_encode_file_format(buf, node)
    }

    fn try_decode_udf(&self, name: &str, buf: &[u8]) -> Result<Arc<ScalarUDF>> {
        self.ballista.try_decode_udf(name, buf)
    }

    fn try_encode_udf(&self, node: &ScalarUDF, buf: &mut Vec<u8>) -> Result<()> {
        self.ballista.try_encode_udf(node, buf)
    }

    fn try_decode_udaf(&self, name: &str, buf: &[u8]) -> Result<Arc<AggregateUDF>> {
        self.ballista.try_decode_udaf(name, buf)
    }

    fn try_encode_udaf(&self, node: &AggregateUDF, buf: &mut Vec<u8>) -> Result<()> {
        self.ballista.try_encode_udaf(node, buf)
    }

    fn try_decode_udwf(&self, name: &str, buf: &[u8]) -> Result<Arc<WindowUDF>> {
        self.ballista.try_decode_udwf(name, buf)
    }

    fn try_encode_udwf(&self, node: &WindowUDF, buf: &mut Vec<u8>) -> Result<()> {
        self.ballista.try_encode_udwf(node, buf)
    }
}
