//! An ORC lake table: a [`ListingTable`] over `.orc` files that Ballista can ship to the scheduler.
//!
//! DataFusion's plan serialisation only knows the built-in file formats of a `ListingTable`; an ORC
//! `ListingTable` fails with "Error deserializing unknown file format: OrcFormat". Wrapping it in this
//! provider routes it through [`crate::codec::MedallionLogicalCodec`] instead.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::{ScanArgs, ScanResult, Session, TableProvider};
use datafusion::datasource::TableType;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::error::Result;
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown};
use datafusion::physical_plan::ExecutionPlan;

use super::OrcFileFormat;

/// A table of ORC files under one or more lake URLs.
#[derive(Debug)]
pub struct OrcTable {
    urls: Vec<String>,
    inner: ListingTable,
}

impl OrcTable {
    /// The listing options every ORC table uses: the ORC format and the `.orc` extension.
    pub fn listing_options() -> ListingOptions {
        ListingOptions::new(Arc::new(OrcFileFormat)).with_file_extension(".orc")
    }

    /// An ORC table over `urls` with a known `schema`.
    pub fn try_new(urls: Vec<String>, schema: SchemaRef) -> Result<Self> {
        let paths = urls
            .iter()
            .map(ListingTableUrl::parse)
            .collect::<Result<Vec<_>>>()?;
        let config = ListingTableConfig::new_with_multi_paths(paths)
            .with_listing_options(Self::listing_options())
            .with_schema(schema);
        Ok(Self {
            urls,
            inner: ListingTable::try_new(config)?,
        })
    }

    /// An ORC table over `url` whose schema is read from its files' footers.
    pub async fn infer(state: &dyn Session, url: &str) -> Result<Self> {
        let path = ListingTableUrl::parse(url)?;
        let schema = Self::listing_options().infer_schema(state, &path).await?;
        Self::try_new(vec![url.to_string()], schema)
    }

    /// The lake URLs this table lists.
    pub fn urls(&self) -> &[String] {
        &self.urls
    }
}

#[async_trait]
impl TableProvider for OrcTable {
    fn schema(&self) -> SchemaRef {
        self.inner.schema()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        self.inner.scan(state, projection, filters, limit).await
    }

    async fn scan_with_args<'a>(
        &self,
        state: &dyn Session,
        args: ScanArgs<'a>,
    ) -> Result<ScanResult> {
        self.inner.scan_with_args(state, args).await
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> Result<Vec<TableProviderFilterPushDown>> {
        self.inner.supports_filters_pushdown(filters)
    }
}
