//! Readable reports written by `medallion run weekly-reports --reports DIR`: for each patient-week
//! a self-contained HTML page and a PDF (written directly, see [`pdf`]), `DIR/<iso
//! week>/<patient>.html` and `.pdf`, plus `DIR/index.html`. They are rendered after the run
//! published its Gold tables, from the same views (`patient_weeks`, `report_hourly`,
//! `report_crises`), so a report always agrees with `patient_weekly_report`.

pub mod html;
pub mod pdf;
pub mod pdf_report;

use std::collections::BTreeMap;
use std::fmt::Write;
use std::fs;
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, NaiveDateTime};
use datafusion::arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{
    DataType, Date32Type, Float64Type, Int64Type, TimeUnit, TimestampMicrosecondType,
};
use datafusion::prelude::SessionContext;
use medallion_core::{Error, Result};

use crate::plan::Params;
use crate::staged_dir::StagedDir;

use self::html::{CrisisSpan, HourPoint, WeekSummary, escape, report_html};

/// The renderer name of the weekly patient reports (`[outputs] reports` of `weekly-reports`).
pub const WEEKLY_HTML: &str = "patient-weekly-html";

/// Runs the report renderer `name` of a job; returns the files written.
pub async fn render(
    name: &str,
    ctx: &SessionContext,
    _params: &Params,
    dir: &Path,
) -> Result<Vec<PathBuf>> {
    match name {
        WEEKLY_HTML => write_weekly_reports(ctx, dir).await,
        other => Err(Error::invalid(
            "job plan",
            format!("unknown report renderer '{other}'"),
        )),
    }
}

async fn query(ctx: &SessionContext, sql: &str, what: &str) -> Result<Vec<RecordBatch>> {
    ctx.sql(sql)
        .await
        .map_err(|e| Error::engine(what.to_string(), e))?
        .collect()
        .await
        .map_err(|e| Error::engine(what.to_string(), e))
}

/// Typed access to the columns of a batch, by name, whatever the Arrow width of the column.
struct Columns<'a> {
    batch: &'a RecordBatch,
    what: &'a str,
}

impl Columns<'_> {
    fn cast(&self, name: &str, to: &DataType) -> Result<ArrayRef> {
        let column = self
            .batch
            .column_by_name(name)
            .ok_or_else(|| Error::invalid(self.what.to_string(), format!("no column {name}")))?;
        cast(column, to).map_err(|e| Error::engine(self.what.to_string(), e.into()))
    }

    fn strings(&self, name: &str) -> Result<Vec<Option<String>>> {
        let array = self.cast(name, &DataType::Utf8)?;
        let array = array.as_string::<i32>();
        Ok((0..array.len())
            .map(|i| (!array.is_null(i)).then(|| array.value(i).to_string()))
            .collect())
    }

    fn floats(&self, name: &str) -> Result<Vec<Option<f64>>> {
        let array = self.cast(name, &DataType::Float64)?;
        let array = array.as_primitive::<Float64Type>();
        Ok((0..array.len())
            .map(|i| (!array.is_null(i)).then(|| array.value(i)))
            .collect())
    }

    fn ints(&self, name: &str) -> Result<Vec<Option<i64>>> {
        let array = self.cast(name, &DataType::Int64)?;
        let array = array.as_primitive::<Int64Type>();
        Ok((0..array.len())
            .map(|i| (!array.is_null(i)).then(|| array.value(i)))
            .collect())
    }

    fn dates(&self, name: &str) -> Result<Vec<Option<NaiveDate>>> {
        let array = self.cast(name, &DataType::Date32)?;
        let array = array.as_primitive::<Date32Type>();
        Ok((0..array.len())
            .map(|i| {
                (!array.is_null(i))
                    .then(|| NaiveDate::from_num_days_from_ce_opt(array.value(i) + 719_163))
                    .flatten()
            })
            .collect())
    }

    fn timestamps(&self, name: &str) -> Result<Vec<Option<NaiveDateTime>>> {
        let array = self.cast(name, &DataType::Timestamp(TimeUnit::Microsecond, None))?;
        let array = array.as_primitive::<TimestampMicrosecondType>();
        Ok((0..array.len())
            .map(|i| {
                (!array.is_null(i))
                    .then(|| DateTime::from_timestamp_micros(array.value(i)))
                    .flatten()
                    .map(|t| t.naive_utc())
            })
            .collect())
    }
}

