//! Parquet scans whose errors name the file they come from.
//!
//! DataFusion reports a damaged data page as the decoder's bare message ("Unexpected struct field
//! type 14", "Invalid offset in sparse column chunk data"), naming no file; in a lake of thousands
//! of files that leaves the user nothing to act on. [`NameFilesInErrors`], a physical optimizer
//! rule installed in every session ([`crate::session`]), wraps each Parquet scan's source in a
//! [`NamedFileSource`]: every error of opening, reading or decoding a file becomes
//! [`Error::CorruptFile`] with the file's URL. The wrapper changes nothing else (it hands every
//! planning question to the Parquet source it wraps) and travels to the executors through
//! medallion's physical codec.

use std::fmt;
use std::sync::Arc;

use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TransformedResult, TreeNode, TreeNodeRecursion};
use datafusion::datasource::object_store::ObjectStoreUrl;
use datafusion::datasource::physical_plan::{
    FileOpener, FileScanConfig, FileScanConfigBuilder, FileSource, ParquetSource,
};
use datafusion::datasource::source::DataSourceExec;
use datafusion::error::{DataFusionError, Result};
use datafusion::physical_expr::projection::ProjectionExprs;
use datafusion::physical_expr::{EquivalenceProperties, LexOrdering, PhysicalSortExpr};
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::filter_pushdown::FilterPushdownPropagation;
use datafusion::physical_plan::metrics::ExecutionPlanMetricsSet;
use datafusion::physical_plan::{
    DisplayFormatType, ExecutionPlan, PhysicalExpr, SortOrderPushdownResult,
};
use datafusion_datasource::PartitionedFile;
use datafusion_datasource::morsel::{Morsel, MorselPlan, MorselPlanner, Morselizer};
use futures::StreamExt;
use futures::stream::BoxStream;
use object_store::ObjectStore;

use crate::error::{Error, first_line};

/// `error`, raised while reading the file at `url`, as an error that names the file. Errors that
/// are not about the file's bytes (memory, cancellation, an unreachable store, which names its
/// path already) pass unchanged.
fn name_file(url: &str, error: DataFusionError) -> DataFusionError {
    match error {
        DataFusionError::ParquetError(_)
        | DataFusionError::ArrowError(..)
        | DataFusionError::IoError(_) => DataFusionError::External(Box::new(Error::CorruptFile {
            location: url.to_string(),
            message: first_line(&error.to_string()),
        })),
        DataFusionError::External(inner) if !inner.is::<Error>() => {
            DataFusionError::External(Box::new(Error::CorruptFile {
                location: url.to_string(),
                message: first_line(&inner.to_string()),
            }))
        }
        other => other,
    }
}

/// A file source whose files' errors name the file (see the module documentation).
#[derive(Clone)]
pub struct NamedFileSource {
    inner: Arc<dyn FileSource>,
}

impl NamedFileSource {
    /// Wraps `inner`.
    pub fn new(inner: Arc<dyn FileSource>) -> Self {
        Self { inner }
    }

    /// The wrapped source.
    pub fn inner(&self) -> &Arc<dyn FileSource> {
        &self.inner
    }

    fn wrap(inner: Arc<dyn FileSource>) -> Arc<dyn FileSource> {
        Arc::new(Self::new(inner))
    }
}

impl fmt::Debug for NamedFileSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NamedFileSource")
            .field("file_type", &self.inner.file_type())
            .finish()
    }
}

impl FileSource for NamedFileSource {
    fn create_file_opener(
        &self,
        object_store: Arc<dyn ObjectStore>,
        base_config: &FileScanConfig,
        partition: usize,
    ) -> Result<Arc<dyn FileOpener>> {
        self.inner
            .create_file_opener(object_store, base_config, partition)
    }

    fn create_morselizer(
        &self,
        object_store: Arc<dyn ObjectStore>,
        base_config: &FileScanConfig,
        partition: usize,
    ) -> Result<Box<dyn Morselizer>> {
        Ok(Box::new(NamedMorselizer {
            inner: self
                .inner
                .create_morselizer(object_store, base_config, partition)?,
            store: base_config.object_store_url.clone(),
        }))
    }

