//! HTML text helpers of `medallion ui`: escaping, and the page frame with its inline style (no
//! stylesheet, font or script is fetched from anywhere: the page works without internet).

pub use crate::html_text::escape;

/// `segment` percent-encoded for a URL path segment (a run id in a link).
pub fn path_segment(segment: &str) -> String {
    percent_encoding::utf8_percent_encode(segment, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// The page's style sheet.
const STYLE: &str = "
body{font:14px/1.4 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:0;color:#1f2933;background:#f5f7fa}
header{background:#1f2933;color:#fff;padding:12px 24px;display:flex;gap:24px;align-items:baseline}
header h1{font-size:18px;margin:0}header span{color:#9aa5b1;font-size:12px}
header a{color:#fff;text-decoration:none}
main{padding:16px 24px;max-width:1200px}
section{background:#fff;border:1px solid #e4e7eb;border-radius:6px;padding:12px 16px;margin-bottom:16px}
h2{font-size:15px;margin:0 0 8px}h3{font-size:14px;margin:0}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #eef0f2;vertical-align:middle;white-space:nowrap}
td.error-line{white-space:normal}
th{font-size:12px;color:#616e7c;font-weight:600}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.status{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600}
.status.succeeded,.status.Completed{background:#e3f9e5;color:#1f7a33}.status.failed,.status.Failed{background:#ffe3e3;color:#b42318}
.status.cancelled{background:#fff3c4;color:#8d6708}.status.Running,.status.Queued{background:#e0efff;color:#1d4ed8}
.jobs{display:grid;grid-template-columns:repeat(auto-fit,minmax(560px,1fr));gap:16px}
.job{border:1px solid #e4e7eb;border-radius:6px;padding:10px 12px;background:#fff}
.job-head{display:flex;justify-content:space-between;align-items:center;margin-bottom:6px}
.charts{display:flex;gap:16px;flex-wrap:wrap}.charts figure{margin:0}.charts figcaption{font-size:11px;color:#616e7c}
.chart .line{stroke:#7b93db;stroke-width:1.5}.chart .dot.succeeded{fill:#2f9e44}.chart .dot.failed{fill:#e03131}
.chart .dot.cancelled{fill:#f08c00}.chart .empty{fill:#9aa5b1;font-size:11px}
.runs a{color:#1d4ed8;text-decoration:none}.error-line{font-family:ui-monospace,monospace;font-size:12px;color:#b42318}
.bar{background:#e4e7eb;border-radius:3px;height:10px;min-width:120px;overflow:hidden}.bar>div{background:#4c6ef5;height:100%}
.muted{color:#9aa5b1}
dl{display:grid;grid-template-columns:max-content 1fr;gap:4px 16px;margin:0}dt{color:#616e7c}dd{margin:0}
";

/// A whole page: `title`, the header line `subtitle`, `body`, and `script` (inline) at the end.
pub fn page(title: &str, subtitle: &str, body: &str, script: &str) -> String {
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><style>{STYLE}</style></head><body>\
         <header><h1><a href=\"/\">medallion</a> · {title}</h1><span>{subtitle}</span></header>\
         <main>{body}</main>{script}</body></html>",
        title = escape(title),
        subtitle = escape(subtitle),
    )
}

/// A status badge.
pub fn status_badge(status: &str) -> String {
    format!("<span class=\"status {0}\">{0}</span>", escape(status))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_attributes_are_escaped() {
        assert_eq!(
            escape("<a href=\"x\">O'Neil & co</a>"),
            "&lt;a href=&quot;x&quot;&gt;O&#39;Neil &amp; co&lt;/a&gt;"
        );
        assert_eq!(path_segment("20261206T1Z-3f/9"), "20261206T1Z%2D3f%2F9");
        let html = page("jobs", "sink <x>", "<p>hi</p>", "");
        assert!(html.contains("<span>sink &lt;x&gt;</span>"), "{html}");
        assert!(
            !html.contains("http://") && !html.contains("https://"),
            "no external resource"
        );
    }
}
