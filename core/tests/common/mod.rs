//! Helpers shared by core's integration tests.

#![allow(dead_code)]

pub mod mysql_db;