    fn table_schema(&self) -> &datafusion::datasource::table_schema::TableSchema {
        self.inner.table_schema()
    }

    fn with_batch_size(&self, batch_size: usize) -> Arc<dyn FileSource> {
        Self::wrap(self.inner.with_batch_size(batch_size))
    }

    fn filter(&self) -> Option<Arc<dyn PhysicalExpr>> {
        self.inner.filter()
    }

    fn projection(&self) -> Option<&ProjectionExprs> {
        self.inner.projection()
    }

    fn metrics(&self) -> &ExecutionPlanMetricsSet {
        self.inner.metrics()
    }

    fn file_type(&self) -> &str {
        self.inner.file_type()
    }

    fn fmt_extra(&self, t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        self.inner.fmt_extra(t, f)
    }

    fn supports_repartitioning(&self) -> bool {
        self.inner.supports_repartitioning()
    }

    fn repartitioned(
        &self,
        target_partitions: usize,
        repartition_file_min_size: usize,
        output_ordering: Option<LexOrdering>,
        config: &FileScanConfig,
    ) -> Result<Option<FileScanConfig>> {
        self.inner.repartitioned(
            target_partitions,
            repartition_file_min_size,
            output_ordering,
            config,
        )
    }

    fn try_pushdown_filters(
        &self,
        filters: Vec<Arc<dyn PhysicalExpr>>,
        config: &ConfigOptions,
    ) -> Result<FilterPushdownPropagation<Arc<dyn FileSource>>> {
        let mut propagation = self.inner.try_pushdown_filters(filters, config)?;
        propagation.updated_node = propagation.updated_node.map(Self::wrap);
        Ok(propagation)
    }

    fn try_pushdown_sort(
        &self,
        order: &[PhysicalSortExpr],
        eq_properties: &EquivalenceProperties,
    ) -> Result<SortOrderPushdownResult<Arc<dyn FileSource>>> {
        Ok(self
            .inner
            .try_pushdown_sort(order, eq_properties)?
            .map(Self::wrap))
    }

    fn reorder_files(&self, files: Vec<PartitionedFile>) -> Vec<PartitionedFile> {
        self.inner.reorder_files(files)
    }

    fn try_pushdown_projection(
        &self,
        projection: &ProjectionExprs,
    ) -> Result<Option<Arc<dyn FileSource>>> {
        Ok(self
            .inner
            .try_pushdown_projection(projection)?
            .map(Self::wrap))
    }

    fn apply_expressions(
        &self,
        f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        self.inner.apply_expressions(f)
    }
}

/// Plans each file with the wrapped morselizer, naming the file in every error.
#[derive(Debug)]
struct NamedMorselizer {
    inner: Box<dyn Morselizer>,
    store: ObjectStoreUrl,
}

impl Morselizer for NamedMorselizer {
    fn plan_file(&self, file: PartitionedFile) -> Result<Box<dyn MorselPlanner>> {
        let url = format!(
            "{}{}",
            self.store.as_str().trim_end_matches('/'),
            format_args!("/{}", file.object_meta.location)
        );
        match self.inner.plan_file(file) {
            Ok(inner) => Ok(Box::new(NamedPlanner { inner, url })),
            Err(e) => Err(name_file(&url, e)),
        }
    }
}

/// A file's planner whose errors, further planners and morsels name the file.
#[derive(Debug)]
struct NamedPlanner {
    inner: Box<dyn MorselPlanner>,
    url: String,
}

impl NamedPlanner {
    fn boxed(inner: Box<dyn MorselPlanner>, url: &str) -> Box<dyn MorselPlanner> {
        Box::new(Self {
            inner,
            url: url.to_string(),
        })
    }
}