type WeekKey = (String, NaiveDate);

async fn load_weeks(ctx: &SessionContext) -> Result<Vec<WeekSummary>> {
    let what = "reading patient_weeks for the reports";
    let batches = query(
        ctx,
        "SELECT w.*, p.sex, p.genotype, p.birth_year, p.region \
         FROM patient_weeks w LEFT JOIN patients p ON p.patient_id = w.patient_id \
         ORDER BY w.patient_id, w.week_start",
        what,
    )
    .await?;
    let mut weeks = Vec::new();
    for batch in &batches {
        let c = Columns { batch, what };
        let ids = c.strings("patient_id")?;
        let starts = c.dates("week_start")?;
        let iso = c.strings("iso_week")?;
        let sex = c.strings("sex")?;
        let genotype = c.strings("genotype")?;
        let birth = c.ints("birth_year")?;
        let region = c.strings("region")?;
        let days = c.ints("days_with_data")?;
        let completeness = c.floats("completeness")?;
        let spo2_avg = c.floats("spo2_avg")?;
        let spo2_min = c.floats("spo2_min")?;
        let low = c.ints("minutes_spo2_below_90")?;
        let hr = c.floats("hr_avg")?;
        let temp = c.floats("temp_avg")?;
        let temp_max = c.floats("temp_max")?;
        let fever = c.ints("minutes_fever")?;
        let steps = c.floats("steps_per_day")?;
        let spo2_trend = c.strings("spo2_trend")?;
        let hr_trend = c.strings("hr_trend")?;
        let temp_trend = c.strings("temp_trend")?;
        let activity_trend = c.strings("activity_trend")?;
        let crises = c.ints("crisis_count")?;
        let crisis_hours = c.floats("crisis_hours")?;
        let treatments = c.strings("active_treatments")?;
        for i in 0..batch.num_rows() {
            let (Some(id), Some(week_start)) = (ids[i].clone(), starts[i]) else {
                continue;
            };
            weeks.push(WeekSummary {
                patient_id: id,
                week_start,
                iso_week: iso[i].clone().unwrap_or_default(),
                sex: sex[i].clone(),
                genotype: genotype[i].clone(),
                birth_year: birth[i],
                region: region[i].clone(),
                days_with_data: days[i].unwrap_or(0),
                completeness: completeness[i].unwrap_or(0.0),
                spo2_avg: spo2_avg[i],
                spo2_min: spo2_min[i],
                minutes_spo2_below_90: low[i].unwrap_or(0),
                hr_avg: hr[i],
                temp_avg: temp[i],
                temp_max: temp_max[i],
                minutes_fever: fever[i].unwrap_or(0),
                steps_per_day: steps[i],
                spo2_trend: spo2_trend[i].clone(),
                hr_trend: hr_trend[i].clone(),
                temp_trend: temp_trend[i].clone(),
                activity_trend: activity_trend[i].clone(),
                crisis_count: crises[i].unwrap_or(0),
                crisis_hours: crisis_hours[i].unwrap_or(0.0),
                active_treatments: treatments[i].clone(),
            });
        }
    }
    Ok(weeks)
}

async fn load_hours(ctx: &SessionContext) -> Result<BTreeMap<WeekKey, Vec<HourPoint>>> {
    let what = "reading report_hourly for the reports";
    let batches = query(
        ctx,
        "SELECT patient_id, week_start, hour, spo2_avg, temp_avg FROM report_hourly \
         ORDER BY patient_id, week_start, hour",
        what,
    )
    .await?;
    let mut hours: BTreeMap<WeekKey, Vec<HourPoint>> = BTreeMap::new();
    for batch in &batches {
        let c = Columns { batch, what };
        let ids = c.strings("patient_id")?;
        let weeks = c.dates("week_start")?;
        let at = c.timestamps("hour")?;
        let spo2 = c.floats("spo2_avg")?;
        let temp = c.floats("temp_avg")?;
        for i in 0..batch.num_rows() {
            if let (Some(id), Some(week), Some(hour)) = (ids[i].clone(), weeks[i], at[i]) {
                hours.entry((id, week)).or_default().push(HourPoint {
                    hour,
                    spo2_avg: spo2[i],
                    temp_avg: temp[i],
                });
            }
        }
    }
    Ok(hours)
}

