//! The Silver schemas of the medical IoT lake (SPEC section 5): `vitals`, `crises`, `treatments`,
//! `patients`. Timestamps are the devices' local wall-clock times (microseconds, no time zone),
//! like the accidents lake.

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};

/// Minutes between two vitals readings of a device.
pub const READING_MINUTES: u32 = 5;

/// Readings a device sends in a full day (24 h / 5 min).
pub const READINGS_PER_DAY: u32 = 24 * 60 / READING_MINUTES;

/// The sickle-cell genotypes, most severe first: homozygous SS, S/β⁰-thalassaemia, SC disease,
/// S/β⁺-thalassaemia.
pub const GENOTYPES: [&str; 4] = ["SS", "Sβ0", "SC", "Sβ+"];

/// The timestamp type of the lake: microseconds, local wall-clock time.
pub fn silver_timestamp() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, None)
}

/// `vitals`: one row per reading (every 5 minutes while the device is on and worn).
pub fn vitals_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("patient_id", DataType::Utf8, false),
        Field::new("device_id", DataType::Utf8, false),
        Field::new("ts", silver_timestamp(), false),
        Field::new("spo2_pct", DataType::Float64, true),
        Field::new("heart_rate_bpm", DataType::Int32, true),
        Field::new("temperature_c", DataType::Float64, true),
        Field::new("respiratory_rate", DataType::Int32, true),
        Field::new("activity_steps", DataType::Int32, true),
        Field::new("signal_quality", DataType::Float64, true),
    ]))
}

/// `crises`: vaso-occlusive crises; `end_ts` is NULL while a crisis is going on.
pub fn crises_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("patient_id", DataType::Utf8, false),
        Field::new("start_ts", silver_timestamp(), false),
        Field::new("end_ts", silver_timestamp(), true),
        Field::new("severity", DataType::Int32, false),
        Field::new("pain_score", DataType::Int32, true),
    ]))
}

/// `treatments`: one row per prescription; `end_date` is NULL while it goes on.
pub fn treatments_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("patient_id", DataType::Utf8, false),
        Field::new("drug", DataType::Utf8, false),
        Field::new("start_date", DataType::Date32, false),
        Field::new("end_date", DataType::Date32, true),
        Field::new("dose_mg", DataType::Float64, true),
    ]))
}

/// `patients`: one row per patient.
pub fn patients_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("patient_id", DataType::Utf8, false),
        Field::new("birth_year", DataType::Int32, false),
        Field::new("sex", DataType::Utf8, false),
        Field::new("genotype", DataType::Utf8, false),
        Field::new("region", DataType::Utf8, false),
    ]))
}