impl MorselPlanner for NamedPlanner {
    fn plan(self: Box<Self>) -> Result<Option<MorselPlan>> {
        let url = self.url;
        let Some(mut plan) = self.inner.plan().map_err(|e| name_file(&url, e))? else {
            return Ok(None);
        };
        let morsels: Vec<Box<dyn Morsel>> = plan
            .take_morsels()
            .into_iter()
            .map(|inner| {
                Box::new(NamedMorsel {
                    inner,
                    url: url.clone(),
                }) as Box<dyn Morsel>
            })
            .collect();
        let planners: Vec<_> = plan
            .take_ready_planners()
            .into_iter()
            .map(|inner| Self::boxed(inner, &url))
            .collect();
        let mut named = MorselPlan::new()
            .with_morsels(morsels)
            .with_planners(planners);
        if let Some(pending) = plan.take_pending_planner() {
            named.set_pending_planner(async move {
                match pending.await {
                    Ok(inner) => Ok(Self::boxed(inner, &url)),
                    Err(e) => Err(name_file(&url, e)),
                }
            });
        }
        Ok(Some(named))
    }
}

/// A morsel whose stream's errors name the file.
#[derive(Debug)]
struct NamedMorsel {
    inner: Box<dyn Morsel>,
    url: String,
}

impl Morsel for NamedMorsel {
    fn into_stream(
        self: Box<Self>,
    ) -> BoxStream<'static, Result<datafusion::arrow::array::RecordBatch>> {
        let url = self.url;
        self.inner
            .into_stream()
            .map(move |batch| batch.map_err(|e| name_file(&url, e)))
            .boxed()
    }
}

/// The Parquet scan of `plan` when it is one not yet wrapped: its scan configuration.
fn parquet_scan(plan: &dyn ExecutionPlan) -> Option<(&DataSourceExec, &FileScanConfig)> {
    let exec = plan.downcast_ref::<DataSourceExec>()?;
    let config = exec.data_source().downcast_ref::<FileScanConfig>()?;
    config
        .file_source()
        .downcast_ref::<ParquetSource>()
        .map(|_| (exec, config))
}

/// `exec` reading through `config` with its source wrapped in a [`NamedFileSource`].
pub fn with_named_source(exec: &DataSourceExec, config: &FileScanConfig) -> Arc<DataSourceExec> {
    let source = NamedFileSource::wrap(Arc::clone(config.file_source()));
    let config = FileScanConfigBuilder::from(config.clone())
        .with_source(source)
        .build();
    Arc::new(exec.clone().with_data_source(Arc::new(config)))
}

/// The scan configuration of `plan` when it reads through a [`NamedFileSource`], with the
/// configuration of the same scan without the wrapper (what datafusion-proto can encode).
pub fn named_scan(plan: &dyn ExecutionPlan) -> Option<Arc<DataSourceExec>> {
    let exec = plan.downcast_ref::<DataSourceExec>()?;
    let config = exec.data_source().downcast_ref::<FileScanConfig>()?;
    let named = config.file_source().downcast_ref::<NamedFileSource>()?;
    let config = FileScanConfigBuilder::from(config.clone())
        .with_source(Arc::clone(named.inner()))
        .build();
    Some(Arc::new(exec.clone().with_data_source(Arc::new(config))))
}

/// The physical optimizer rule that wraps every Parquet scan in a [`NamedFileSource`]. Installed
/// last, after the rules that push filters, projections and orderings into the scans.
#[derive(Debug, Default)]
pub struct NameFilesInErrors;

impl PhysicalOptimizerRule for NameFilesInErrors {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        _config: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        plan.transform_up(|node| match parquet_scan(node.as_ref()) {
            Some((exec, config)) => Ok(Transformed::yes(
                with_named_source(exec, config) as Arc<dyn ExecutionPlan>
            )),
            None => Ok(Transformed::no(node)),
        })
        .data()
    }

    fn name(&self) -> &str {
        "name_files_in_errors"
    }

    fn schema_check(&self) -> bool {
        true
    }
}
