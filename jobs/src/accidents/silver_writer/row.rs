//! One Silver `accidents` row as typed values in schema order, and the Arrow batch builder fed with
//! them: the common currency of the generator, its Bronze CSV writer and the Bronze ingest.

use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, BooleanBuilder, Float64Builder, Int32Builder, RecordBatch, StringBuilder,
    TimestampMicrosecondBuilder,
};
use datafusion::arrow::datatypes::{DataType, SchemaRef, TimeUnit};
use medallion_core::{Error, Result};

use crate::accidents::schema::accidents_schema;

/// Number of columns of Silver `accidents`.
pub const COLUMN_COUNT: usize = 46;

/// One typed cell of a Silver row; `None` is NULL.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value<'a> {
    /// A `Utf8` cell.
    Str(Option<&'a str>),
    /// An `Int32` cell.
    Int(Option<i32>),
    /// A `Float64` cell.
    Float(Option<f64>),
    /// A `Timestamp(Microsecond, None)` cell: microseconds since 1970-01-01 00:00:00, wall clock.
    Timestamp(Option<i64>),
    /// A `Boolean` cell.
    Bool(Option<bool>),
}

impl Value<'_> {
    /// True when the cell is NULL.
    pub fn is_null(&self) -> bool {
        match self {
            Value::Str(v) => v.is_none(),
            Value::Int(v) => v.is_none(),
            Value::Float(v) => v.is_none(),
            Value::Timestamp(v) => v.is_none(),
            Value::Bool(v) => v.is_none(),
        }
    }
}

/// A row of Silver `accidents`: one [`Value`] per column, in [`accidents_schema`] order.
pub type Row<'a> = [Value<'a>; COLUMN_COUNT];

enum ColumnBuilder {
    Utf8(StringBuilder),
    Int32(Int32Builder),
    Float64(Float64Builder),
    Timestamp(TimestampMicrosecondBuilder),
    Boolean(BooleanBuilder),
}

impl ColumnBuilder {
    fn new(data_type: &DataType, capacity: usize) -> Result<Self> {
        Ok(match data_type {
            DataType::Utf8 => {
                ColumnBuilder::Utf8(StringBuilder::with_capacity(capacity, capacity * 8))
            }
            DataType::Int32 => ColumnBuilder::Int32(Int32Builder::with_capacity(capacity)),
            DataType::Float64 => ColumnBuilder::Float64(Float64Builder::with_capacity(capacity)),
            DataType::Timestamp(TimeUnit::Microsecond, None) => {
                ColumnBuilder::Timestamp(TimestampMicrosecondBuilder::with_capacity(capacity))
            }
            DataType::Boolean => ColumnBuilder::Boolean(BooleanBuilder::with_capacity(capacity)),
            other => {
                return Err(Error::SchemaMismatch {
                    location: "accidents schema".into(),
                    message: format!("unsupported Silver column type {other}"),
                });
            }
        })
    }

    /// Appends `value`; false when its type does not match the column.
    fn append(&mut self, value: &Value<'_>) -> bool {
        match (self, value) {
            (ColumnBuilder::Utf8(b), Value::Str(v)) => b.append_option(*v),
            (ColumnBuilder::Int32(b), Value::Int(v)) => b.append_option(*v),
            (ColumnBuilder::Float64(b), Value::Float(v)) => b.append_option(*v),
            (ColumnBuilder::Timestamp(b), Value::Timestamp(v)) => b.append_option(*v),
            (ColumnBuilder::Boolean(b), Value::Bool(v)) => b.append_option(*v),
            _ => return false,
        }
        true
    }

    fn finish(&mut self) -> ArrayRef {
        match self {
            ColumnBuilder::Utf8(b) => Arc::new(b.finish()),
            ColumnBuilder::Int32(b) => Arc::new(b.finish()),
            ColumnBuilder::Float64(b) => Arc::new(b.finish()),
            ColumnBuilder::Timestamp(b) => Arc::new(b.finish()),
            ColumnBuilder::Boolean(b) => Arc::new(b.finish()),
        }
    }
}

/// Accumulates [`Row`]s into Arrow [`RecordBatch`]es of [`accidents_schema`].
pub struct SilverBatchBuilder {
    schema: SchemaRef,
    columns: Vec<ColumnBuilder>,
    rows: usize,
}

impl SilverBatchBuilder {
    /// A builder with room for `capacity` rows before it reallocates.
    pub fn new(capacity: usize) -> Result<Self> {
        let schema = accidents_schema();
        let columns = schema
            .fields()
            .iter()
            .map(|field| ColumnBuilder::new(field.data_type(), capacity))
            .collect::<Result<Vec<_>>>()?;
        if columns.len() != COLUMN_COUNT {
            return Err(Error::SchemaMismatch {
                location: "accidents schema".into(),
                message: format!("expected {COLUMN_COUNT} columns, found {}", columns.len()),
            });
        }
        Ok(Self {
            schema,
            columns,
            rows: 0,
        })
    }

    /// Number of rows appended since the last [`finish`](Self::finish).
    pub fn len(&self) -> usize {
        self.rows
    }

    /// True when no row was appended since the last [`finish`](Self::finish).
    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// Appends one row. A value whose type does not match its column is a programming error,
    /// reported as [`Error::SchemaMismatch`] (the columns before it have been appended: drop the
    /// builder).
    pub fn append(&mut self, row: &Row<'_>) -> Result<()> {
        for (index, (column, value)) in self.columns.iter_mut().zip(row.iter()).enumerate() {
            if !column.append(value) {
                return Err(Error::SchemaMismatch {
                    location: "accidents row builder".into(),
                    message: format!(
                        "column '{}' cannot hold {value:?}",
                        self.schema.field(index).name()
                    ),
                });
            }
        }
        self.rows += 1;
        Ok(())
    }

    /// The rows appended so far as one batch; the builder is empty afterwards.
    pub fn finish(&mut self) -> Result<RecordBatch> {
        let arrays = self.columns.iter_mut().map(ColumnBuilder::finish).collect();
        self.rows = 0;
        RecordBatch::try_new(self.schema.clone(), arrays).map_err(|e| Error::SchemaMismatch {
            location: "accidents row builder".into(),
            message: e.to_string(),
        })
    }
}
