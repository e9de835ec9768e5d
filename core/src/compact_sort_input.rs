//! Sorts fed batches whose memory they can reserve: the embedded engine's guard against a sort
//! that fails for want of memory while the pool has room for what the batch really holds.
//!
//! DataFusion's external sort reserves, for every incoming batch, its buffers' size plus the size
//! of a compact copy of it ([`get_record_batch_memory_size`] and the "sliced size", which for a
//! string view column adds the capacity of every data buffer the column lists). Two kinds of
//! batches ask for far more than they hold, and the sort fails ("Not enough memory to continue
//! external sort") when no spilling can free that much:
//! - one batch of all the rows of an operator that emits its result at once (a semi or anti hash
//!   join returning its build side, then a hash repartition that splits it in two): its rows are
//!   real, but a sort takes them in one reservation instead of spilling between batches;
//! - batches whose string views list the data buffers of a much larger array, often the same
//!   buffer many times over (a join's output taken from a build side concatenated from thousands
//!   of batches): TPC-H q21 at SF10 asked 3.5 GB for a batch of a few MB.
//!
//! [`CompactSortInputs`] puts a [`CompactBatchesExec`] under each sort without a limit (a TopK
//! keeps only its limit's rows and reserves nothing per batch). Batches of at most `batch_size`
//! rows whose buffers hold about what they show pass through untouched; the others are cut into
//! `batch_size`-row batches copied into buffers of their own, string views compacted
//! ([`GenericByteViewArray::gc`]).
//!
//! Under the sort a MySQL sink requires (period, then primary key) the batches are also gathered
//! into [`SINK_SORT_BATCH_ROWS`]-row batches: fewer, larger sorted runs make that sort's merge
//! cheaper, and on two cores medallion's CPU during a load is taken from MariaDB (issue 23).

use std::fmt;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, GenericByteViewArray, UInt32Array};
use datafusion::arrow::compute::{BatchCoalescer, take_record_batch};
use datafusion::arrow::datatypes::{ByteViewType, DataType};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TransformedResult, TreeNode, TreeNodeRecursion};
use datafusion::error::Result;
use datafusion::execution::TaskContext;
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::metrics::{
    Count, ExecutionPlanMetricsSet, MetricBuilder, MetricsSet,
};
use datafusion::physical_plan::sorts::sort::SortExec;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    ChildrenPropertiesMode, DisplayAs, DisplayFormatType, ExecutionPlan, PhysicalExpr,
    PlanProperties, ReplaceChildrenOptions, SendableRecordBatchStream,
};
use futures::StreamExt;
use futures::stream::BoxStream;

use crate::sink::MySqlSinkExec;

#[cfg(doc)]
use datafusion::common::utils::memory::get_record_batch_memory_size;

/// Bytes a string view column's data buffers may list beyond twice the bytes its strings use
/// before the batch is compacted (a Parquet page's buffer serves several batches).
const VIEW_BUFFER_SLACK: usize = 1 << 20;

/// Rows per batch the sort under the MySQL sink takes (issue 23): DataFusion's external sort
/// sorts each input batch, then merges the sorted batches (and its spills) on the row format of the
/// key. With 8192-row batches the sink's sort of 7.7M rows by (year, id, date) merged ~470 runs per
/// task; with 65536-row batches it merges ~60, and the whole query took 6.0 s of CPU instead of
/// 7.4 s (`medallion sql`, 1 GiB pool, spilling either way).
pub const SINK_SORT_BATCH_ROWS: usize = 65_536;

/// Physical optimizer rule of the embedded engine (run after DataFusion's, once the sorts are
/// placed): a [`CompactBatchesExec`] under every sort without a limit, coalescing its input into
/// [`SINK_SORT_BATCH_ROWS`]-row batches for the sort under a MySQL sink. See the module
/// documentation.
#[derive(Debug, Default)]
pub struct CompactSortInputs;

