//! ORC lake tables.
//!
//! datafusion-orc 0.10 reads ORC footers and stripes well, but its scan accepts any projection that
//! DataFusion pushes into it and then ignores the expressions (it returns the file's columns in file
//! order), which corrupts batches as soon as a projection is reordered or computed ("Batch has 7
//! columns but BatchCoalescer expects 10"). medallion keeps datafusion-orc for schema inference and
//! uses its own scan ([`OrcScanSource`]): it reads the root columns the projection needs, aligns
//! them by name with the table schema (casting, or NULL for a column a file lacks) and evaluates the
//! projection. [`OrcTable`] makes ORC tables travel through Ballista's plan codecs.

mod format;
mod opener;
mod reader;
mod source;
mod table;

pub use format::OrcFileFormat;
pub use source::OrcScanSource;
pub use table::OrcTable;
