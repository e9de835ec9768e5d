//! Small inline SVG charts of a job's runs over time (no script, no external file): a line through
//! one value per run, oldest on the left, each run a dot coloured by its status with a tooltip.

use std::fmt::Write;

use super::html::escape;

/// Width and height of a chart, in pixels.
const WIDTH: f64 = 240.0;
const HEIGHT: f64 = 48.0;
/// Room left around the line for the dots.
const PAD: f64 = 5.0;

/// One run's point of a chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    /// The value (`None`: the run has none, e.g. no quality score; no dot is drawn).
    pub value: Option<f64>,
    /// The run's status, the dot's CSS class (`succeeded`, `failed`, `cancelled`).
    pub status: String,
    /// The dot's tooltip.
    pub label: String,
}

/// An SVG sparkline of `points` (oldest first) with CSS class `chart chart-{kind}`, its
/// accessible name `title`; the y axis spans the values' range, shown as the chart's min and max.
pub fn sparkline(kind: &str, title: &str, points: &[Point]) -> String {
    let values: Vec<f64> = points.iter().filter_map(|p| p.value).collect();
    let mut svg = format!(
        "<svg class=\"chart chart-{kind}\" role=\"img\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" \
         width=\"{WIDTH}\" height=\"{HEIGHT}\" data-points=\"{}\"><title>{}</title>",
        values.len(),
        escape(title)
    );
    if values.is_empty() {
        svg.push_str("<text x=\"4\" y=\"28\" class=\"empty\">no data</text></svg>");
        return svg;
    }
    let min = values.iter().copied().fold(f64::INFINITY, f64::min);
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let step = if points.len() > 1 {
        (WIDTH - 2.0 * PAD) / (points.len() - 1) as f64
    } else {
        0.0
    };
    let y = |v: f64| {
        if max > min {
            HEIGHT - PAD - (v - min) / (max - min) * (HEIGHT - 2.0 * PAD)
        } else {
            HEIGHT / 2.0
        }
    };
    let placed: Vec<(f64, f64, &Point)> = points
        .iter()
        .enumerate()
        .filter_map(|(i, p)| {
            let x = if points.len() > 1 {
                PAD + i as f64 * step
            } else {
                WIDTH / 2.0
            };
            p.value.map(|v| (x, y(v), p))
        })
        .collect();
    let line: Vec<String> = placed
        .iter()
        .map(|(x, y, _)| format!("{x:.1},{y:.1}"))
        .collect();
    let _ = write!(
        svg,
        "<polyline class=\"line\" fill=\"none\" points=\"{}\"/>",
        line.join(" ")
    );
    for (x, y, p) in &placed {
        let _ = write!(
            svg,
            "<circle class=\"dot {}\" cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"3\"><title>{}</title></circle>",
            escape(&p.status),
            escape(&p.label)
        );
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(value: Option<f64>, status: &str) -> Point {
        Point {
            value,
            status: status.into(),
            label: format!("{value:?}"),
        }
    }

    #[test]
    fn the_line_spans_the_chart_and_each_run_is_a_dot() {
        let svg = sparkline(
            "duration",
            "Duration <s>",
            &[
                point(Some(2.0), "succeeded"),
                point(None, "failed"),
                point(Some(4.0), "succeeded"),
            ],
        );
        assert!(
            svg.starts_with("<svg class=\"chart chart-duration\""),
            "{svg}"
        );
        assert!(svg.contains("<title>Duration &lt;s&gt;</title>"), "{svg}");
        // oldest at the left (x = PAD), lowest value at the bottom (y = HEIGHT - PAD); the run
        // without a value keeps its place (x = 120) but has no dot
        assert!(svg.contains("points=\"5.0,43.0 235.0,5.0\""), "{svg}");
        assert_eq!(svg.matches("<circle").count(), 2, "{svg}");
        assert!(svg.contains("data-points=\"2\""), "{svg}");
    }

    #[test]
    fn equal_values_sit_in_the_middle_and_no_value_says_so() {
        let svg = sparkline("quality", "q", &[point(Some(5.0), "failed")]);
        assert!(svg.contains("cx=\"120.0\" cy=\"24.0\""), "{svg}");
        assert!(svg.contains("class=\"dot failed\""), "{svg}");
        let svg = sparkline("quality", "q", &[point(None, "failed")]);
        assert!(svg.contains("no data"), "{svg}");
    }
}
