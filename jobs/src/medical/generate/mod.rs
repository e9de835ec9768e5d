//! `medallion generate medical`: a deterministic synthetic medical IoT lake of sickle-cell patients
//! wearing a monitoring device (SPEC section 5, seed 000):
//!
//! - `vitals/date=YYYY-MM-DD/part-00000.parquet`: a reading every 5 minutes, with device gaps,
//!   fevers, desaturations, crises and a few physically impossible values;
//! - `crises/date=YYYY-MM-DD/part-00000.parquet`: each crisis in the partition of the day it started
//!   (`start_ts`, the `partition_column` of its retention policy), so `archive` moves old crises
//!   like old vitals;
//! - `treatments/`, `patients/`: one unpartitioned file each. Treatments stay unpartitioned: a
//!   long-term prescription (folic acid, hydroxyurea) started years ago is still active, and
//!   archiving it by its start date would hide it from every weekly and monthly run.
//!
//! Every patient has its own ChaCha8 stream derived from (`--seed`, patient number), simulated day
//! by day on a few worker threads; the main thread writes each day's readings in patient order, so
//! the output depends only on the arguments.

mod patient;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use chrono::{Duration, NaiveDate};
use datafusion::arrow::array::{
    ArrayRef, Date32Array, Float64Array, Int32Array, RecordBatch, StringArray,
    TimestampMicrosecondArray,
};
use datafusion::arrow::datatypes::SchemaRef;
use indicatif::{ProgressBar, ProgressStyle};
use medallion_core::{Error, Result};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::accidents::silver_writer::{
    DEFAULT_ROWS_PER_FILE, LakeFormat, SilverTableWriter, unpartitioned,
};
use crate::medical::schema::{
    GENOTYPES, READINGS_PER_DAY, crises_schema, patients_schema, treatments_schema, vitals_schema,
};
use crate::plan::parse_date;

pub use patient::{Cohort, Crisis, PatientSim, Reading, Treatment, day_micros};

/// Most worker threads used to simulate patients.
const MAX_WORKERS: usize = 8;

/// Days from 0001-01-01 to 1970-01-01 (chrono's `num_days_from_ce` of the epoch).
const UNIX_EPOCH_DAYS_FROM_CE: i32 = 719_163;

/// Arguments of `medallion generate medical`.
#[derive(clap::Args, Debug, Clone)]
pub struct GenerateMedicalArgs {
    /// Number of patients.
    #[arg(long, default_value_t = 100)]
    pub patients: u32,
    /// Number of days of readings.
    #[arg(long, default_value_t = 30)]
    pub days: u32,
    /// Random seed: the same arguments always produce the same data.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Lake root: the tables are written to OUT/vitals/, OUT/crises/, OUT/treatments/ and
    /// OUT/patients/ (replacing them).
    #[arg(long)]
    pub out: PathBuf,
    /// First day of readings.
    #[arg(long, value_name = "YYYY-MM-DD", default_value = "2024-01-01", value_parser = parse_start_date)]
    pub start_date: NaiveDate,
    /// File format of the Silver tables.
    #[arg(long, value_enum, default_value_t = LakeFormat::Parquet)]
    pub format: LakeFormat,
}

fn parse_start_date(text: &str) -> std::result::Result<NaiveDate, String> {
    parse_date(text).ok_or_else(|| format!("'{text}' is not a date YYYY-MM-DD"))
}

impl GenerateMedicalArgs {
    /// Arguments with the CLI defaults, writing to the lake `out`.
    pub fn new(out: impl Into<PathBuf>) -> Self {
        Self {
            patients: 100,
            days: 30,
            seed: 42,
            out: out.into(),
            start_date: NaiveDate::from_ymd_opt(2024, 1, 1).unwrap_or_default(),
            format: LakeFormat::Parquet,
        }
    }

    fn validate(&self) -> Result<()> {
        if !(1..=1_000_000).contains(&self.patients) {
            return Err(Error::invalid("--patients", "must be within 1..=1000000"));
        }
        if !(1..=3660).contains(&self.days) {
            return Err(Error::invalid("--days", "must be within 1..=3660"));
        }
        Ok(())
    }
}

/// What `generate medical` wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MedicalReport {
    /// Patients.
    pub patients: u64,
    /// Vitals readings.
    pub vitals: u64,
    /// Crises.
    pub crises: u64,
    /// Prescriptions.
    pub treatments: u64,
    /// Data files written, sorted.
    pub files: Vec<PathBuf>,
}

/// Partition folder of a day number (days since 1970-01-01): `date=YYYY-MM-DD`.
pub fn date_partition(day: i32) -> String {
    NaiveDate::from_num_days_from_ce_opt(day + UNIX_EPOCH_DAYS_FROM_CE)
        .map_or_else(|| format!("date={day}"), |d| format!("date={d}"))
}

