//! The PDF of one weekly patient report (one A4 page, more when the crises do not fit): the same
//! content as the HTML page — header, observations, a vector chart of hourly SpO2 and temperature
//! with the thresholds dashed and the crises shaded, the summary, crises and treatments.

use chrono::{Datelike, Duration, NaiveDateTime};

use super::html::{CrisisSpan, HourPoint, WeekSummary, number, observations, segments};
use super::pdf::{PAGE_HEIGHT, PAGE_WIDTH, PdfPage, Rgb, pdf_document};

const BLACK: Rgb = (0.13, 0.13, 0.13);
const GREY: Rgb = (0.4, 0.4, 0.4);
const GRID: Rgb = (0.87, 0.87, 0.87);
const BLUE: Rgb = (0.12, 0.37, 0.75);
const RED: Rgb = (0.75, 0.22, 0.17);
const CRISIS: Rgb = (0.98, 0.87, 0.74);
const LEFT: f64 = 50.0;
const RIGHT: f64 = PAGE_WIDTH - 50.0;
const BOTTOM: f64 = 50.0;
/// Characters per line of wrapped 10-point text.
const WRAP: usize = 95;
const SPO2_RANGE: (f64, f64) = (80.0, 100.0);
const TEMP_RANGE: (f64, f64) = (34.0, 40.0);

fn trend(value: Option<&str>) -> &'static str {
    match value {
        Some("up") => "rising",
        Some("down") => "falling",
        Some("stable") => "stable",
        _ => "–",
    }
}

/// Splits `text` into lines of at most `width` characters at spaces.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// Writes lines top-down, starting a new page when one is full.
struct Flow {
    pages: Vec<PdfPage>,
    page: PdfPage,
    y: f64,
}

impl Flow {
    fn new() -> Self {
        Self {
            pages: Vec::new(),
            page: PdfPage::new(),
            y: PAGE_HEIGHT - 60.0,
        }
    }

    /// Room for `height` points, on a new page if needed.
    fn need(&mut self, height: f64) {
        if self.y - height < BOTTOM {
            self.pages.push(std::mem::take(&mut self.page));
            self.y = PAGE_HEIGHT - 60.0;
        }
    }

    fn line(&mut self, size: f64, bold: bool, rgb: Rgb, text: &str) {
        self.need(size + 4.0);
        self.page.text(LEFT, self.y, size, bold, rgb, text);
        self.y -= size + 4.0;
    }

    fn heading(&mut self, text: &str) {
        self.y -= 6.0;
        self.line(12.0, true, BLACK, text);
    }

    fn paragraph(&mut self, text: &str) {
        for line in wrap(text, WRAP) {
            self.line(10.0, false, BLACK, &line);
        }
    }

    /// A row of columns at the given x offsets from the left margin.
    fn row(&mut self, bold: bool, cells: &[(f64, String)]) {
        self.need(14.0);
        for (dx, text) in cells {
            self.page.text(LEFT + dx, self.y, 10.0, bold, BLACK, text);
        }
        self.y -= 14.0;
    }

    fn finish(mut self) -> Vec<PdfPage> {
        self.pages.push(self.page);
        self.pages
    }
}

