//! Hand-made medical Silver lakes (SPEC section 5) and the values expected from them, shared by the
//! Parquet-sink tests (`medical.rs`) and the MariaDB tests (`medical_mysql.rs`): every expected
//! value is worked out by hand in the comments here.

use std::fs::{self, File};
use std::path::Path;
use std::process::{Command, Output};
use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, Date32Array, Float64Array, Int32Array, RecordBatch, StringArray,
    TimestampMicrosecondArray,
};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::prelude::SessionContext;
use medallion_jobs::medical::schema::{
    crises_schema, patients_schema, treatments_schema, vitals_schema,
};

use super::{Gold, Val, f, i, s};

/// The pseudonymisation key of the research-export tests.
pub const KEY: &str = "research-key-for-the-tests-0001";

// ---------------------------------------------------------------------------------------------
// Writing Silver tables
// ---------------------------------------------------------------------------------------------

/// One reading: patient, `YYYY-MM-DD HH:MM`, SpO2, heart rate, temperature, respiratory rate.
pub type Reading = (
    &'static str,
    String,
    Option<f64>,
    Option<i32>,
    Option<f64>,
    Option<i32>,
);

/// Microseconds since the epoch of a wall-clock time `YYYY-MM-DD HH:MM` or a day `YYYY-MM-DD`.
pub fn micros(ts: &str) -> i64 {
    let text = if ts.len() == 10 {
        format!("{ts} 00:00")
    } else {
        ts.to_string()
    };
    chrono::NaiveDateTime::parse_from_str(&text, "%Y-%m-%d %H:%M")
        .unwrap_or_else(|e| panic!("bad test time {ts}: {e}"))
        .and_utc()
        .timestamp_micros()
}

/// Days since 1970-01-01 of `date` (`YYYY-MM-DD`).
pub fn days(date: &str) -> i32 {
    (micros(date) / 86_400_000_000) as i32
}

/// Writes one Parquet file `LAKE/<folder>/part-00000.parquet` (replacing it).
fn write(lake: &Path, folder: &str, schema: SchemaRef, columns: Vec<ArrayRef>) {
    let batch = RecordBatch::try_new(schema, columns).expect("test batch");
    let dir = lake.join(folder);
    fs::create_dir_all(&dir).unwrap();
    let file = File::create(dir.join("part-00000.parquet")).unwrap();
    let mut writer = ArrowWriter::try_new(file, batch.schema(), None).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
}

fn vitals_columns(rows: &[Reading]) -> Vec<ArrayRef> {
    vec![
        Arc::new(StringArray::from(
            rows.iter().map(|r| r.0).collect::<Vec<_>>(),
        )),
        Arc::new(StringArray::from(
            rows.iter()
                .map(|r| format!("D-{}", r.0))
                .collect::<Vec<_>>(),
        )),
        Arc::new(TimestampMicrosecondArray::from(
            rows.iter().map(|r| micros(&r.1)).collect::<Vec<_>>(),
        )),
        Arc::new(Float64Array::from(
            rows.iter().map(|r| r.2).collect::<Vec<_>>(),
        )),
        Arc::new(Int32Array::from(
            rows.iter().map(|r| r.3).collect::<Vec<_>>(),
        )),
        Arc::new(Float64Array::from(
            rows.iter().map(|r| r.4).collect::<Vec<_>>(),
        )),
        Arc::new(Int32Array::from(
            rows.iter().map(|r| r.5).collect::<Vec<_>>(),
        )),
        Arc::new(Int32Array::from(vec![Some(10); rows.len()])),
        Arc::new(Float64Array::from(vec![Some(0.9); rows.len()])),
    ]
}

/// Writes `rows` as the whole (unpartitioned) `vitals` table.
pub fn write_vitals(lake: &Path, rows: &[Reading]) {
    write(lake, "vitals", vitals_schema(), vitals_columns(rows));
}

/// Writes one reading of P1 at noon of `day` into `LAKE/vitals/date=DAY/`.
pub fn write_vitals_day(lake: &Path, day: &str) {
    write(
        lake,
        &format!("vitals/date={day}"),
        vitals_schema(),
        vitals_columns(&[reading("P1", &format!("{day} 12:00"), 96.0, 36.6)]),
    );
}

