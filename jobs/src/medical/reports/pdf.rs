//! A minimal PDF 1.4 writer, dependency-free: pages of text in the standard Helvetica fonts
//! (WinAnsi encoding, no embedding) and vector graphics (lines, polylines, rectangles), with
//! uncompressed content streams so that the text stays searchable and extractable.

use std::fmt::Write;

/// An RGB colour, each component in 0..=1.
pub type Rgb = (f64, f64, f64);

/// A4 portrait width, in points.
pub const PAGE_WIDTH: f64 = 595.0;
/// A4 portrait height, in points.
pub const PAGE_HEIGHT: f64 = 842.0;

/// One page: its content stream, built by the drawing calls (origin bottom-left, points).
#[derive(Debug, Clone, Default)]
pub struct PdfPage {
    content: String,
}

/// `text` as a PDF literal string in WinAnsi encoding: `(`, `)` and `\` escaped, Latin-1 and
/// the common typographic characters as octal escapes, others replaced by an ASCII equivalent
/// or `?`.
pub fn pdf_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('(');
    for c in text.chars() {
        match c {
            '(' | ')' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            ' '..='~' => out.push(c),
            '–' => out.push_str("\\226"),
            '—' => out.push_str("\\227"),
            '…' => out.push_str("\\205"),
            '’' => out.push_str("\\222"),
            '→' => out.push_str("->"),
            '↑' => out.push('^'),
            '↓' => out.push('v'),
            '≥' => out.push_str(">="),
            '≤' => out.push_str("<="),
            'β' => out.push_str("\\337"),
            c if ('\u{a0}'..='\u{ff}').contains(&c) => {
                let _ = write!(out, "\\{:03o}", c as u32);
            }
            _ => out.push('?'),
        }
    }
    out.push(')');
    out
}

fn color(rgb: Rgb) -> String {
    format!("{:.3} {:.3} {:.3}", rgb.0, rgb.1, rgb.2)
}

impl PdfPage {
    /// An empty page.
    pub fn new() -> Self {
        Self::default()
    }

    /// Writes `text` with its baseline starting at (`x`, `y`), `size` points, bold or regular.
    pub fn text(&mut self, x: f64, y: f64, size: f64, bold: bool, rgb: Rgb, text: &str) {
        let font = if bold { "F2" } else { "F1" };
        let _ = writeln!(
            self.content,
            "BT /{font} {size:.1} Tf {} rg {x:.2} {y:.2} Td {} Tj ET",
            color(rgb),
            pdf_string(text)
        );
    }

    /// Strokes the polyline through `points`, `width` points wide, dashed or solid.
    pub fn polyline(&mut self, points: &[(f64, f64)], width: f64, rgb: Rgb, dashed: bool) {
        let Some(((x0, y0), rest)) = points.split_first() else {
            return;
        };
        let dash = if dashed { "[4 3] 0 d" } else { "[] 0 d" };
        let _ = write!(
            self.content,
            "q {} RG {width:.2} w {dash} 1 J 1 j {x0:.2} {y0:.2} m",
            color(rgb)
        );
        for (x, y) in rest {
            let _ = write!(self.content, " {x:.2} {y:.2} l");
        }
        self.content.push_str(" S Q\n");
    }

    /// Fills the rectangle with lower-left corner (`x`, `y`).
    pub fn fill_rect(&mut self, x: f64, y: f64, w: f64, h: f64, rgb: Rgb) {
        let _ = writeln!(
            self.content,
            "q {} rg {x:.2} {y:.2} {w:.2} {h:.2} re f Q",
            color(rgb)
        );
    }

    /// Strokes the outline of the rectangle with lower-left corner (`x`, `y`).
    pub fn stroke_rect(&mut self, x: f64, y: f64, w: f64, h: f64, width: f64, rgb: Rgb) {
        let _ = writeln!(
            self.content,
            "q {} RG {width:.2} w {x:.2} {y:.2} {w:.2} {h:.2} re S Q",
            color(rgb)
        );
    }
}