/// Draws the week's chart into a box of `height` points whose top is at `top`.
fn chart(
    page: &mut PdfPage,
    top: f64,
    height: f64,
    week: &WeekSummary,
    hours: &[HourPoint],
    crises: &[CrisisSpan],
) {
    let (x0, x1) = (LEFT + 30.0, RIGHT - 34.0);
    let (y0, y1) = (top - height + 16.0, top);
    let origin = week.week_start.and_hms_opt(0, 0, 0).unwrap_or_default();
    let week_minutes = 7.0 * 24.0 * 60.0;
    let x_of = |t: NaiveDateTime| {
        let m = (t - origin).num_minutes() as f64;
        x0 + (x1 - x0) * m.clamp(0.0, week_minutes) / week_minutes
    };
    let y_of = |v: f64, (lo, hi): (f64, f64)| y0 + (y1 - y0) * (v.clamp(lo, hi) - lo) / (hi - lo);
    for crisis in crises {
        let end = crisis.end.unwrap_or(origin + Duration::days(7));
        let (a, b) = (x_of(crisis.start), x_of(end));
        if b > a {
            page.fill_rect(a, y0, b - a, y1 - y0, CRISIS);
        }
    }
    for day in 0..=7 {
        let x = x0 + (x1 - x0) * f64::from(day) / 7.0;
        page.polyline(&[(x, y0), (x, y1)], 0.5, GRID, false);
        if day < 7 {
            let date = week.week_start + Duration::days(i64::from(day));
            let label = format!("{} {}", date.format("%a"), date.day());
            page.text(x + 20.0, y0 - 11.0, 8.0, false, GREY, &label);
        }
    }
    page.stroke_rect(x0, y0, x1 - x0, y1 - y0, 0.6, GREY);
    for (value, range, rgb) in [(90.0, SPO2_RANGE, BLUE), (38.0, TEMP_RANGE, RED)] {
        let y = y_of(value, range);
        page.polyline(&[(x0, y), (x1, y)], 0.6, rgb, true);
    }
    for (value, label) in [(100.0, "100 %"), (90.0, "90 %"), (80.0, "80 %")] {
        page.text(LEFT, y_of(value, SPO2_RANGE) - 3.0, 8.0, false, BLUE, label);
    }
    for (value, label) in [(40.0, "40 °C"), (38.0, "38 °C"), (34.0, "34 °C")] {
        page.text(
            x1 + 4.0,
            y_of(value, TEMP_RANGE) - 3.0,
            8.0,
            false,
            RED,
            label,
        );
    }
    let series = [
        (
            SPO2_RANGE,
            BLUE,
            hours
                .iter()
                .map(|h| (h.hour, h.spo2_avg))
                .collect::<Vec<_>>(),
        ),
        (
            TEMP_RANGE,
            RED,
            hours
                .iter()
                .map(|h| (h.hour, h.temp_avg))
                .collect::<Vec<_>>(),
        ),
    ];
    for (range, rgb, values) in series {
        for segment in segments(&values) {
            let points: Vec<(f64, f64)> = segment
                .iter()
                .map(|(t, v)| (x_of(*t), y_of(*v, range)))
                .collect();
            if points.len() == 1 {
                let (x, y) = points[0];
                page.polyline(&[(x - 1.0, y), (x + 1.0, y)], 1.2, rgb, false);
            } else {
                page.polyline(&points, 1.2, rgb, false);
            }
        }
    }
}

