//! The pages of `medallion ui`, rendered on the server from the runs of `pipeline_runs`: the
//! overview (each job's last runs with status, duration and quality charts; the recent failures
//! with their error line; the running Ballista jobs, filled in and refreshed by the page's script
//! from `/api/running`) and one run's page (its record and its Gold tables' row counts).

use std::collections::BTreeMap;
use std::fmt::Write;

use super::charts::{Point, sparkline};
use super::html::{escape, page, path_segment, status_badge};
use super::runs::Run;

/// How many failed or cancelled runs the overview lists.
const FAILURES_SHOWN: usize = 20;

/// What the header says: where the runs and the running jobs come from.
#[derive(Debug, Clone)]
pub struct Sources {
    /// The sink, in words.
    pub sink: String,
    /// The scheduler, `df://host:port`, if any.
    pub scheduler: Option<String>,
}

impl Sources {
    /// The header line: where the runs and the running jobs come from.
    pub fn subtitle(&self) -> String {
        match &self.scheduler {
            Some(s) => format!("runs from {} · jobs from {s}", self.sink),
            None => format!("runs from {}", self.sink),
        }
    }
}

/// The overview page of `jobs` (each job's runs, newest first) and `runs` (all, newest first).
pub fn overview(sources: &Sources, jobs: &BTreeMap<String, Vec<Run>>, runs: &[Run]) -> String {
    let mut body = String::new();
    body.push_str(&running_section(sources));
    body.push_str("<section id=\"jobs\"><h2>Jobs</h2>");
    if jobs.is_empty() {
        body.push_str("<p class=\"muted\" id=\"no-runs\">No run recorded in this sink yet.</p>");
    }
    body.push_str("<div class=\"jobs\">");
    for (name, runs) in jobs {
        body.push_str(&job_card(name, runs));
    }
    body.push_str("</div></section>");
    body.push_str(&failures_section(runs));
    page("batch jobs", &sources.subtitle(), &body, RUNNING_SCRIPT)
}

/// The running jobs' section, filled in by [`RUNNING_SCRIPT`].
fn running_section(sources: &Sources) -> String {
    let note = match &sources.scheduler {
        Some(s) => format!("Ballista jobs queued or running on {}", escape(s)),
        None => "No scheduler given (medallion ui --scheduler df://HOST:PORT)".to_string(),
    };
    format!(
        "<section id=\"running\"><h2>Running jobs</h2><p class=\"muted\" id=\"running-note\">{note}</p>\
         <table><thead><tr><th>Ballista job</th><th>Job</th><th>State</th><th>Stages</th>\
         <th>Progress</th><th>Started (UTC)</th></tr></thead>\
         <tbody id=\"running-jobs\"><tr><td colspan=\"6\" class=\"muted\">loading…</td></tr></tbody>\
         </table></section>"
    )
}

/// One job's card: its last status, charts of duration and quality, and its last runs.
fn job_card(name: &str, runs: &[Run]) -> String {
    let chronological: Vec<&Run> = runs.iter().rev().collect();
    let label = |r: &Run, what: String| format!("{} {} · {}", r.started_at, r.status, what);
    let durations: Vec<Point> = chronological
        .iter()
        .map(|r| Point {
            value: r.duration_s,
            status: r.status.clone(),
            label: label(r, r.duration_s.map_or("-".into(), |d| format!("{d:.1} s"))),
        })
        .collect();
    let quality: Vec<Point> = chronological
        .iter()
        .map(|r| Point {
            value: r.quality,
            status: r.status.clone(),
            label: label(r, r.quality.map_or("-".into(), |q| format!("{q:.2} %"))),
        })
        .collect();
    let failures = runs.iter().filter(|r| r.status != "succeeded").count();
    let last = runs.first().map(|r| r.status.as_str()).unwrap_or("-");
    let mut card = format!(
        "<div class=\"job\" data-job=\"{job}\"><div class=\"job-head\"><h3>{job}</h3>\
         <span>{badge} <span class=\"muted\">{n} runs, {failures} not succeeded</span></span></div>\
         <div class=\"charts\"><figure>{d}<figcaption>duration (s), last {n} runs</figcaption></figure>\
         <figure>{q}<figcaption>data quality (%)</figcaption></figure></div>",
        job = escape(name),
        badge = status_badge(last),
        n = runs.len(),
        d = sparkline("duration", &format!("{name}: duration per run"), &durations),
        q = sparkline(
            "quality",
            &format!("{name}: data quality per run"),
            &quality
        ),
    );
    card.push_str(
        "<table class=\"runs\"><thead><tr><th>Started (UTC)</th><th>Status</th>\
         <th class=\"num\">Duration</th><th class=\"num\">Quality</th>\
         <th class=\"num\">Rows written</th><th></th></tr></thead><tbody>",
    );
    for run in runs.iter().take(5) {
        let _ = write!(
            card,
            "<tr class=\"run\" data-run=\"{id}\"><td>{started}</td><td>{badge}</td>\
             <td class=\"num\">{duration}</td><td class=\"num\">{quality}</td>\
             <td class=\"num\">{rows}</td><td><a href=\"/run/{link}\">tables</a></td></tr>",
            id = escape(&run.run_id),
            started = escape(&run.started_at),
            badge = status_badge(&run.status),
            duration = run.duration_s.map_or("-".into(), |d| format!("{d:.1} s")),
            quality = run.quality.map_or("-".into(), |q| format!("{q:.2} %")),
            rows = run.total_rows_written(),
            link = path_segment(&run.run_id),
        );
    }
    card.push_str("</tbody></table></div>");
    card
}

