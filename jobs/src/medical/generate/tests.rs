use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::{Float64Type, Int32Type};

use super::*;
use crate::accidents::silver_writer::test_support::read_parquet;

fn small(out: &std::path::Path, seed: u64) -> GenerateMedicalArgs {
    GenerateMedicalArgs {
        patients: 12,
        days: 10,
        seed,
        ..GenerateMedicalArgs::new(out)
    }
}

#[test]
fn the_lake_has_four_tables_and_day_partitions() {
    let lake = tempfile::tempdir().unwrap();
    let report = generate_medical(&small(lake.path(), 7), false).unwrap();
    assert_eq!(report.patients, 12);
    for table in ["vitals", "crises", "treatments", "patients"] {
        assert!(lake.path().join(table).is_dir(), "{table}");
    }
    assert!(lake.path().join("vitals/date=2024-01-01").is_dir());
    assert!(lake.path().join("vitals/date=2024-01-10").is_dir());
    assert!(!lake.path().join("vitals/date=2024-01-11").exists());
    // 12 patients x 10 days x 288 readings, less device gaps (a few percent).
    let expected = 12 * 10 * 288;
    assert!(
        report.vitals < expected && report.vitals > expected * 80 / 100,
        "{}",
        report.vitals
    );
    let patients = read_parquet(&[lake.path().join("patients/part-00000.parquet")]);
    assert_eq!(patients.num_rows(), 12);
    // only the lake tables are left: no temporary folders
    assert_eq!(std::fs::read_dir(lake.path()).unwrap().count(), 4);
}

#[test]
fn the_same_seed_gives_the_same_data() {
    let (a, b, c) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    let ra = generate_medical(&small(a.path(), 7), false).unwrap();
    let rb = generate_medical(&small(b.path(), 7), false).unwrap();
    generate_medical(&small(c.path(), 8), false).unwrap();
    assert_eq!(
        (ra.vitals, ra.crises, ra.treatments),
        (rb.vitals, rb.crises, rb.treatments)
    );
    let day = "vitals/date=2024-01-05/part-00000.parquet";
    assert_eq!(
        read_parquet(&[a.path().join(day)]),
        read_parquet(&[b.path().join(day)])
    );
    assert_ne!(
        read_parquet(&[a.path().join(day)]),
        read_parquet(&[c.path().join(day)])
    );
}

#[test]
fn readings_look_like_physiology_with_a_few_sensor_errors() {
    let lake = tempfile::tempdir().unwrap();
    let args = GenerateMedicalArgs {
        patients: 40,
        days: 14,
        ..GenerateMedicalArgs::new(lake.path())
    };
    let report = generate_medical(&args, false).unwrap();
    let files: Vec<_> = report
        .files
        .iter()
        .filter(|f| f.to_string_lossy().contains("/vitals/"))
        .cloned()
        .collect();
    let vitals = read_parquet(&files);
    let spo2 = vitals
        .column_by_name("spo2_pct")
        .unwrap()
        .as_primitive::<Float64Type>();
    let temp = vitals
        .column_by_name("temperature_c")
        .unwrap()
        .as_primitive::<Float64Type>();
    let hr = vitals
        .column_by_name("heart_rate_bpm")
        .unwrap()
        .as_primitive::<Int32Type>();
    let n = vitals.num_rows() as f64;
    let spo2_values: Vec<f64> = spo2.iter().flatten().collect();
    let typical = spo2_values
        .iter()
        .filter(|v| (93.0..=99.0).contains(*v))
        .count() as f64;
    assert!(typical / n > 0.8, "SpO2 mostly 93-99: {}", typical / n);
    let desaturated = spo2_values.iter().filter(|v| **v < 90.0).count();
    assert!(desaturated > 0, "some desaturation below 90");
    let impossible = spo2_values.iter().filter(|v| **v > 100.0).count()
        + temp.iter().flatten().filter(|v| *v > 45.0).count()
        + hr.iter().flatten().filter(|v| *v < 20 || *v > 250).count();
    let rate = impossible as f64 / n;
    assert!(
        rate > 0.0002 && rate < 0.01,
        "impossible readings rate {rate}"
    );
    assert!(temp.iter().flatten().any(|v| v >= 38.0), "some fever");
    assert!(temp.null_count() > 0, "a few temperature dropouts");
    assert!(report.crises > 0);
}