/// (patient, start, end or None, severity, pain)
pub type CrisisRow = (&'static str, &'static str, Option<&'static str>, i32, i32);

fn crises_columns(rows: &[(&str, &str, Option<&str>, i32, i32)]) -> Vec<ArrayRef> {
    vec![
        Arc::new(StringArray::from(
            rows.iter().map(|r| r.0).collect::<Vec<_>>(),
        )),
        Arc::new(TimestampMicrosecondArray::from(
            rows.iter().map(|r| micros(r.1)).collect::<Vec<_>>(),
        )),
        Arc::new(TimestampMicrosecondArray::from(
            rows.iter().map(|r| r.2.map(micros)).collect::<Vec<_>>(),
        )),
        Arc::new(Int32Array::from(
            rows.iter().map(|r| r.3).collect::<Vec<_>>(),
        )),
        Arc::new(Int32Array::from(
            rows.iter().map(|r| Some(r.4)).collect::<Vec<_>>(),
        )),
    ]
}

/// Writes `rows` as the whole `crises` table, one partition per start day
/// (`crises/date=YYYY-MM-DD/`, the layout of `medallion generate medical`).
pub fn write_crises(lake: &Path, rows: &[CrisisRow]) {
    let table = lake.join("crises");
    if table.exists() {
        fs::remove_dir_all(&table).unwrap();
    }
    let mut starts: Vec<&str> = rows.iter().map(|r| &r.1[..10]).collect();
    starts.sort();
    starts.dedup();
    for day in starts {
        let of_day: Vec<_> = rows
            .iter()
            .filter(|r| r.1.starts_with(day))
            .copied()
            .collect();
        write(
            lake,
            &format!("crises/date={day}"),
            crises_schema(),
            crises_columns(&of_day),
        );
    }
}

/// Writes one mild crisis of P1 from noon of `day` to the next noon into `LAKE/crises/date=DAY/`.
pub fn write_crisis_day(lake: &Path, day: &str) {
    let start = format!("{day} 12:00");
    write(
        lake,
        &format!("crises/date={day}"),
        crises_schema(),
        crises_columns(&[("P1", start.as_str(), None, 1, 3)]),
    );
}

/// (patient, drug, start, end or None)
pub type TreatmentRow = (
    &'static str,
    &'static str,
    &'static str,
    Option<&'static str>,
);

/// Writes `rows` as the (unpartitioned) `treatments` table, 500 mg each.
pub fn write_treatments(lake: &Path, rows: &[TreatmentRow]) {
    write(
        lake,
        "treatments",
        treatments_schema(),
        vec![
            Arc::new(StringArray::from(
                rows.iter().map(|r| r.0).collect::<Vec<_>>(),
            )),
            Arc::new(StringArray::from(
                rows.iter().map(|r| r.1).collect::<Vec<_>>(),
            )),
            Arc::new(Date32Array::from(
                rows.iter().map(|r| days(r.2)).collect::<Vec<_>>(),
            )),
            Arc::new(Date32Array::from(
                rows.iter().map(|r| r.3.map(days)).collect::<Vec<_>>(),
            )),
            Arc::new(Float64Array::from(vec![Some(500.0); rows.len()])),
        ],
    );
}

/// (patient, birth year, sex, genotype, region)
pub type PatientRow = (&'static str, i32, &'static str, &'static str, &'static str);

/// Writes `rows` as the `patients` table.
pub fn write_patients(lake: &Path, rows: &[PatientRow]) {
    write(
        lake,
        "patients",
        patients_schema(),
        vec![
            Arc::new(StringArray::from(
                rows.iter().map(|r| r.0).collect::<Vec<_>>(),
            )),
            Arc::new(Int32Array::from(
                rows.iter().map(|r| r.1).collect::<Vec<_>>(),
            )),
            Arc::new(StringArray::from(
                rows.iter().map(|r| r.2).collect::<Vec<_>>(),
            )),
            Arc::new(StringArray::from(
                rows.iter().map(|r| r.3).collect::<Vec<_>>(),
            )),
            Arc::new(StringArray::from(
                rows.iter().map(|r| r.4).collect::<Vec<_>>(),
            )),
        ],
    );
}

/// A reading with the given SpO2 and temperature, heart rate 80 and breathing 16.
pub fn reading(patient: &'static str, at: &str, spo2: f64, temp: f64) -> Reading {
    (
        patient,
        at.to_string(),
        Some(spo2),
        Some(80),
        Some(temp),
        Some(16),
    )
}

// ---------------------------------------------------------------------------------------------
// Running the binary
// ---------------------------------------------------------------------------------------------

/// `medallion run JOB --lake LAKE --sink SINK --no-progress --parallelism 2 [extra...]`, without
/// any pseudonymisation key or configuration folder from the environment.
pub fn run_job(job: &str, lake: &Path, sink: &str, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_medallion"))
        .args(["run", job, "--lake"])
        .arg(lake)
        .args(["--sink", sink, "--no-progress", "--parallelism", "2"])
        .args(extra)
        .env_remove("RUST_LOG")
        .env_remove("MEDALLION_PSEUDONYM_KEY")
        .env_remove("MEDALLION_CONFIG_DIR")
        .output()
        .expect("start the medallion binary")
}

/// [`run_job`] into the file sink folder `out`.
pub fn run_job_into(job: &str, lake: &Path, out: &Path, extra: &[&str]) -> Output {
    run_job(job, lake, &format!("file://{}", out.display()), extra)
}

/// `medallion ARGS...` with no configuration folder, sink or lake from the environment.
pub fn medallion_clean(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_medallion"))
        .args(args)
        .env_remove("RUST_LOG")
        .env_remove("MEDALLION_CONFIG_DIR")
        .env_remove("MEDALLION_SINK")
        .env_remove("MEDALLION_LAKE")
        .output()
        .expect("start the medallion binary")
}

// ---------------------------------------------------------------------------------------------
// daily-aggregations
// ---------------------------------------------------------------------------------------------

/// P1 on Monday 2024-03-04, ten readings 00:00..00:45, two of them out of physical range.
pub fn p1_monday() -> Vec<Reading> {
    let spo2 = [95.0, 96.0, 97.0, 88.0, 89.0, 127.0, 94.0, 93.0, 92.0, 91.0];
    let hr = [80, 82, 84, 86, 88, 90, 300, 78, 76, 74];
    let temp = [
        Some(36.5),
        Some(36.7),
        Some(38.0),
        Some(38.4),
        Some(37.0),
        Some(36.9),
        Some(36.8),
        None,
        Some(36.6),
        Some(36.5),
    ];
    (0..10)
        .map(|n| {
            (
                "P1",
                format!("2024-03-04 00:{:02}", n * 5),
                Some(spo2[n]),
                Some(hr[n]),
                temp[n],
                Some(16),
            )
        })
        .collect()
}

/// P1 on Tuesday 2024-03-05: all 288 readings, SpO2 96, 36.6 °C.
pub fn p1_tuesday() -> Vec<Reading> {
    (0..288)
        .map(|n| {
            reading(
                "P1",
                &format!("2024-03-05 {:02}:{:02}", n / 12, (n % 12) * 5),
                96.0,
                36.6,
            )
        })
        .collect()
}

/// The daily-aggregations lake: P1's Monday and Tuesday and one reading of P2 on Monday noon.
pub fn write_daily_lake(lake: &Path) {
    let mut rows = p1_monday();
    rows.extend(p1_tuesday());
    rows.push(reading("P2", "2024-03-04 12:00", 98.0, 36.9));
    write_vitals(lake, &rows);
}

// ---------------------------------------------------------------------------------------------
// weekly-reports
// ---------------------------------------------------------------------------------------------

/// ISO week 2024-W10 is Monday 2024-03-04 .. Sunday 2024-03-10. One reading a day at noon.
/// W1: SpO2 97, 96, ..., 91 (slope -1 a day, mean 94: -1/94 = -0.0106 < -0.003 -> down);
///     temperature 36.5, 36.7, ..., 37.7 (slope 0.2, mean 37.1: 0.0054 > 0.002 -> up);
///     heart rate 80 every day (slope 0 -> stable).
/// W2 (`with_w2`): SpO2 96 every day but Wednesday (no data: a NULL that keeps the positions)
///     -> stable.
pub fn weekly_w10_vitals(with_w2: bool) -> Vec<Reading> {
    let mut rows = Vec::new();
    for d in 0..7 {
        let at = format!("2024-03-{:02} 12:00", 4 + d);
        rows.push(reading("W1", &at, 97.0 - d as f64, 36.5 + 0.2 * d as f64));
        if with_w2 && d != 2 {
            rows.push(reading("W2", &at, 96.0, 36.6));
        }
    }
    rows
}

/// The weekly-reports lake with `vitals`, and these crises, treatments and patients:
/// W1's crisis runs from Friday 2024-03-08 10:00 past the end of week 10 (Monday 00:00): 62 hours
/// in it, 34 in week 11. W2's crisis ended the week before.
pub fn write_weekly_lake(lake: &Path, vitals: &[Reading]) {
    write_vitals(lake, vitals);
    write_crises(
        lake,
        &[
            ("W1", "2024-03-08 10:00", Some("2024-03-12 10:00"), 2, 7),
            ("W2", "2024-02-20 10:00", Some("2024-02-22 10:00"), 3, 9),
        ],
    );
    write_treatments(
        lake,
        &[
            ("W1", "hydroxyurea", "2023-01-01", None),
            ("W1", "paracetamol", "2024-03-08", Some("2024-03-12")),
            ("W1", "folic_acid", "2023-01-01", Some("2024-02-01")),
            ("W2", "folic_acid", "2023-06-01", None),
        ],
    );
    write_patients(
        lake,
        &[
            ("W1", 2012, "F", "SS", "Centre"),
            ("W2", 1995, "M", "SC", "Littoral"),
        ],
    );
}

/// The columns [`weekly_w10_expected`] lists, in its order.
pub const WEEKLY_COLUMNS: &str = "patient_id, week_start, iso_week, days_with_data, spo2_trend, \
     hr_trend, temp_trend, crisis_count, crisis_max_severity, crisis_hours, active_treatments, \
     on_hydroxyurea, spo2_avg, completeness";

/// `patient_weekly_report` of week 2024-W10 of [`weekly_w10_vitals`]`(true)`, by patient
/// ([`WEEKLY_COLUMNS`], the week start as text).
pub fn weekly_w10_expected() -> Vec<Vec<Val>> {
    vec![
        // 7 days; the crisis (severity 2) from Friday 10:00 to the end of the week: 62 hours;
        // hydroxyurea (open-ended) and paracetamol (from Friday) are active, folic acid ended in
        // February. SpO2: mean of the daily means 97..91 = 94; 7 readings of 7 x 288 expected.
        vec![
            s("W1"),
            s("2024-03-04"),
            s("2024-W10"),
            i(7),
            s("down"),
            s("stable"),
            s("up"),
            i(1),
            i(2),
            f(62.0),
            s("hydroxyurea, paracetamol"),
            Val::Bool(true),
            f(94.0),
            f(7.0 / (7.0 * 288.0)),
        ],
        // 6 days at SpO2 96 (6 readings of 7 x 288); no crisis in the week; folic acid only.
        vec![
            s("W2"),
            s("2024-03-04"),
            s("2024-W10"),
            i(6),
            s("stable"),
            s("stable"),
            s("stable"),
            i(0),
            Val::Null,
            f(0.0),
            s("folic_acid"),
            Val::Bool(false),
            f(96.0),
            f(6.0 / (7.0 * 288.0)),
        ],
    ]
}

// ---------------------------------------------------------------------------------------------
// monthly-analytics
// ---------------------------------------------------------------------------------------------

/// The crises of the monthly-analytics lake. Started: 2023-01: 2 (M1 1, M2 1), 2023-02: 0,
/// 2024-01: 4 (M1 3, M2 1), 2024-02: 2 (M1 1, M2 1).
pub const MONTHLY_CRISES: [CrisisRow; 8] = [
    ("M1", "2023-01-05 10:00", Some("2023-01-07 10:00"), 2, 6),
    ("M2", "2023-01-20 10:00", Some("2023-01-22 10:00"), 1, 4),
    ("M1", "2024-01-03 10:00", Some("2024-01-04 10:00"), 3, 9),
    ("M1", "2024-01-12 10:00", Some("2024-01-13 10:00"), 2, 7),
    ("M1", "2024-01-25 10:00", Some("2024-01-26 10:00"), 2, 5),
    ("M2", "2024-01-28 10:00", Some("2024-01-29 10:00"), 1, 3),
    ("M1", "2024-02-02 10:00", Some("2024-02-03 10:00"), 1, 4),
    ("M2", "2024-02-14 10:00", None, 2, 6),
];

/// The monthly-analytics lake: M1 and M2 monitored (one reading each, on the 10th) in January and
/// February of 2023 and 2024; `crises`; M1 on hydroxyurea since 2023-12-15; M1 (SS, Centre) born
/// 2010: 13 in 2023, 14 in 2024 -> band 12-17; M2 (SC, Nord) born 1990: 33, 34 -> 30-44.
pub fn write_monthly_lake(lake: &Path, crises: &[CrisisRow]) {
    let mut rows = Vec::new();
    for month in ["2023-01", "2023-02", "2024-01", "2024-02"] {
        for patient in ["M1", "M2"] {
            rows.push(reading(patient, &format!("{month}-10 08:00"), 96.0, 36.6));
        }
    }
    write_vitals(lake, &rows);
    write_crises(lake, crises);
    write_treatments(lake, &[("M1", "hydroxyurea", "2023-12-15", None)]);
    write_patients(
        lake,
        &[
            ("M1", 2010, "F", "SS", "Centre"),
            ("M2", 1990, "M", "SC", "Nord"),
        ],
    );
}

/// The columns [`crisis_seasonality_expected`] lists, in its order.
pub const SEASONALITY_COLUMNS: &str = "month, calendar_month, crisis_count, patients_monitored, \
     crises_per_100_patients, seasonal_factor, crisis_trend";

/// `crisis_seasonality` of [`MONTHLY_CRISES`] by month ([`SEASONALITY_COLUMNS`]).
/// Rates per 100 monitored patients: 100, 0, 200, 100; their mean is 100.
/// January: mean(100, 200) / 100 = 1.5; February: mean(0, 100) / 100 = 0.5.
/// Trend of 2024-01 over (100, 0, 200): slope 50 / mean 100 = 0.5 -> up; of 2024-02 over
/// (100, 0, 200, 100): slope 20 / mean 100 = 0.2 -> up; fewer than 3 values -> stable.
pub fn crisis_seasonality_expected() -> Vec<Vec<Val>> {
    vec![
        vec![
            s("2023-01-01"),
            i(1),
            i(2),
            i(2),
            f(100.0),
            f(1.5),
            s("stable"),
        ],
        vec![
            s("2023-02-01"),
            i(2),
            i(0),
            i(2),
            f(0.0),
            f(0.5),
            s("stable"),
        ],
        vec![s("2024-01-01"), i(1), i(4), i(2), f(200.0), f(1.5), s("up")],
        vec![s("2024-02-01"), i(2), i(2), i(2), f(100.0), f(0.5), s("up")],
    ]
}

/// The columns [`cohort_month_expected`] lists, in its order.
pub const COHORT_COLUMNS: &str =
    "cohort_dimension, cohort_value, patients, crisis_count, crises_per_patient, hydroxyurea_share";

/// The 7 `cohort_monthly` rows of one month of the monthly-analytics lake ([`COHORT_COLUMNS`],
/// ordered by dimension and value as text) when M1 (SS, Centre, 12-17) started `m1_crises` crises
/// in the month, M2 (SC, Nord, 30-44) `m2_crises`, and M1 took hydroxyurea (`m1_hydroxyurea`).
pub fn cohort_month_expected(
    m1_crises: i64,
    m1_hydroxyurea: bool,
    m2_crises: i64,
) -> Vec<Vec<Val>> {
    let hu = if m1_hydroxyurea { 1.0 } else { 0.0 };
    let m1 = |dimension: &str, value: &str| {
        vec![
            s(dimension),
            s(value),
            i(1),
            i(m1_crises),
            f(m1_crises as f64),
            f(hu),
        ]
    };
    let m2 = |dimension: &str, value: &str| {
        vec![
            s(dimension),
            s(value),
            i(1),
            i(m2_crises),
            f(m2_crises as f64),
            f(0.0),
        ]
    };
    let all = m1_crises + m2_crises;
    vec![
        m1("age_band", "12-17"),
        m2("age_band", "30-44"),
        vec![
            s("all"),
            s("all"),
            i(2),
            i(all),
            f(all as f64 / 2.0),
            f(hu / 2.0),
        ],
        m2("genotype", "SC"),
        m1("genotype", "SS"),
        m1("region", "Centre"),
        m2("region", "Nord"),
    ]
}

// ---------------------------------------------------------------------------------------------
// research-export
// ---------------------------------------------------------------------------------------------

/// The Gold tables of research-export.
pub const RESEARCH_TABLES: [&str; 4] = [
    "research_patients",
    "research_daily_vitals",
    "research_crises",
    "research_cohort_cells",
];

/// The research-export patients.
pub const RESEARCH_PATIENTS: [PatientRow; 7] = [
    ("PATIENT-0001", 1986, "F", "SS", "Centre"),
    ("PATIENT-0002", 1987, "F", "SS", "Centre"),
    ("PATIENT-0003", 1988, "F", "SS", "Centre"),
    ("PATIENT-0004", 1986, "F", "SS", "Centre"),
    ("PATIENT-0005", 1987, "F", "SS", "Centre"),
    // six of the same group (band 1985-1989, F, SS, Centre) are published as they are;
    ("PATIENT-0006", 1988, "F", "SS", "Centre"),
    // the only one of its kind has every quasi-identifier suppressed.
    ("PATIENT-0007", 1951, "M", "SC", "Nord"),
];

/// The research-export lake: every patient read on 2024-03-04 08:00 (SpO2 95) and 2024-03-05
/// 08:00 (SpO2 96); PATIENT-0001 had one crisis from 2024-03-04 10:00 to 03-05 16:00 (30 hours).
pub fn write_research_lake(lake: &Path) {
    let mut rows = Vec::new();
    for (id, ..) in RESEARCH_PATIENTS {
        rows.push(reading(id, "2024-03-04 08:00", 95.0, 36.6));
        rows.push(reading(id, "2024-03-05 08:00", 96.0, 36.8));
    }
    write_vitals(lake, &rows);
    write_crises(
        lake,
        &[(
            "PATIENT-0001",
            "2024-03-04 10:00",
            Some("2024-03-05 16:00"),
            2,
            6,
        )],
    );
    write_patients(lake, &RESEARCH_PATIENTS);
}

/// `pseudonym(id, KEY)` computed by the UDF on its own, outside any job.
pub async fn pseudonym_of(id: &str) -> Val {
    let mut ctx = SessionContext::new();
    medallion_udfs::register_all(&mut ctx).unwrap();
    let gold = Gold {
        out: std::env::temp_dir(),
        ctx,
    };
    gold.rows(&format!("SELECT pseudonym('{id}', '{KEY}')"))
        .await
        .remove(0)
        .remove(0)
}

/// Checks `research_patients` rows (research_id, birth_year_band, sex, genotype, region) ordered
/// by band, NULLs last: the six (1985-1989, F, SS, Centre) patients as they are, the lone one with
/// every quasi-identifier suppressed under the pseudonym `lone`.
pub fn assert_research_patients(rows: &[Vec<Val>], lone: &Val) {
    assert_eq!(rows.len(), 7, "{rows:?}");
    for row in &rows[..6] {
        assert_eq!(row[1..], [s("1985-1989"), s("F"), s("SS"), s("Centre")]);
    }
    assert_eq!(
        rows[6],
        vec![lone.clone(), Val::Null, Val::Null, Val::Null, Val::Null]
    );
}

/// Checks per research id (research_id, first shifted day - 2024-03-04 in days, last - first):
/// dates move by the same offset, within -30..+30 days, for all of a patient's rows, and not all
/// by 0.
pub fn assert_research_shifts(rows: &[Vec<Val>]) {
    assert_eq!(rows.len(), 7, "{rows:?}");
    for row in rows {
        let shift = row[1].as_i64().unwrap();
        assert!((-30..=30).contains(&shift), "{row:?}");
        assert_eq!(row[2], i(1), "two consecutive days stay consecutive");
    }
    assert!(rows.iter().any(|r| r[1] != i(0)), "dates are shifted");
}

/// `research_cohort_cells` (genotype, birth_year_band, sex, patients, patient_days, crises): the
/// six (SS, 1985-1989, F) patients form a cell with their 12 patient-days and one crisis; the
/// lone SC patient's cell is suppressed.
pub fn research_cells_expected() -> Vec<Vec<Val>> {
    vec![vec![s("SS"), s("1985-1989"), s("F"), i(6), i(12), i(1)]]
}

/// Panics if any of `cells` (as text) holds a raw patient id, an exact birth year of
/// [`RESEARCH_PATIENTS`] or the key.
pub fn assert_no_identifiers(what: &str, cells: &[String]) {
    for cell in cells {
        assert!(!cell.contains("PATIENT"), "{what}: raw id {cell}");
        assert!(!cell.contains(KEY), "{what}: the key");
        for (_, year, ..) in RESEARCH_PATIENTS {
            assert_ne!(cell, &year.to_string(), "{what}: exact birth year");
        }
    }
}
