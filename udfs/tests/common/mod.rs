//! Helpers of the UDFs' integration tests.

pub mod slt_db;
