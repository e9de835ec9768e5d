//! What every medallion process shares: the session state (UDFs, codecs, object stores), lake table
//! registration, the Gold sinks, table options, the run record and the error type.

pub mod cancellation;
pub mod catalog;
pub mod cluster;
pub mod codec;
pub mod collect;
pub mod compact_sort_input;
pub mod error;
pub mod join_choice;
pub mod lake;
pub mod lake_tables;
pub mod materialized;
pub mod named_scan;
pub mod object_stores;
pub mod orc;
pub mod read_guard;
pub mod run_audit;
pub mod run_record;
pub mod service_logging;
pub mod service_process;
pub mod session;
pub mod sink;
pub mod table_options;

pub use error::{Error, Result};
