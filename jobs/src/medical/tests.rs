//! The medical job plans run end to end on a small generated lake with plain (in-process)
//! DataFusion: every view and Gold query plans and runs, and the results hold together. The exact
//! values are checked on hand-made data by `jobs/tests/medical.rs`, through the real binary.

use datafusion::arrow::array::RecordBatch;
use datafusion::prelude::SessionContext;

use crate::medical::generate::{GenerateMedicalArgs, generate_medical};
use crate::plan::{Params, find_job};
use crate::run::prepare_inputs;
use crate::run_request::RunRequest;

async fn run_plan(job: &str, lake: &std::path::Path, params: Params) -> Vec<(String, usize)> {
    let plan = find_job(job).unwrap();
    let mut ctx = SessionContext::new();
    medallion_udfs::register_all(&mut ctx).unwrap();
    let request = RunRequest {
        lake: lake.to_str().unwrap().to_string(),
        params,
        mode: "full".into(),
        progress: false,
        concurrency: 1,
        query_timeout: None,
        attempts: 1,
        jobs: None,
    };
    prepare_inputs(&ctx, &plan, &request).await.unwrap();
    let mut out = Vec::new();
    for gold in &plan.gold {
        let sql = request.params.substitute(gold.query.sql).unwrap();
        let batches: Vec<RecordBatch> = ctx
            .sql(&sql)
            .await
            .unwrap_or_else(|e| panic!("{job}/{}: {e}", gold.query.name))
            .collect()
            .await
            .unwrap_or_else(|e| panic!("{job}/{}: {e}", gold.query.name));
        out.push((
            gold.query.name.clone(),
            batches.iter().map(|b| b.num_rows()).sum(),
        ));
    }
    if let Some(score) = plan.quality.as_ref().and_then(|q| q.score.as_ref()) {
        let batches = ctx
            .sql(&format!("SELECT * FROM {score}"))
            .await
            .unwrap()
            .collect()
            .await
            .unwrap();
        assert_eq!(batches.iter().map(|b| b.num_rows()).sum::<usize>(), 1);
    }
    out
}

fn lake() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let args = GenerateMedicalArgs {
        patients: 6,
        days: 9,
        ..GenerateMedicalArgs::new(dir.path())
    };
    generate_medical(&args, false).unwrap();
    dir
}

fn params(job: &str) -> Params {
    let mut params = find_job(job).unwrap().params;
    params.set_secret("pseudonym_key", "a test key of enough length");
    params
}

#[tokio::test]
async fn every_medical_job_plans_and_runs() {
    let lake = lake();
    let daily = run_plan(
        "daily-aggregations",
        lake.path(),
        params("daily-aggregations"),
    )
    .await;
    // 6 patients x 9 days (a device may miss a whole day, rarely)
    assert!(daily[0].1 > 45 && daily[0].1 <= 54, "{daily:?}");
    let weekly = run_plan("weekly-reports", lake.path(), params("weekly-reports")).await;
    // 2024-01-01 is a Monday: 9 days are two ISO weeks
    assert!(weekly[0].1 > 8 && weekly[0].1 <= 12, "{weekly:?}");
    let monthly = run_plan(
        "monthly-analytics",
        lake.path(),
        params("monthly-analytics"),
    )
    .await;
    assert_eq!(monthly[1], ("crisis_seasonality".to_string(), 1));
    assert!(monthly[0].1 >= 4, "{monthly:?}");
    let research = run_plan("research-export", lake.path(), params("research-export")).await;
    let names: Vec<&str> = research.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "research_cohort_cells",
            "research_crises",
            "research_daily_vitals",
            "research_patients"
        ]
    );
    assert_eq!(research[3].1, 6);
}

#[test]
fn included_views_and_params_come_first() {
    let weekly = find_job("weekly-reports").unwrap();
    let views: Vec<&str> = weekly.views.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(&views[..2], ["vitals_in_period", "vitals_checked"]);
    assert!(views.contains(&"patient_weeks"));
    assert!(weekly.params.has("spo2_min") && weekly.params.has("spo2_trend_threshold"));
    assert!(weekly.inputs.iter().any(|i| i.name == "vitals"));
    let research = find_job("research-export").unwrap();
    assert_eq!(research.secrets[0].env, "MEDALLION_PSEUDONYM_KEY");
    assert_eq!(research.outputs.export, ["parquet", "csv"]);
}
