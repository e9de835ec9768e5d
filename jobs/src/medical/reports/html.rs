//! The HTML of one weekly patient report: a summary table, an inline SVG chart of hourly SpO2 and
//! temperature with the crises shaded, the crises and treatments of the week, and plain-language
//! observations. Self-contained (no script, no external file) and printable to PDF from a browser.

use std::fmt::Write;

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime};

pub use crate::html_text::escape;

/// The weekly figures of one patient-week (a row of `patient_weeks` and the patient's attributes).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WeekSummary {
    /// The patient.
    pub patient_id: String,
    /// Monday of the week.
    pub week_start: NaiveDate,
    /// `2024-W03`.
    pub iso_week: String,
    /// `F`/`M`.
    pub sex: Option<String>,
    /// SS, SC, Sβ0, Sβ+.
    pub genotype: Option<String>,
    /// Year of birth.
    pub birth_year: Option<i64>,
    /// Region.
    pub region: Option<String>,
    /// Days with at least one reading.
    pub days_with_data: i64,
    /// Readings received / 7 × 288.
    pub completeness: f64,
    /// Mean of the daily SpO2 averages.
    pub spo2_avg: Option<f64>,
    /// Lowest valid SpO2.
    pub spo2_min: Option<f64>,
    /// Minutes with SpO2 < 90 %.
    pub minutes_spo2_below_90: i64,
    /// Mean heart rate.
    pub hr_avg: Option<f64>,
    /// Mean temperature.
    pub temp_avg: Option<f64>,
    /// Highest temperature.
    pub temp_max: Option<f64>,
    /// Minutes at 38 °C or more.
    pub minutes_fever: i64,
    /// Mean steps per day.
    pub steps_per_day: Option<f64>,
    /// up/down/stable.
    pub spo2_trend: Option<String>,
    /// up/down/stable.
    pub hr_trend: Option<String>,
    /// up/down/stable.
    pub temp_trend: Option<String>,
    /// up/down/stable.
    pub activity_trend: Option<String>,
    /// Crises overlapping the week.
    pub crisis_count: i64,
    /// Hours in crisis within the week.
    pub crisis_hours: f64,
    /// Drugs taken during the week, comma-separated.
    pub active_treatments: Option<String>,
}

/// One hour of the chart.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HourPoint {
    /// Start of the hour (local time).
    pub hour: NaiveDateTime,
    /// Mean valid SpO2 of the hour.
    pub spo2_avg: Option<f64>,
    /// Mean valid temperature of the hour.
    pub temp_avg: Option<f64>,
}

/// A crisis overlapping the week.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CrisisSpan {
    /// Start (local time).
    pub start: NaiveDateTime,
    /// End, if over.
    pub end: Option<NaiveDateTime>,
    /// 1 mild, 2 moderate, 3 severe.
    pub severity: i64,
    /// Pain 0-10.
    pub pain_score: Option<i64>,
}

impl CrisisSpan {
    /// How both reports show it: start, end (or "ongoing"), severity word, pain ("7/10" or "–").
    pub fn display_cells(&self) -> [String; 4] {
        let when = |t: NaiveDateTime| t.format("%a %d %b %H:%M").to_string();
        let severity = match self.severity {
            1 => "mild",
            2 => "moderate",
            _ => "severe",
        };
        [
            when(self.start),
            self.end.map_or("ongoing".to_string(), when),
            severity.to_string(),
            self.pain_score
                .map_or("–".to_string(), |p| format!("{p}/10")),
        ]
    }
}

pub(super) fn number(value: Option<f64>, decimals: usize, unit: &str) -> String {
    value.map_or_else(|| "–".to_string(), |v| format!("{v:.decimals$}{unit}"))
}

fn trend(value: Option<&str>) -> &'static str {
    match value {
        Some("up") => "↑ rising",
        Some("down") => "↓ falling",
        Some("stable") => "→ stable",
        _ => "–",
    }
}

const CHART_WIDTH: f64 = 760.0;
const CHART_HEIGHT: f64 = 260.0;
const MARGIN_LEFT: f64 = 44.0;
const MARGIN_RIGHT: f64 = 44.0;
const MARGIN_TOP: f64 = 14.0;
const MARGIN_BOTTOM: f64 = 28.0;
const SPO2_RANGE: (f64, f64) = (80.0, 100.0);
const TEMP_RANGE: (f64, f64) = (34.0, 40.0);