/// Days since 1970-01-01 of `date` (Arrow's Date32).
pub fn date32(date: NaiveDate) -> i32 {
    use chrono::Datelike;
    date.num_days_from_ce() - UNIX_EPOCH_DAYS_FROM_CE
}

fn batch(schema: SchemaRef, columns: Vec<ArrayRef>) -> Result<RecordBatch> {
    RecordBatch::try_new(schema, columns)
        .map_err(|e| Error::engine("building a generated batch", e.into()))
}

/// The readings of one day of a group of patients as a `vitals` batch.
fn vitals_batch(sims: &[PatientSim], readings: &[Vec<Reading>]) -> Result<RecordBatch> {
    let mut patient = Vec::new();
    let mut device = Vec::new();
    for (sim, rows) in sims.iter().zip(readings) {
        for r in rows {
            patient.push(sim.profile.id.clone());
            device.push(sim.device_id(r.device));
        }
    }
    let all = || readings.iter().flatten();
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from(patient)),
        Arc::new(StringArray::from(device)),
        Arc::new(TimestampMicrosecondArray::from(
            all().map(|r| r.ts).collect::<Vec<_>>(),
        )),
        Arc::new(Float64Array::from(
            all().map(|r| r.spo2).collect::<Vec<_>>(),
        )),
        Arc::new(Int32Array::from(
            all().map(|r| r.heart_rate).collect::<Vec<_>>(),
        )),
        Arc::new(Float64Array::from(
            all().map(|r| r.temperature).collect::<Vec<_>>(),
        )),
        Arc::new(Int32Array::from(
            all().map(|r| r.respiratory_rate).collect::<Vec<_>>(),
        )),
        Arc::new(Int32Array::from(all().map(|r| r.steps).collect::<Vec<_>>())),
        Arc::new(Float64Array::from(
            all().map(|r| Some(r.signal_quality)).collect::<Vec<_>>(),
        )),
    ];
    batch(vitals_schema(), columns)
}

fn patients_batch(sims: &[PatientSim]) -> Result<RecordBatch> {
    let p = || sims.iter().map(|s| &s.profile);
    batch(
        patients_schema(),
        vec![
            Arc::new(StringArray::from(
                p().map(|p| p.id.clone()).collect::<Vec<_>>(),
            )),
            Arc::new(Int32Array::from(
                p().map(|p| p.birth_year).collect::<Vec<_>>(),
            )),
            Arc::new(StringArray::from(p().map(|p| p.sex).collect::<Vec<_>>())),
            Arc::new(StringArray::from(
                p().map(|p| GENOTYPES[p.genotype]).collect::<Vec<_>>(),
            )),
            Arc::new(StringArray::from(p().map(|p| p.region).collect::<Vec<_>>())),
        ],
    )
}

/// Microseconds in a day.
const DAY_MICROS: i64 = 86_400_000_000;

/// The crises of every patient grouped by the day they started (days since 1970-01-01, the
/// partition key), each day's in patient order.
fn crises_by_day(sims: &[PatientSim]) -> Result<BTreeMap<i32, RecordBatch>> {
    let mut days: BTreeMap<i32, Vec<(&str, &Crisis)>> = BTreeMap::new();
    for sim in sims {
        for crisis in &sim.crises {
            let day = i32::try_from(crisis.start.div_euclid(DAY_MICROS))
                .map_err(|_| Error::invalid("generator", "crisis start out of range"))?;
            days.entry(day)
                .or_default()
                .push((sim.profile.id.as_str(), crisis));
        }
    }
    days.into_iter()
        .map(|(day, rows)| Ok((day, crises_batch(&rows)?)))
        .collect()
}

fn crises_batch(rows: &[(&str, &Crisis)]) -> Result<RecordBatch> {
    batch(
        crises_schema(),
        vec![
            Arc::new(StringArray::from(
                rows.iter().map(|(p, _)| *p).collect::<Vec<_>>(),
            )),
            Arc::new(TimestampMicrosecondArray::from(
                rows.iter().map(|(_, c)| c.start).collect::<Vec<_>>(),
            )),
            Arc::new(TimestampMicrosecondArray::from(
                rows.iter().map(|(_, c)| c.end).collect::<Vec<_>>(),
            )),
            Arc::new(Int32Array::from(
                rows.iter().map(|(_, c)| c.severity).collect::<Vec<_>>(),
            )),
            Arc::new(Int32Array::from(
                rows.iter()
                    .map(|(_, c)| Some(c.pain_score))
                    .collect::<Vec<_>>(),
            )),
        ],
    )
}

