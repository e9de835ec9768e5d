//! The physical codec: ORC scans, Parquet scans that name their files in errors, the MySQL and
//! Parquet part sinks, then Ballista's own execution plans.

use std::sync::Arc;

use ballista_core::serde::BallistaPhysicalExtensionCodec;
use datafusion::datasource::physical_plan::FileScanConfig;
use datafusion::datasource::source::DataSourceExec;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::TaskContext;
use datafusion::logical_expr::{AggregateUDF, ScalarUDF, WindowUDF};
use datafusion::physical_plan::ExecutionPlan;
use datafusion_proto::physical_plan::from_proto::{
    parse_protobuf_file_scan_config, parse_table_schema_from_proto,
};
use datafusion_proto::physical_plan::to_proto::serialize_file_scan_config;
use datafusion_proto::physical_plan::{
    PhysicalExtensionCodec, PhysicalPlanDecodeContext, PhysicalProtoConverterExtension,
};
use datafusion_proto::protobuf::{FileScanExecConf, PhysicalPlanNode};
use prost::Message;

use super::{tagged, untag, utf8};
use crate::named_scan;
use crate::orc::OrcScanSource;
use crate::sink::{MySqlSinkExec, ParquetPartsSinkExec};

const ORC_SCAN_TAG: &[u8] = b"medallion.orc_scan:";
const MYSQL_SINK_TAG: &[u8] = b"medallion.mysql_sink:";
const PARQUET_PARTS_SINK_TAG: &[u8] = b"medallion.parquet_parts_sink:";
const NAMED_SCAN_TAG: &[u8] = b"medallion.named_scan:";

/// Physical extension codec installed in every medallion process.
#[derive(Debug, Default)]
pub struct MedallionPhysicalCodec {
    ballista: BallistaPhysicalExtensionCodec,
}

/// The file scan configuration of `plan` when it is a scan of ORC files.
fn orc_scan(plan: &dyn ExecutionPlan) -> Option<&FileScanConfig> {
    let exec = plan.downcast_ref::<DataSourceExec>()?;
    let config = exec.data_source().downcast_ref::<FileScanConfig>()?;
    config
        .file_source()
        .downcast_ref::<OrcScanSource>()
        .map(|_| config)
}

/// The one decoded child of a sink node named `node`.
fn single_input(node: &str, inputs: &[Arc<dyn ExecutionPlan>]) -> Result<Arc<dyn ExecutionPlan>> {
    match inputs {
        [input] => Ok(Arc::clone(input)),
        _ => Err(DataFusionError::Internal(format!(
            "{node} takes one input, found {}",
            inputs.len()
        ))),
    }
}

impl MedallionPhysicalCodec {
    fn decode_orc_scan(
        &self,
        payload: &[u8],
        ctx: &TaskContext,
        proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let proto = FileScanExecConf::decode(payload)
            .map_err(|e| DataFusionError::Internal(format!("decoding ORC scan: {e}")))?;
        let table_schema = parse_table_schema_from_proto(&proto)?;
        let source = Arc::new(OrcScanSource::new(table_schema));
        let decode_ctx = PhysicalPlanDecodeContext::new(ctx, self);
        let config = parse_protobuf_file_scan_config(&proto, &decode_ctx, proto_converter, source)?;
        Ok(DataSourceExec::from_data_source(config))
    }
}

impl MedallionPhysicalCodec {
    fn decode_named_scan(
        &self,
        payload: &[u8],
        ctx: &TaskContext,
        proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let proto = PhysicalPlanNode::decode(payload)
            .map_err(|e| DataFusionError::Internal(format!("decoding a Parquet scan: {e}")))?;
        let decode_ctx = PhysicalPlanDecodeContext::new(ctx, self);
        let plan = proto_converter.proto_to_execution_plan(&proto, &decode_ctx)?;
        let exec = plan.downcast_ref::<DataSourceExec>();
        let config = exec.and_then(|e| e.data_source().downcast_ref::<FileScanConfig>());
        match (exec, config) {
            (Some(exec), Some(config)) => {
                Ok(named_scan::with_named_source(exec, config) as Arc<dyn ExecutionPlan>)
            }
            _ => Err(DataFusionError::Internal(
                "a named Parquet scan decoded to another plan".to_string(),
            )),
        }
    }
}

impl PhysicalExtensionCodec for MedallionPhysicalCodec {
    fn try_decode(
        &self,
        buf: &[u8],
        inputs: &[Arc<dyn ExecutionPlan>],
        ctx: &TaskContext,
        proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        if let Some(payload) = untag(MYSQL_SINK_TAG, buf) {
            let input = single_input("MySqlSinkExec", inputs)?;
            return Ok(Arc::new(MySqlSinkExec::from_bytes(payload, input)?));
        }
        if let Some(payload) = untag(PARQUET_PARTS_SINK_TAG, buf) {
            let input = single_input("ParquetPartsSinkExec", inputs)?;
            return Ok(Arc::new(ParquetPartsSinkExec::new(utf8(payload)?, input)));
        }
        if let Some(payload) = untag(NAMED_SCAN_TAG, buf) {
            return self.decode_named_scan(payload, ctx, proto_converter);
        }
        match untag(ORC_SCAN_TAG, buf) {
            Some(payload) => self.decode_orc_scan(payload, ctx, proto_converter),
            None => self.ballista.try_decode(buf, inputs, ctx, proto_converter),
        }
    }

    fn try_encode(
        &self,
        node: Arc<dyn ExecutionPlan>,
        buf: &mut Vec<u8>,
        proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<()> {
        if let Some(sink) = node.downcast_ref::<MySqlSinkExec>() {
            // the input is encoded by datafusion-proto as the extension node's child
            tagged(MYSQL_SINK_TAG, &sink.to_bytes()?, buf);
            return Ok(());
        }
        if let Some(scan) = named_scan::named_scan(node.as_ref()) {
            // the scan without its wrapper, as datafusion-proto encodes it
            let proto = proto_converter.execution_plan_to_proto(&(scan as _), self)?;
            tagged(NAMED_SCAN_TAG, &proto.encode_to_vec(), buf);
            return Ok(());
        }
        if let Some(sink) = node.downcast_ref::<ParquetPartsSinkExec>() {
            tagged(PARQUET_PARTS_SINK_TAG, sink.dir().as_bytes(), buf);
            return Ok(());
        }
        match orc_scan(node.as_ref()) {
            Some(config) => {
                let proto = serialize_file_scan_config(config, self, proto_converter)?;
                tagged(ORC_SCAN_TAG, &proto.encode_to_vec(), buf);
                Ok(())
            }
            None => self.ballista.try_encode(node, buf, proto_converter),
        }
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