/// The whole document: `pages` (A4 portrait) with `title` in its information dictionary.
pub fn pdf_document(pages: &[PdfPage], title: &str) -> Vec<u8> {
    // Objects: 1 catalog, 2 page tree, 3 Helvetica, 4 Helvetica-Bold, 5 info, then for each page
    // its page object and its content stream.
    let mut objects: Vec<String> = Vec::with_capacity(5 + 2 * pages.len());
    let kids: Vec<String> = (0..pages.len())
        .map(|i| format!("{} 0 R", 6 + 2 * i))
        .collect();
    objects.push("<< /Type /Catalog /Pages 2 0 R >>".to_string());
    objects.push(format!(
        "<< /Type /Pages /Kids [{}] /Count {} >>",
        kids.join(" "),
        pages.len()
    ));
    for font in ["Helvetica", "Helvetica-Bold"] {
        objects.push(format!(
            "<< /Type /Font /Subtype /Type1 /BaseFont /{font} /Encoding /WinAnsiEncoding >>"
        ));
    }
    objects.push(format!(
        "<< /Title {} /Producer (medallion) >>",
        pdf_string(title)
    ));
    for (i, page) in pages.iter().enumerate() {
        objects.push(format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {PAGE_WIDTH} {PAGE_HEIGHT}] \
             /Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> /Contents {} 0 R >>",
            7 + 2 * i
        ));
        objects.push(format!(
            "<< /Length {} >>\nstream\n{}endstream",
            page.content.len(),
            page.content
        ));
    }
    // The header, then a comment of bytes >= 128 that marks the file as binary for transfer
    // tools; everything else is ASCII, so string lengths are byte offsets.
    let mut offsets = Vec::with_capacity(objects.len());
    let mut body = String::new();
    let header: &[u8] = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n";
    let header_len = header.len();
    for (i, object) in objects.iter().enumerate() {
        offsets.push(header_len + body.len());
        let _ = write!(body, "{} 0 obj\n{object}\nendobj\n", i + 1);
    }
    let xref_at = header_len + body.len();
    let _ = write!(body, "xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1);
    for offset in &offsets {
        let _ = writeln!(body, "{offset:010} 00000 n ");
    }
    let _ = write!(
        body,
        "trailer\n<< /Size {} /Root 1 0 R /Info 5 0 R >>\nstartxref\n{xref_at}\n%%EOF\n",
        objects.len() + 1
    );
    let mut bytes = header.to_vec();
    bytes.extend_from_slice(body.as_bytes());
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped_and_win_ansi() {
        assert_eq!(pdf_string("a(b)c\\"), "(a\\(b\\)c\\\\)");
        assert_eq!(pdf_string("38 °C"), "(38 \\260C)");
        assert_eq!(pdf_string("P1 — W10"), "(P1 \\227 W10)");
        assert_eq!(pdf_string("→ ≥ ☃"), "(-> >= ?)");
    }

    #[test]
    fn the_cross_reference_table_points_at_every_object() {
        let mut page = PdfPage::new();
        page.text(50.0, 800.0, 12.0, true, (0.0, 0.0, 0.0), "Hello (PDF)");
        page.polyline(&[(50.0, 50.0), (100.0, 80.0)], 1.0, (1.0, 0.0, 0.0), true);
        let pdf = pdf_document(&[page.clone(), page], "t");
        assert!(pdf.starts_with(b"%PDF-1.4\n"));
        assert!(pdf.ends_with(b"%%EOF\n"));
        let text = String::from_utf8_lossy(&pdf);
        let xref_at: usize = text
            .rsplit("startxref\n")
            .next()
            .and_then(|t| t.lines().next())
            .and_then(|n| n.parse().ok())
            .unwrap();
        assert!(pdf[xref_at..].starts_with(b"xref\n0 10\n"));
        // each entry's offset is where "<n> 0 obj" starts
        let entries = &text[text.find("xref\n").unwrap()..];
        for (n, line) in entries.lines().skip(3).take(9).enumerate() {
            let offset: usize = line[..10].parse().unwrap();
            let expected = format!("{} 0 obj", n + 1);
            assert!(
                pdf[offset..].starts_with(expected.as_bytes()),
                "object {}",
                n + 1
            );
        }
        assert!(text.contains("(Hello \\(PDF\\)) Tj"));
        assert!(text.contains("/Count 2"));
    }
}