fn treatments_batch(sims: &[PatientSim]) -> Result<RecordBatch> {
    let rows: Vec<(&str, &Treatment)> = sims
        .iter()
        .flat_map(|s| {
            s.profile
                .treatments
                .iter()
                .chain(&s.crisis_treatments)
                .map(move |t| (s.profile.id.as_str(), t))
        })
        .collect();
    batch(
        treatments_schema(),
        vec![
            Arc::new(StringArray::from(
                rows.iter().map(|(p, _)| *p).collect::<Vec<_>>(),
            )),
            Arc::new(StringArray::from(
                rows.iter().map(|(_, t)| t.drug).collect::<Vec<_>>(),
            )),
            Arc::new(Date32Array::from(
                rows.iter()
                    .map(|(_, t)| date32(t.start))
                    .collect::<Vec<_>>(),
            )),
            Arc::new(Date32Array::from(
                rows.iter()
                    .map(|(_, t)| t.end.map(date32))
                    .collect::<Vec<_>>(),
            )),
            Arc::new(Float64Array::from(
                rows.iter()
                    .map(|(_, t)| Some(t.dose_mg))
                    .collect::<Vec<_>>(),
            )),
        ],
    )
}

fn progress_bar(total: u64, progress: bool) -> ProgressBar {
    if !progress {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(total);
    if let Ok(style) = ProgressStyle::with_template(
        "{spinner} generating medical data [{bar:40}] day {pos}/{len} ({eta})",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

/// Generates the lake described by `args` (replacing its four tables). Shows a progress bar of
/// simulated days when `progress` is set.
pub fn generate_medical(args: &GenerateMedicalArgs, progress: bool) -> Result<MedicalReport> {
    args.validate()?;
    let mut sims: Vec<PatientSim> = (0..args.patients)
        .map(|i| {
            let mut rng = ChaCha8Rng::seed_from_u64(args.seed);
            rng.set_stream(u64::from(i));
            PatientSim::new(i + 1, rng, args.start_date)
        })
        .collect();
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, MAX_WORKERS)
        .min(sims.len());
    let per_worker = sims.len().div_ceil(workers);
    let mut vitals = SilverTableWriter::for_table(
        &args.out,
        "vitals",
        vitals_schema(),
        date_partition,
        args.format,
        DEFAULT_ROWS_PER_FILE,
    )?;
    let bar = progress_bar(u64::from(args.days), progress);
    let mut report = MedicalReport {
        patients: u64::from(args.patients),
        ..MedicalReport::default()
    };
    let readings_hint = READINGS_PER_DAY as usize;
    for day_index in 0..i64::from(args.days) {
        let day = args.start_date + Duration::days(day_index);
        let batches = std::thread::scope(|scope| {
            let handles: Vec<_> = sims
                .chunks_mut(per_worker)
                .map(|group| {
                    scope.spawn(move || {
                        let readings: Vec<Vec<Reading>> = group
                            .iter_mut()
                            .map(|sim| {
                                let mut out = Vec::with_capacity(readings_hint);
                                sim.simulate_day(day_index, &mut out);
                                out
                            })
                            .collect();
                        vitals_batch(group, &readings)
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join().unwrap_or_else(|_| {
                        Err(Error::invalid("generator", "a worker thread panicked"))
                    })
                })
                .collect::<Result<Vec<_>>>()
        })?;
        let key = date32(day);
        for batch in &batches {
            report.vitals += batch.num_rows() as u64;
            vitals.write(key, batch)?;
        }
        vitals.close_year(key)?;
        bar.inc(1);
    }
    for sim in &mut sims {
        sim.finish(i64::from(args.days));
    }
    let mut files = vitals.commit()?.files;
    let mut crises = SilverTableWriter::for_table(
        &args.out,
        "crises",
        crises_schema(),
        date_partition,
        args.format,
        DEFAULT_ROWS_PER_FILE,
    )?;
    for (day, batch) in crises_by_day(&sims)? {
        report.crises += batch.num_rows() as u64;
        crises.write(day, &batch)?;
        crises.close_year(day)?;
    }
    files.extend(crises.commit()?.files);
    let small_tables = [
        ("patients", patients_schema(), patients_batch(&sims)?),
        ("treatments", treatments_schema(), treatments_batch(&sims)?),
    ];
    for (name, schema, batch) in small_tables {
        if name == "treatments" {
            report.treatments = batch.num_rows() as u64;
        }
        let mut writer = SilverTableWriter::for_table(
            &args.out,
            name,
            schema,
            unpartitioned,
            args.format,
            DEFAULT_ROWS_PER_FILE,
        )?;
        writer.write(0, &batch)?;
        files.extend(writer.commit()?.files);
    }
    bar.finish_and_clear();
    files.sort();
    report.files = files;
    tracing::info!(
        patients = report.patients,
        vitals = report.vitals,
        crises = report.crises,
        out = %args.out.display(),
        "generated medical data"
    );
    Ok(report)
}