impl PhysicalOptimizerRule for CompactSortInputs {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        config: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let batch_size = usize::from(config.execution.batch_size);
        let plan = plan
            .transform_down(|node| {
                if !node.is::<MySqlSinkExec>() {
                    return Ok(Transformed::no(node));
                }
                let Some(sort) = node.children().first().map(|child| Arc::clone(*child)) else {
                    return Ok(Transformed::no(node));
                };
                let Some(sort) = compacted_sort(&sort, batch_size, Some(SINK_SORT_BATCH_ROWS))?
                else {
                    return Ok(Transformed::no(node));
                };
                let node = Arc::clone(&node).replace_children(
                    vec![sort],
                    ReplaceChildrenOptions::new(ChildrenPropertiesMode::Keep),
                )?;
                Ok(Transformed::yes(node))
            })?
            .data;
        plan.transform_up(|node| match compacted_sort(&node, batch_size, None)? {
            Some(sort) => Ok(Transformed::yes(sort)),
            None => Ok(Transformed::no(node)),
        })
        .data()
    }

    fn name(&self) -> &str {
        "medallion_compact_sort_inputs"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

/// `node` with a [`CompactBatchesExec`] (coalescing into `coalesce_rows`-row batches, if given)
/// under it, if it is a sort without a limit whose input is not compacted yet; `None` otherwise.
fn compacted_sort(
    node: &Arc<dyn ExecutionPlan>,
    batch_size: usize,
    coalesce_rows: Option<usize>,
) -> Result<Option<Arc<dyn ExecutionPlan>>> {
    let Some(sort) = node.downcast_ref::<SortExec>() else {
        return Ok(None);
    };
    if sort.fetch().is_some() || sort.input().downcast_ref::<CompactBatchesExec>().is_some() {
        return Ok(None);
    }
    let compact = CompactBatchesExec::new(Arc::clone(sort.input()), batch_size);
    let compact = match coalesce_rows {
        Some(rows) => compact.coalescing(rows),
        None => compact,
    };
    let sort = Arc::clone(node).replace_children(
        vec![Arc::new(compact) as Arc<dyn ExecutionPlan>],
        ReplaceChildrenOptions::new(ChildrenPropertiesMode::Keep),
    )?;
    Ok(Some(sort))
}

/// Passes its input's batches on, cutting those of more than `batch_size` rows, and those whose
/// string views list much more buffer than they use, into compact `batch_size`-row batches; with
/// [`coalescing`](Self::coalescing), gathers them into larger batches too. Rows, order,
/// partitioning and schema are its input's.
#[derive(Debug)]
pub struct CompactBatchesExec {
    input: Arc<dyn ExecutionPlan>,
    batch_size: usize,
    /// Rows per output batch when small batches are gathered (`None`: passed on as they come).
    coalesce_rows: Option<usize>,
    metrics: ExecutionPlanMetricsSet,
}

impl CompactBatchesExec {
    /// Compacts `input`'s batches into batches of at most `batch_size` rows.
    pub fn new(input: Arc<dyn ExecutionPlan>, batch_size: usize) -> Self {
        Self {
            input,
            batch_size: batch_size.max(1),
            coalesce_rows: None,
            metrics: ExecutionPlanMetricsSet::new(),
        }
    }

    /// Gathers the compact batches into batches of `rows` rows (the last one fewer), copied into
    /// buffers of their own; no change when `rows` is at most the batch size.
    pub fn coalescing(mut self, rows: usize) -> Self {
        self.coalesce_rows = (rows > self.batch_size).then_some(rows);
        self
    }
}

impl DisplayAs for CompactBatchesExec {
    fn fmt_as(&self, t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        match t {
            DisplayFormatType::Default | DisplayFormatType::Verbose => {
                write!(f, "CompactBatchesExec: batch_size={}", self.batch_size)?;
            }
            DisplayFormatType::TreeRender => write!(f, "batch_size={}", self.batch_size)?,
        }
        match self.coalesce_rows {
            Some(rows) => write!(f, ", coalesce_rows={rows}"),
            None => Ok(()),
        }
    }
}

impl ExecutionPlan for CompactBatchesExec {
    fn name(&self) -> &str {
        "CompactBatchesExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        self.input.properties()
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }

    fn maintains_input_order(&self) -> Vec<bool> {
        vec![true]
    }

    fn benefits_from_input_partitioning(&self) -> Vec<bool> {
        vec![false]
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn with_new_children(
        self: Arc<Self>,
        mut children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        Ok(Arc::new(Self {
            coalesce_rows: self.coalesce_rows,
            ..Self::new(children.swap_remove(0), self.batch_size)
        }))
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let input = self.input.execute(partition, context)?;
        let schema = input.schema();
        let batch_size = self.batch_size;
        let compacted = MetricBuilder::new(&self.metrics).counter("compacted_batches", partition);
        let batches = input.flat_map(move |batch| {
            futures::stream::iter(match batch {
                Ok(batch) => compact(batch, batch_size, &compacted),
                Err(error) => Box::new(std::iter::once(Err(error))) as Pieces,
            })
        });
        let batches = match self.coalesce_rows {
            Some(rows) => coalesced(
                batches.boxed(),
                BatchCoalescer::new(Arc::clone(&schema), rows),
            ),
            None => batches.boxed(),
        };
        Ok(Box::pin(RecordBatchStreamAdapter::new(schema, batches)))
    }

    fn metrics(&self) -> Option<MetricsSet> {
        Some(self.metrics.clone_inner())
    }
}

/// `batches` gathered by `coalescer` into its target size (the last batch fewer rows); ends at the
/// first error.
fn coalesced(
    batches: BoxStream<'static, Result<RecordBatch>>,
    coalescer: BatchCoalescer,
) -> BoxStream<'static, Result<RecordBatch>> {
    struct State {
        batches: BoxStream<'static, Result<RecordBatch>>,
        coalescer: BatchCoalescer,
        input_ended: bool,
        failed: bool,
    }
    let state = State {
        batches,
        coalescer,
        input_ended: false,
        failed: false,
    };
    futures::stream::unfold(state, |mut state| async move {
        if state.failed {
            return None;
        }
        loop {
            if let Some(batch) = state.coalescer.next_completed_batch() {
                return Some((Ok(batch), state));
            }
            if state.input_ended {
                return None;
            }
            let pushed = match state.batches.next().await {
                Some(Ok(batch)) => state.coalescer.push_batch(batch),
                Some(Err(error)) => {
                    state.failed = true;
                    return Some((Err(error), state));
                }
                None => {
                    state.input_ended = true;
                    state.coalescer.finish_buffered_batch()
                }
            };
            if let Err(error) = pushed {
                state.failed = true;
                return Some((Err(error.into()), state));
            }
        }
    })
    .boxed()
}

/// An iterator over the batches a sort gets for `batch`.
type Pieces = Box<dyn Iterator<Item = Result<RecordBatch>> + Send>;

/// `batch` itself when it is small and compact, else its rows in compact batches of at most
/// `batch_size` rows (counted in `compacted`), each copied when the sort asks for it, so the
/// copies of a large batch do not all exist at once.
fn compact(batch: RecordBatch, batch_size: usize, compacted: &Count) -> Pieces {
    let rows = batch.num_rows();
    if rows <= batch_size && !batch.columns().iter().any(views_hold_much_more) {
        return Box::new(std::iter::once(Ok(batch)));
    }
    compacted.add(1);
    Box::new((0..rows).step_by(batch_size).map(move |start| {
        let end = (start + batch_size).min(rows);
        let indices = UInt32Array::from_iter_values(start as u32..end as u32);
        let chunk = take_record_batch(&batch, &indices)?;
        let columns = chunk.columns().iter().map(gc_views).collect();
        Ok(RecordBatch::try_new(chunk.schema(), columns)?)
    }))
}

/// Whether `array` is a string or binary view column whose data buffers add up to much more
/// than the bytes its values use.
fn views_hold_much_more(array: &ArrayRef) -> bool {
    fn much_more<T: ByteViewType + ?Sized>(views: &GenericByteViewArray<T>) -> bool {
        let listed: usize = views.data_buffers().iter().map(|b| b.capacity()).sum();
        listed > 2 * views.total_buffer_bytes_used() + VIEW_BUFFER_SLACK
    }
    match array.data_type() {
        DataType::Utf8View => much_more(array.as_string_view()),
        DataType::BinaryView => much_more(array.as_binary_view()),
        _ => false,
    }
}

/// `array` with its string or binary views copied into buffers of their own; other arrays as
/// they are (`take` already copied them).
fn gc_views(array: &ArrayRef) -> ArrayRef {
    match array.data_type() {
        DataType::Utf8View => Arc::new(array.as_string_view().gc()),
        DataType::BinaryView => Arc::new(array.as_binary_view().gc()),
        _ => Arc::clone(array),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Int64Array, StringViewArray};
    use datafusion::arrow::datatypes::{Field, Schema};
    use datafusion::common::utils::memory::get_record_batch_memory_size;

    fn metric() -> Count {
        Count::new()
    }

    fn batch(rows: usize) -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![
            Field::new("k", DataType::Int64, false),
            Field::new("name", DataType::Utf8View, false),
        ]));
        let names: StringViewArray = (0..rows)
            .map(|i| Some(format!("Supplier#{i:012}-a name longer than twelve bytes")))
            .collect();
        RecordBatch::try_new(
            schema,
            vec![
                Arc::new(Int64Array::from_iter_values(0..rows as i64)),
                Arc::new(names),
            ],
        )
        .unwrap()
    }

    /// The first (Int64) column of `batches`, in order.
    fn keys_of<'a>(batches: impl IntoIterator<Item = &'a RecordBatch>) -> Vec<i64> {
        batches
            .into_iter()
            .flat_map(|b| {
                b.column(0)
                    .as_any()
                    .downcast_ref::<Int64Array>()
                    .unwrap()
                    .values()
                    .to_vec()
            })
            .collect()
    }

    fn rows_of(batches: &[Result<RecordBatch>]) -> Vec<i64> {
        keys_of(batches.iter().map(|b| b.as_ref().unwrap()))
    }

    /// The physical plan of `sql` in `ctx`, as EXPLAIN shows it.
    async fn plan_text(ctx: &datafusion::prelude::SessionContext, sql: &str) -> String {
        let plan = ctx
            .sql(sql)
            .await
            .unwrap()
            .create_physical_plan()
            .await
            .unwrap();
        datafusion::physical_plan::displayable(plan.as_ref())
            .indent(false)
            .to_string()
    }

    #[test]
    fn a_small_compact_batch_passes_through_untouched() {
        let input = batch(100);
        let count = metric();
        let out: Vec<_> = compact(input.clone(), 8192, &count).collect();
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].as_ref().unwrap(), &input);
        assert_eq!(count.value(), 0);
    }

    #[test]
    fn a_large_batch_becomes_compact_batches_of_batch_size_rows_in_the_same_order() {
        let input = batch(10_000);
        let count = metric();
        let out: Vec<_> = compact(input.clone(), 4096, &count).collect();
        let sizes: Vec<usize> = out.iter().map(|b| b.as_ref().unwrap().num_rows()).collect();
        assert_eq!(sizes, vec![4096, 4096, 1808]);
        assert_eq!(rows_of(&out), (0..10_000).collect::<Vec<i64>>());
        assert_eq!(count.value(), 1);
        // each piece owns buffers about its own size, not the whole input's
        let whole = get_record_batch_memory_size(&input);
        for piece in &out {
            assert!(get_record_batch_memory_size(piece.as_ref().unwrap()) < whole / 2);
        }
    }

    /// 1.5M rows of two Int64 columns (24 MB) in one batch, keys descending, as table `t`.
    fn one_big_batch_table() -> Arc<datafusion::datasource::MemTable> {
        let rows = 1_500_000_i64;
        let schema = Arc::new(Schema::new(vec![
            Field::new("k", DataType::Int64, false),
            Field::new("v", DataType::Int64, false),
        ]));
        let batch = RecordBatch::try_new(
            Arc::clone(&schema),
            vec![
                Arc::new(Int64Array::from_iter_values((0..rows).rev())),
                Arc::new(Int64Array::from_iter_values(0..rows)),
            ],
        )
        .unwrap();
        Arc::new(datafusion::datasource::MemTable::try_new(schema, vec![vec![batch]]).unwrap())
    }

    const SORT: &str = "SELECT k, v FROM t ORDER BY k";

    #[tokio::test]
    async fn a_sort_fed_one_batch_larger_than_its_pool_spills_and_finishes() {
        use datafusion::execution::memory_pool::FairSpillPool;
        use datafusion::execution::runtime_env::RuntimeEnvBuilder;
        use datafusion::prelude::{SessionConfig, SessionContext};

        let pool = 32 << 20;
        let config = SessionConfig::new().with_target_partitions(1);

        // DataFusion alone: the sort reserves twice the 24 MB batch at once, more than the pool
        let runtime = RuntimeEnvBuilder::new()
            .with_memory_pool(Arc::new(FairSpillPool::new(pool)))
            .build_arc()
            .unwrap();
        let plain = SessionContext::new_with_config_rt(config.clone(), runtime);
        plain.register_table("t", one_big_batch_table()).unwrap();
        let error = plain.sql(SORT).await.unwrap().collect().await.unwrap_err();
        assert!(error.to_string().contains("external sort"), "{error}");

        // the embedded engine: the same sort in batches of batch_size rows, which spill
        let state = crate::session::embedded_state(config, pool).unwrap();
        let ctx = SessionContext::new_with_state(state);
        ctx.register_table("t", one_big_batch_table()).unwrap();
        let shown = plan_text(&ctx, SORT).await;
        assert!(shown.contains("CompactBatchesExec"), "{shown}");
        let batches = ctx.sql(SORT).await.unwrap().collect().await.unwrap();
        let keys = keys_of(&batches);
        assert_eq!(keys, (0..1_500_000).collect::<Vec<i64>>());
    }

    #[tokio::test]
    async fn a_topk_sort_keeps_its_input_as_it_is() {
        let state = crate::session::embedded_state(
            datafusion::prelude::SessionConfig::new().with_target_partitions(1),
            64 << 20,
        )
        .unwrap();
        let ctx = datafusion::prelude::SessionContext::new_with_state(state);
        ctx.register_table("t", one_big_batch_table()).unwrap();
        let shown = plan_text(&ctx, "SELECT k FROM t ORDER BY k LIMIT 3").await;
        assert!(!shown.contains("CompactBatchesExec"), "{shown}");
    }

    #[test]
    fn views_listing_one_buffer_many_times_are_compacted() {
        // a take from a concatenation of many batches sharing one buffer: 200 rows whose views
        // list the same data buffer 400 times
        let base = batch(1000);
        let names = base.column(1).as_string_view().clone();
        let repeated: Vec<&dyn Array> = (0..400).map(|_| &names as &dyn Array).collect();
        let concatenated = datafusion::arrow::compute::concat(&repeated).unwrap();
        let indices = UInt32Array::from_iter_values(0..200);
        let taken = datafusion::arrow::compute::take(&concatenated, &indices, None).unwrap();
        let schema = base.schema();
        let keys: ArrayRef = Arc::new(Int64Array::from_iter_values(0..200));
        let input = RecordBatch::try_new(schema, vec![keys, taken]).unwrap();
        assert!(
            views_hold_much_more(input.column(1)),
            "the test's batch is bloated"
        );

        let count = metric();
        let out: Vec<_> = compact(input.clone(), 8192, &count).collect();
        assert_eq!(out.len(), 1);
        let piece = out[0].as_ref().unwrap();
        assert!(!views_hold_much_more(piece.column(1)));
        assert_eq!(
            piece.column(1).as_string_view(),
            input.column(1).as_string_view()
        );
        assert_eq!(count.value(), 1);
    }

    #[tokio::test]
    async fn coalescing_gathers_small_batches_in_order_and_stops_at_an_error() {
        let pieces: Vec<Result<RecordBatch>> = (0..10)
            .map(|i| {
                let keys = Int64Array::from_iter_values(i * 100..(i + 1) * 100);
                let names: StringViewArray = (0..100).map(|j| Some(format!("n{j}"))).collect();
                Ok(
                    RecordBatch::try_new(batch(1).schema(), vec![Arc::new(keys), Arc::new(names)])
                        .unwrap(),
                )
            })
            .collect();
        let schema = batch(1).schema();
        let out: Vec<Result<RecordBatch>> = coalesced(
            futures::stream::iter(pieces).boxed(),
            BatchCoalescer::new(Arc::clone(&schema), 256),
        )
        .collect()
        .await;
        let sizes: Vec<usize> = out.iter().map(|b| b.as_ref().unwrap().num_rows()).collect();
        assert_eq!(sizes, vec![256, 256, 256, 232]);
        assert_eq!(rows_of(&out), (0..1000).collect::<Vec<i64>>());

        // an error is passed on, and nothing after it
        let failing: Vec<Result<RecordBatch>> = vec![
            Ok(batch(10)),
            Err(datafusion::error::DataFusionError::Execution(
                "broken".into(),
            )),
            Ok(batch(10)),
        ];
        let out: Vec<Result<RecordBatch>> = coalesced(
            futures::stream::iter(failing).boxed(),
            BatchCoalescer::new(schema, 256),
        )
        .collect()
        .await;
        assert_eq!(out.len(), 1, "{out:?}");
        assert!(out[0].as_ref().unwrap_err().to_string().contains("broken"));
    }

    #[tokio::test]
    async fn the_sort_under_the_mysql_sink_takes_coalesced_batches() {
        use crate::sink::{MySqlTable, MySqlUrl, SinkTarget, TableLayout};
        use datafusion::arrow::array::Date32Array;

        let schema = Arc::new(Schema::new(vec![
            Field::new("id", DataType::Utf8, false),
            Field::new("day", DataType::Date32, false),
        ]));
        let rows = RecordBatch::try_new(
            Arc::clone(&schema),
            vec![
                Arc::new(datafusion::arrow::array::StringArray::from(vec![
                    "A-2", "A-1",
                ])),
                Arc::new(Date32Array::from(vec![17_000, 17_500])),
            ],
        )
        .unwrap();
        let ctx = crate::session::embedded_context(2, Some(256 << 20)).unwrap();
        ctx.register_batch("rows_in", rows).unwrap();
        let target = SinkTarget {
            url: MySqlUrl::parse("mysql://root@127.0.0.1:3306/test").unwrap(),
            table: "t".into(),
            run_key: crate::sink::run_key("test"),
            layout: TableLayout {
                primary_key: vec!["id".into(), "day".into()],
                partition_by_year: Some("day".into()),
                ..TableLayout::default()
            },
            year_tasks: None,
        };
        let view_schema = Arc::new(Schema::new(vec![
            Field::new("id", DataType::Utf8View, false),
            Field::new("day", DataType::Date32, false),
        ]));
        for (name, schema) in [("sink", schema), ("view_sink", view_schema)] {
            let table = MySqlTable::try_new(target.clone(), schema).unwrap();
            ctx.register_table(name, Arc::new(table)).unwrap();
        }
        let plan = plan_text(&ctx, "INSERT INTO sink SELECT * FROM rows_in").await;
        let lines: Vec<&str> = plan.lines().map(str::trim).collect();
        let sort = lines
            .iter()
            .position(|l| l.starts_with("SortExec"))
            .unwrap_or_else(|| panic!("no sort under the sink:\n{plan}"));
        assert!(
            lines[sort + 1].starts_with(&format!(
                "CompactBatchesExec: batch_size=8192, coalesce_rows={SINK_SORT_BATCH_ROWS}"
            )),
            "{plan}"
        );
        // string views (as Parquet is read) reach that sort as plain strings
        let views = plan_text(
            &ctx,
            "INSERT INTO view_sink SELECT arrow_cast(id, 'Utf8View'), day FROM rows_in",
        )
        .await;
        let lines: Vec<&str> = views.lines().map(str::trim).collect();
        let sort = lines
            .iter()
            .position(|l| l.starts_with("SortExec"))
            .unwrap_or_else(|| panic!("no sort under the sink:\n{views}"));
        assert!(
            lines[sort..]
                .iter()
                .any(|l| l.starts_with("ProjectionExec") && l.contains("AS Utf8)")),
            "{views}"
        );
        // other sorts keep their batches as they come
        let other = plan_text(&ctx, "SELECT * FROM rows_in ORDER BY id").await;
        assert!(
            other.contains("CompactBatchesExec: batch_size=8192\n"),
            "{other}"
        );
    }
}