#[test]
fn partitions_are_named_by_date() {
    let day = date32(NaiveDate::from_ymd_opt(2024, 2, 29).unwrap());
    assert_eq!(date_partition(day), "date=2024-02-29");
    assert_eq!(date32(NaiveDate::from_ymd_opt(1970, 1, 2).unwrap()), 1);
}

#[test]
fn bad_arguments_are_refused() {
    let lake = tempfile::tempdir().unwrap();
    let mut args = small(lake.path(), 1);
    args.patients = 0;
    assert_eq!(generate_medical(&args, false).unwrap_err().exit_code(), 2);
    args.patients = 1;
    args.days = 0;
    assert!(generate_medical(&args, false).is_err());
}

#[test]
fn crises_are_partitioned_by_their_start_day_and_treatments_are_not() {
    use datafusion::arrow::datatypes::TimestampMicrosecondType;
    let lake = tempfile::tempdir().unwrap();
    let args = GenerateMedicalArgs {
        patients: 40,
        days: 14,
        ..GenerateMedicalArgs::new(lake.path())
    };
    let report = generate_medical(&args, false).unwrap();
    assert!(report.crises > 0);
    let mut rows = 0;
    let mut partitions = 0;
    for entry in std::fs::read_dir(lake.path().join("crises")).unwrap() {
        let dir = entry.unwrap().path();
        let name = dir.file_name().unwrap().to_str().unwrap().to_string();
        let day = parse_date(name.strip_prefix("date=").expect("a date= partition"))
            .expect("a valid day");
        let batch = read_parquet(&[dir.join("part-00000.parquet")]);
        let starts = batch
            .column_by_name("start_ts")
            .unwrap()
            .as_primitive::<TimestampMicrosecondType>();
        // every crisis sits in the partition of the day it started
        for start in starts.iter() {
            let start = start.expect("a start");
            assert_eq!(start.div_euclid(86_400_000_000), i64::from(date32(day)));
        }
        rows += batch.num_rows() as u64;
        partitions += 1;
    }
    assert_eq!(rows, report.crises);
    assert!(partitions > 1, "{partitions} crisis partitions");
    // treatments: one file in the table folder
    let treatments: Vec<_> = std::fs::read_dir(lake.path().join("treatments"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(treatments, ["part-00000.parquet"]);
}

/// Mean SpO2 of the readings of `days` of patient `sim` (already simulated up to them).
fn mean_spo2(readings: &[Reading]) -> f64 {
    let values: Vec<f64> = readings.iter().filter_map(|r| r.spo2).collect();
    values.iter().sum::<f64>() / values.len().max(1) as f64
}

#[test]
fn the_longitudinal_cohorts_have_something_to_find() {
    let origin = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
    let sim = |number: u32| {
        let mut rng = ChaCha8Rng::seed_from_u64(42);
        rng.set_stream(u64::from(number - 1));
        PatientSim::new(number, rng, origin)
    };
    let run = |sim: &mut PatientSim, days: std::ops::Range<i64>| {
        days.map(|d| {
            let mut out = Vec::new();
            sim.simulate_day(d, &mut out);
            out
        })
        .collect::<Vec<_>>()
    };
    assert_eq!(Cohort::of(3), Some(Cohort::WorseningSpo2));
    assert_eq!(Cohort::of(15), Some(Cohort::GappyDevice));
    assert_eq!(Cohort::of(27), Some(Cohort::LateHydroxyurea));
    assert_eq!(Cohort::of(1), None);

    // Patient 3: by day 80 the baseline has lost 0.06 x 66 = ~4 points.
    let mut worsening = sim(3);
    let days = run(&mut worsening, 0..90);
    let early = mean_spo2(&days[..10].concat());
    let late = mean_spo2(&days[80..].concat());
    assert!(late < early - 3.0, "SpO2 {early} -> {late}");

    // Patient 5: days 4, 13, 22 without a reading, the others with.
    let mut gappy = sim(5);
    let days = run(&mut gappy, 0..23);
    for (d, readings) in days.iter().enumerate() {
        assert_eq!(readings.is_empty(), d % 9 == 4, "day {d}");
    }

    // Patient 7: hydroxyurea starts on day 45, whatever was drawn before.
    let late = sim(7);
    let hydroxyurea: Vec<_> = late
        .profile
        .treatments
        .iter()
        .filter(|t| t.drug == "hydroxyurea")
        .collect();
    assert_eq!(hydroxyurea.len(), 1);
    assert_eq!(hydroxyurea[0].start, origin + Duration::days(45));
}