/// The inline SVG chart of one week: hourly SpO2 (left axis) and temperature (right axis), the
/// 90 % and 38 °C thresholds dashed, crises shaded; a missing hour breaks the line.
pub fn chart_svg(week_start: NaiveDate, hours: &[HourPoint], crises: &[CrisisSpan]) -> String {
    let plot_w = CHART_WIDTH - MARGIN_LEFT - MARGIN_RIGHT;
    let plot_h = CHART_HEIGHT - MARGIN_TOP - MARGIN_BOTTOM;
    let origin = week_start.and_hms_opt(0, 0, 0).unwrap_or_default();
    let week_hours = 7.0 * 24.0;
    let x_of = |t: NaiveDateTime| {
        let h = (t - origin).num_minutes() as f64 / 60.0;
        MARGIN_LEFT + plot_w * h.clamp(0.0, week_hours) / week_hours
    };
    let y_of = |v: f64, (lo, hi): (f64, f64)| {
        MARGIN_TOP + plot_h * (1.0 - (v.clamp(lo, hi) - lo) / (hi - lo))
    };
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {CHART_WIDTH} {CHART_HEIGHT}" width="{CHART_WIDTH}" height="{CHART_HEIGHT}" role="img" aria-label="Hourly SpO2 and temperature">"#
    );
    let _ = write!(
        svg,
        r##"<rect x="{MARGIN_LEFT}" y="{MARGIN_TOP}" width="{plot_w}" height="{plot_h}" fill="#fafafa" stroke="#ccc"/>"##
    );
    for crisis in crises {
        let end = crisis.end.unwrap_or(origin + Duration::days(7));
        let (x1, x2) = (x_of(crisis.start), x_of(end));
        if x2 > x1 {
            let _ = write!(
                svg,
                r##"<rect x="{x1:.1}" y="{MARGIN_TOP}" width="{:.1}" height="{plot_h}" fill="#f6c48b" fill-opacity="0.45"><title>crisis, severity {}</title></rect>"##,
                x2 - x1,
                crisis.severity
            );
        }
    }
    for day in 0..=7 {
        let x = MARGIN_LEFT + plot_w * f64::from(day) / 7.0;
        let _ = write!(
            svg,
            r##"<line x1="{x:.1}" y1="{MARGIN_TOP}" x2="{x:.1}" y2="{:.1}" stroke="#ddd"/>"##,
            MARGIN_TOP + plot_h
        );
        if day < 7 {
            let date = week_start + Duration::days(i64::from(day));
            let _ = write!(
                svg,
                r##"<text x="{:.1}" y="{:.1}" font-size="11" text-anchor="middle" fill="#555">{} {}</text>"##,
                x + plot_w / 14.0,
                CHART_HEIGHT - 10.0,
                date.format("%a"),
                date.day()
            );
        }
    }
    for (value, range, color, label, anchor, x) in [
        (
            90.0,
            SPO2_RANGE,
            "#1f5fbf",
            "90 %",
            "end",
            MARGIN_LEFT - 4.0,
        ),
        (
            38.0,
            TEMP_RANGE,
            "#c0392b",
            "38 °C",
            "start",
            CHART_WIDTH - MARGIN_RIGHT + 4.0,
        ),
    ] {
        let y = y_of(value, range);
        let _ = write!(
            svg,
            r#"<line x1="{MARGIN_LEFT}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="{color}" stroke-dasharray="4 3" stroke-opacity="0.7"/><text x="{x:.1}" y="{:.1}" font-size="10" text-anchor="{anchor}" fill="{color}">{label}</text>"#,
            MARGIN_LEFT + plot_w,
            y + 3.0
        );
    }
    // Axis ends: 100 % / 80 % on the left, 40 °C / 34 °C on the right.
    for (value, range, color, label, anchor, x) in [
        (
            SPO2_RANGE.1,
            SPO2_RANGE,
            "#1f5fbf",
            "100 %",
            "end",
            MARGIN_LEFT - 4.0,
        ),
        (
            SPO2_RANGE.0,
            SPO2_RANGE,
            "#1f5fbf",
            "80 %",
            "end",
            MARGIN_LEFT - 4.0,
        ),
        (
            TEMP_RANGE.1,
            TEMP_RANGE,
            "#c0392b",
            "40 °C",
            "start",
            CHART_WIDTH - MARGIN_RIGHT + 4.0,
        ),
        (
            TEMP_RANGE.0,
            TEMP_RANGE,
            "#c0392b",
            "34 °C",
            "start",
            CHART_WIDTH - MARGIN_RIGHT + 4.0,
        ),
    ] {
        let _ = write!(
            svg,
            r#"<text x="{x:.1}" y="{:.1}" font-size="10" text-anchor="{anchor}" fill="{color}">{label}</text>"#,
            y_of(value, range) + 3.0
        );
    }
    for (range, color, values) in [
        (
            SPO2_RANGE,
            "#1f5fbf",
            hours
                .iter()
                .map(|h| (h.hour, h.spo2_avg))
                .collect::<Vec<_>>(),
        ),
        (
            TEMP_RANGE,
            "#c0392b",
            hours
                .iter()
                .map(|h| (h.hour, h.temp_avg))
                .collect::<Vec<_>>(),
        ),
    ] {
        for segment in segments(&values) {
            let points = segment
                .iter()
                .map(|(t, v)| format!("{:.1},{:.1}", x_of(*t), y_of(*v, range)))
                .collect::<Vec<_>>()
                .join(" ");
            let _ = write!(
                svg,
                r#"<polyline points="{points}" fill="none" stroke="{color}" stroke-width="1.5"/>"#
            );
        }
    }
    let _ = write!(
        svg,
        r##"<text x="4" y="{:.1}" font-size="10" fill="#1f5fbf">SpO2</text><text x="{:.1}" y="{:.1}" font-size="10" fill="#c0392b">temp.</text></svg>"##,
        CHART_HEIGHT - 10.0,
        CHART_WIDTH - 30.0,
        CHART_HEIGHT - 10.0
    );
    svg
}