/// The latest failed and cancelled runs, with their error line.
fn failures_section(runs: &[Run]) -> String {
    let failed: Vec<&Run> = runs
        .iter()
        .filter(|r| r.status != "succeeded")
        .take(FAILURES_SHOWN)
        .collect();
    let mut html = String::from("<section id=\"failures\"><h2>Failures</h2>");
    if failed.is_empty() {
        html.push_str("<p class=\"muted\">No failed or cancelled run.</p></section>");
        return html;
    }
    html.push_str(
        "<table><thead><tr><th>Started (UTC)</th><th>Job</th><th>Status</th><th>Error</th>\
         <th></th></tr></thead><tbody>",
    );
    for run in failed {
        let _ = write!(
            html,
            "<tr class=\"failure\" data-run=\"{id}\"><td>{started}</td><td>{job}</td><td>{badge}</td>\
             <td class=\"error-line\">{error}</td><td><a href=\"/run/{link}\">run</a></td></tr>",
            id = escape(&run.run_id),
            started = escape(&run.started_at),
            job = escape(&run.job),
            badge = status_badge(&run.status),
            error = escape(run.error_line().unwrap_or("")),
            link = path_segment(&run.run_id),
        );
    }
    html.push_str("</tbody></table></section>");
    html
}

/// One run's page: its record and its Gold tables' row counts.
pub fn run_page(sources: &Sources, run: &Run) -> String {
    let mut body = format!(
        "<section id=\"run\"><h2>Run {id} of {job}</h2><dl>\
         <dt>Status</dt><dd>{badge}</dd><dt>Mode</dt><dd>{mode}</dd>\
         <dt>Started (UTC)</dt><dd>{started}</dd><dt>Duration</dt><dd>{duration}</dd>\
         <dt>Silver rows read</dt><dd>{read}</dd><dt>Rows rejected</dt><dd>{rejected}</dd>\
         <dt>Data quality</dt><dd>{quality}</dd>{error}</dl></section>",
        id = escape(&run.run_id),
        job = escape(&run.job),
        badge = status_badge(&run.status),
        mode = escape(&run.mode),
        started = escape(&run.started_at),
        duration = run.duration_s.map_or("-".into(), |d| format!("{d:.1} s")),
        read = run.rows_read,
        rejected = run.rows_rejected,
        quality = run.quality.map_or("-".into(), |q| format!("{q:.2} %")),
        error = run.error.as_deref().map_or(String::new(), |e| format!(
            "<dt>Error</dt><dd class=\"error-line\">{}</dd>",
            escape(e)
        )),
    );
    body.push_str("<section id=\"tables\"><h2>Gold tables</h2>");
    if run.rows_written.is_empty() {
        body.push_str("<p class=\"muted\">This run published no Gold table.</p>");
    } else {
        let max = run.rows_written.values().copied().max().unwrap_or(0).max(1);
        body.push_str(
            "<table><thead><tr><th>Table</th><th class=\"num\">Rows</th><th></th></tr></thead><tbody>",
        );
        for (table, rows) in &run.rows_written {
            let _ = write!(
                body,
                "<tr class=\"gold-table\" data-table=\"{t}\"><td>{t}</td><td class=\"num\">{rows}</td>\
                 <td><div class=\"bar\"><div style=\"width:{pct:.1}%\"></div></div></td></tr>",
                t = escape(table),
                pct = 100.0 * *rows as f64 / max as f64,
            );
        }
        body.push_str("</tbody></table>");
    }
    body.push_str("</section><p><a href=\"/\">← all jobs</a></p>");
    page(
        &format!("run {}", run.run_id),
        &sources.subtitle(),
        &body,
        "",
    )
}