/// The PDF report of one patient-week.
pub fn report_pdf(week: &WeekSummary, hours: &[HourPoint], crises: &[CrisisSpan]) -> Vec<u8> {
    let title = format!("Weekly report {} — {}", week.patient_id, week.iso_week);
    let end = week.week_start + Duration::days(6);
    let mut flow = Flow::new();
    flow.line(16.0, true, BLACK, &title);
    flow.line(
        10.0,
        false,
        GREY,
        &format!(
            "{} to {} · sex {} · genotype {} · born {} · {}",
            week.week_start.format("%a %d %b %Y"),
            end.format("%a %d %b %Y"),
            week.sex.as_deref().unwrap_or("–"),
            week.genotype.as_deref().unwrap_or("–"),
            week.birth_year.map_or("–".to_string(), |y| y.to_string()),
            week.region.as_deref().unwrap_or("–"),
        ),
    );
    flow.heading("Observations");
    for note in observations(week) {
        flow.paragraph(&format!("- {note}"));
    }
    flow.heading("SpO2 (blue) and temperature (red), hourly means; crises shaded");
    let chart_height = 190.0;
    flow.need(chart_height);
    chart(&mut flow.page, flow.y, chart_height, week, hours, crises);
    flow.y -= chart_height + 8.0;
    flow.heading("Summary");
    let rows = [
        (
            "SpO2 mean / lowest",
            format!(
                "{} / {}",
                number(week.spo2_avg, 1, " %"),
                number(week.spo2_min, 0, " %")
            ),
            trend(week.spo2_trend.as_deref()),
        ),
        (
            "Minutes SpO2 < 90 %",
            week.minutes_spo2_below_90.to_string(),
            "",
        ),
        (
            "Heart rate mean",
            number(week.hr_avg, 0, " bpm"),
            trend(week.hr_trend.as_deref()),
        ),
        (
            "Temperature mean / highest",
            format!(
                "{} / {}",
                number(week.temp_avg, 1, " °C"),
                number(week.temp_max, 1, " °C")
            ),
            trend(week.temp_trend.as_deref()),
        ),
        ("Minutes >= 38 °C", week.minutes_fever.to_string(), ""),
        (
            "Steps per day",
            number(week.steps_per_day, 0, ""),
            trend(week.activity_trend.as_deref()),
        ),
        (
            "Days with data / completeness",
            format!(
                "{} / {:.0} %",
                week.days_with_data,
                100.0 * week.completeness
            ),
            "",
        ),
    ];
    flow.row(
        true,
        &[
            (0.0, String::new()),
            (200.0, "Week".into()),
            (340.0, "Trend of daily means".into()),
        ],
    );
    for (label, value, trend) in rows {
        flow.row(
            false,
            &[
                (0.0, label.to_string()),
                (200.0, value),
                (340.0, trend.to_string()),
            ],
        );
    }
    flow.heading("Crises");
    if crises.is_empty() {
        flow.paragraph("None.");
    }
    for c in crises {
        let [start, end, severity, pain] = c.display_cells();
        flow.paragraph(&format!("{start} to {end} · {severity} · pain {pain}"));
    }
    flow.heading("Treatments during the week");
    flow.paragraph(
        week.active_treatments
            .as_deref()
            .unwrap_or("None recorded."),
    );
    pdf_document(&flow.finish(), &title)
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;

    #[test]
    fn lines_wrap_at_spaces() {
        assert_eq!(wrap("aa bb cc", 5), ["aa bb", "cc"]);
        assert_eq!(wrap("", 5), Vec::<String>::new());
    }

    #[test]
    fn the_pdf_holds_the_patient_the_week_and_the_chart() {
        let week = WeekSummary {
            patient_id: "P(7)".into(),
            week_start: NaiveDate::from_ymd_opt(2024, 3, 4).unwrap(),
            iso_week: "2024-W10".into(),
            minutes_spo2_below_90: 25,
            completeness: 0.5,
            ..WeekSummary::default()
        };
        let at = |h: u32| {
            NaiveDate::from_ymd_opt(2024, 3, 4)
                .unwrap()
                .and_hms_opt(h, 0, 0)
                .unwrap()
        };
        let hours: Vec<HourPoint> = (0..3)
            .map(|h| HourPoint {
                hour: at(h),
                spo2_avg: Some(95.0),
                temp_avg: Some(36.8),
            })
            .collect();
        let crisis = CrisisSpan {
            start: at(1),
            end: Some(at(2)),
            severity: 3,
            pain_score: Some(8),
        };
        let pdf = report_pdf(&week, &hours, &[crisis]);
        let text = String::from_utf8_lossy(&pdf);
        assert!(pdf.starts_with(b"%PDF-1.4"));
        assert!(
            text.contains("(Weekly report P\\(7\\) \\227 2024-W10) Tj"),
            "{text}"
        );
        assert!(text.contains("below 90 % for 25 minutes"));
        assert!(text.contains("severe"));
        // the SpO2 and temperature lines, and the shaded crisis
        assert!(text.contains(" l S Q"));
        assert!(text.contains(" re f Q"));
        assert!(text.contains("/Count 1"));
    }
}