/// Runs of consecutive hours with a value: a missing hour (or a NULL) ends a run.
pub(super) fn segments(values: &[(NaiveDateTime, Option<f64>)]) -> Vec<Vec<(NaiveDateTime, f64)>> {
    let mut out: Vec<Vec<(NaiveDateTime, f64)>> = Vec::new();
    let mut current: Vec<(NaiveDateTime, f64)> = Vec::new();
    for (t, v) in values {
        let contiguous = current
            .last()
            .is_some_and(|(last, _)| *t - *last <= Duration::hours(1));
        match v {
            Some(v) if contiguous || current.is_empty() => current.push((*t, *v)),
            Some(v) => {
                out.push(std::mem::take(&mut current));
                current.push((*t, *v));
            }
            None => {
                if !current.is_empty() {
                    out.push(std::mem::take(&mut current));
                }
            }
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// Plain-language observations about the week, for the clinician reading the report.
pub fn observations(week: &WeekSummary) -> Vec<String> {
    let mut notes = Vec::new();
    if week.minutes_spo2_below_90 > 0 {
        notes.push(format!(
            "SpO2 was below 90 % for {} minutes this week.",
            week.minutes_spo2_below_90
        ));
    }
    if week.minutes_fever > 0 {
        notes.push(format!(
            "Temperature reached 38 °C or more for {} minutes (highest {}).",
            week.minutes_fever,
            number(week.temp_max, 1, " °C")
        ));
    }
    if week.crisis_count > 0 {
        notes.push(format!(
            "{} crisis episode(s) overlapped the week, {:.0} hours in total.",
            week.crisis_count, week.crisis_hours
        ));
    }
    if week.spo2_trend.as_deref() == Some("down") {
        notes.push("Daily SpO2 averages fell over the week.".to_string());
    }
    if week.temp_trend.as_deref() == Some("up") {
        notes.push("Daily temperature averages rose over the week.".to_string());
    }
    if week.completeness < 0.7 {
        notes.push(format!(
            "Only {:.0} % of the expected readings were received: check that the device is worn and charged.",
            100.0 * week.completeness
        ));
    }
    if notes.is_empty() {
        notes.push("No desaturation, fever or crisis was recorded this week.".to_string());
    }
    notes
}

/// The whole report page.
pub fn report_html(week: &WeekSummary, hours: &[HourPoint], crises: &[CrisisSpan]) -> String {
    let end = week.week_start + Duration::days(6);
    let mut html = String::new();
    let title = format!(
        "Weekly report {} — {}",
        escape(&week.patient_id),
        escape(&week.iso_week)
    );
    let _ = write!(
        html,
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em; color: #222; max-width: 820px; }}
h1 {{ font-size: 1.4em; margin-bottom: 0.2em; }}
.sub {{ color: #666; margin-top: 0; }}
table {{ border-collapse: collapse; margin: 0.8em 0; }}
td, th {{ border: 1px solid #ddd; padding: 4px 10px; text-align: left; }}
th {{ background: #f3f3f3; }}
@media print {{ body {{ margin: 0; }} }}
</style></head><body>
<h1>{title}</h1>
<p class="sub">{} to {} · sex {} · genotype {} · born {} · {}</p>
"#,
        week.week_start.format("%a %d %b %Y"),
        end.format("%a %d %b %Y"),
        escape(week.sex.as_deref().unwrap_or("–")),
        escape(week.genotype.as_deref().unwrap_or("–")),
        week.birth_year.map_or("–".to_string(), |y| y.to_string()),
        escape(week.region.as_deref().unwrap_or("–")),
    );
    html.push_str("<h2>Observations</h2><ul>");
    for note in observations(week) {
        let _ = write!(html, "<li>{}</li>", escape(&note));
    }
    html.push_str("</ul><h2>SpO2 and temperature (hourly means)</h2>");
    html.push_str(&chart_svg(week.week_start, hours, crises));
    let _ = write!(
        html,
        r#"<h2>Summary</h2><table>
<tr><th></th><th>Week</th><th>Trend of daily means</th></tr>
<tr><td>SpO2 mean / lowest</td><td>{} / {}</td><td>{}</td></tr>
<tr><td>Minutes SpO2 &lt; 90 %</td><td>{}</td><td></td></tr>
<tr><td>Heart rate mean</td><td>{}</td><td>{}</td></tr>
<tr><td>Temperature mean / highest</td><td>{} / {}</td><td>{}</td></tr>
<tr><td>Minutes ≥ 38 °C</td><td>{}</td><td></td></tr>
<tr><td>Steps per day</td><td>{}</td><td>{}</td></tr>
<tr><td>Days with data / completeness</td><td>{} / {:.0} %</td><td></td></tr>
</table>
"#,
        number(week.spo2_avg, 1, " %"),
        number(week.spo2_min, 0, " %"),
        trend(week.spo2_trend.as_deref()),
        week.minutes_spo2_below_90,
        number(week.hr_avg, 0, " bpm"),
        trend(week.hr_trend.as_deref()),
        number(week.temp_avg, 1, " °C"),
        number(week.temp_max, 1, " °C"),
        trend(week.temp_trend.as_deref()),
        week.minutes_fever,
        number(week.steps_per_day, 0, ""),
        trend(week.activity_trend.as_deref()),
        week.days_with_data,
        100.0 * week.completeness,
    );
    html.push_str("<h2>Crises</h2>");
    if crises.is_empty() {
        html.push_str("<p>None.</p>");
    } else {
        html.push_str("<table><tr><th>Start</th><th>End</th><th>Severity</th><th>Pain</th></tr>");
        for c in crises {
            let [start, end, severity, pain] = c.display_cells();
            let _ = write!(
                html,
                "<tr><td>{start}</td><td>{end}</td><td>{severity}</td><td>{pain}</td></tr>"
            );
        }
        html.push_str("</table>");
    }
    let _ = write!(
        html,
        "<h2>Treatments during the week</h2><p>{}</p>\n</body></html>\n",
        escape(
            week.active_treatments
                .as_deref()
                .unwrap_or("None recorded.")
        )
    );
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").unwrap()
    }

    #[test]
    fn missing_hours_break_the_line() {
        let values = vec![
            (at("2024-01-01 00:00"), Some(95.0)),
            (at("2024-01-01 01:00"), Some(94.0)),
            (at("2024-01-01 04:00"), Some(93.0)),
            (at("2024-01-01 05:00"), None),
            (at("2024-01-01 06:00"), Some(92.0)),
        ];
        let runs = segments(&values);
        assert_eq!(runs.len(), 3);
        assert_eq!(runs[0].len(), 2);
    }

    #[test]
    fn the_page_escapes_and_shows_the_week() {
        let week = WeekSummary {
            patient_id: "P<1>".into(),
            week_start: NaiveDate::from_ymd_opt(2024, 1, 15).unwrap(),
            iso_week: "2024-W03".into(),
            minutes_spo2_below_90: 25,
            completeness: 0.5,
            spo2_trend: Some("down".into()),
            ..WeekSummary::default()
        };
        let crisis = CrisisSpan {
            start: at("2024-01-16 10:00"),
            end: None,
            severity: 2,
            pain_score: Some(6),
        };
        let hours = [HourPoint {
            hour: at("2024-01-15 00:00"),
            spo2_avg: Some(95.0),
            temp_avg: Some(36.8),
        }];
        let html = report_html(&week, &hours, &[crisis]);
        assert!(html.contains("P&lt;1&gt;"));
        assert!(!html.contains("P<1>"));
        assert!(html.contains("2024-W03"));
        assert!(html.contains("<svg"));
        assert!(html.contains("below 90 % for 25 minutes"));
        assert!(html.contains("ongoing"));
        assert!(html.contains("Only 50 %"));
    }
}