/// The page shown for an unknown run id.
pub fn not_found(sources: &Sources, run_id: &str) -> String {
    let body = format!(
        "<section><h2>No run {}</h2><p>The sink records no such run.</p>\
         <p><a href=\"/\">← all jobs</a></p></section>",
        escape(run_id)
    );
    page("run not found", &sources.subtitle(), &body, "")
}

/// Fills the running jobs' table from `/api/running` now and every 5 s.
const RUNNING_SCRIPT: &str = r#"<script>
(function () {
  function esc(s) { var d = document.createElement('div'); d.textContent = String(s); return d.innerHTML; }
  function cell(html, cls) { return '<td' + (cls ? ' class="' + cls + '"' : '') + '>' + html + '</td>'; }
  function render(data) {
    var body = document.getElementById('running-jobs');
    var note = document.getElementById('running-note');
    if (data.error) { note.textContent = data.error; note.className = 'error-line'; }
    if (!data.jobs || data.jobs.length === 0) {
      body.innerHTML = '<tr><td colspan="6" class="muted" id="no-running">No job queued or running.</td></tr>';
      return;
    }
    body.innerHTML = data.jobs.map(function (j) {
      var started = j.start_time ? new Date(j.start_time).toISOString().replace('T', ' ').slice(0, 19) : '-';
      return '<tr class="running-job" data-job-id="' + esc(j.job_id) + '">' +
        cell('<code>' + esc(j.job_id) + '</code>') + cell(esc(j.job_name)) +
        cell('<span class="status ' + esc(j.status) + '">' + esc(j.status) + '</span>') +
        cell(esc(j.completed_stages + '/' + j.num_stages), 'num') +
        cell('<div class="bar" title="' + esc(j.percent_complete) + '%"><div style="width:' +
             Number(j.percent_complete) + '%"></div></div>') +
        cell(esc(started)) + '</tr>';
    }).join('');
  }
  function refresh() {
    fetch('/api/running').then(function (r) { return r.json(); }).then(render)
      .catch(function (e) { render({ error: 'cannot read /api/running: ' + e, jobs: [] }); });
  }
  refresh();
  setInterval(refresh, 5000);
})();
</script>"#;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::runs::by_job;

    fn run(id: &str, job: &str, status: &str, error: Option<&str>) -> Run {
        Run {
            run_id: id.into(),
            job: job.into(),
            mode: "full".into(),
            status: status.into(),
            started_at: format!("2026-12-06 10:00:{id}"),
            duration_s: Some(3.0),
            rows_read: 100,
            rows_rejected: 2,
            rows_written: BTreeMap::from([("hotspots".into(), 4), ("kpis_weather".into(), 12)]),
            quality: Some(97.5),
            error: error.map(str::to_string),
        }
    }

    #[test]
    fn the_overview_shows_jobs_charts_failures_and_the_running_table() {
        let runs = vec![
            run(
                "02",
                "accidents-datamart",
                "failed",
                Some("LIMIT <0>\nsecond line"),
            ),
            run("01", "accidents-datamart", "succeeded", None),
            run(
                "03",
                "daily-aggregations",
                "cancelled",
                Some("Ballista job x was cancelled"),
            ),
        ];
        let sources = Sources {
            sink: "MySQL gold".into(),
            scheduler: None,
        };
        let html = overview(&sources, &by_job(&runs, 10), &runs);
        assert!(html.contains("data-job=\"accidents-datamart\""), "{html}");
        assert_eq!(html.matches("class=\"chart chart-duration\"").count(), 2);
        assert_eq!(html.matches("class=\"chart chart-quality\"").count(), 2);
        assert!(
            html.contains("<td class=\"error-line\">LIMIT &lt;0&gt;</td>"),
            "{html}"
        );
        assert!(!html.contains("second line"), "{html}");
        assert!(html.contains("href=\"/run/01\""), "{html}");
        assert!(html.contains("id=\"running-jobs\""), "{html}");
        assert!(html.contains("No scheduler given"), "{html}");
    }

    #[test]
    fn a_run_page_lists_its_gold_tables_with_row_counts() {
        let sources = Sources {
            sink: "s".into(),
            scheduler: Some("df://h:1".into()),
        };
        let html = run_page(&sources, &run("01", "j", "succeeded", None));
        assert!(
            html.contains("<td>kpis_weather</td><td class=\"num\">12</td>"),
            "{html}"
        );
        assert!(html.contains("width:100.0%"), "{html}");
        assert!(html.contains("width:33.3%"), "{html}");
    }
}
