//! The US-Accidents datamart: Silver schema, sample generator, Bronze ingest.

pub mod generate;
pub mod ingest;
pub mod schema;
pub mod silver_writer;