async fn load_crises(ctx: &SessionContext) -> Result<BTreeMap<WeekKey, Vec<CrisisSpan>>> {
    let what = "reading report_crises for the reports";
    let batches = query(
        ctx,
        "SELECT patient_id, week_start, start_ts, end_ts, severity, pain_score \
         FROM report_crises ORDER BY patient_id, week_start, start_ts",
        what,
    )
    .await?;
    let mut crises: BTreeMap<WeekKey, Vec<CrisisSpan>> = BTreeMap::new();
    for batch in &batches {
        let c = Columns { batch, what };
        let ids = c.strings("patient_id")?;
        let weeks = c.dates("week_start")?;
        let starts = c.timestamps("start_ts")?;
        let ends = c.timestamps("end_ts")?;
        let severity = c.ints("severity")?;
        let pain = c.ints("pain_score")?;
        for i in 0..batch.num_rows() {
            if let (Some(id), Some(week), Some(start)) = (ids[i].clone(), weeks[i], starts[i]) {
                crises.entry((id, week)).or_default().push(CrisisSpan {
                    start,
                    end: ends[i],
                    severity: severity[i].unwrap_or(0),
                    pain_score: pain[i],
                });
            }
        }
    }
    Ok(crises)
}

/// A file name made only of safe characters (patient ids come from the lake).
fn file_stem(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Writes one HTML report per row of `patient_weeks` under `dir`, and an index; every file appears
/// at once when all are written.
pub async fn write_weekly_reports(ctx: &SessionContext, dir: &Path) -> Result<Vec<PathBuf>> {
    let weeks = load_weeks(ctx).await?;
    let hours = load_hours(ctx).await?;
    let crises = load_crises(ctx).await?;
    let staged = StagedDir::create(dir)?;
    let mut index = String::from(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Weekly reports</title></head><body><h1>Weekly reports</h1><ul>\n",
    );
    for week in &weeks {
        let key = (week.patient_id.clone(), week.week_start);
        let page = report_html(
            week,
            hours.get(&key).map_or(&[][..], Vec::as_slice),
            crises.get(&key).map_or(&[][..], Vec::as_slice),
        );
        let name = format!(
            "{}/{}.html",
            file_stem(&week.iso_week),
            file_stem(&week.patient_id)
        );
        let path = staged.path(&name)?;
        fs::write(&path, page).map_err(|e| Error::io("writing", &path, e))?;
        let pdf_name = format!("{}.pdf", name.trim_end_matches(".html"));
        let pdf = pdf_report::report_pdf(
            week,
            hours.get(&key).map_or(&[][..], Vec::as_slice),
            crises.get(&key).map_or(&[][..], Vec::as_slice),
        );
        let path = staged.path(&pdf_name)?;
        fs::write(&path, pdf).map_err(|e| Error::io("writing", &path, e))?;
        let _ = writeln!(
            index,
            "<li><a href=\"{}\">{} {}</a> (<a href=\"{}\">PDF</a>) — {} crisis(es), {} min SpO2 &lt; 90 %</li>",
            escape(&name),
            escape(&week.iso_week),
            escape(&week.patient_id),
            escape(&pdf_name),
            week.crisis_count,
            week.minutes_spo2_below_90
        );
    }
    index.push_str("</ul></body></html>\n");
    let path = staged.path("index.html")?;
    fs::write(&path, index).map_err(|e| Error::io("writing", &path, e))?;
    let files = staged.commit()?;
    tracing::info!(reports = weeks.len(), dir = %dir.display(), "weekly reports written");
    Ok(files)
}
