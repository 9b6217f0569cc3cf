//! Findings as text (one line per link) or JSON (`--json`).

use super::links::{Finding, Status};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
}

pub fn render(findings: &[Finding], format: Format) -> String {
    match format {
        Format::Text => render_text(findings),
        Format::Json => render_json(findings),
    }
}

/// One line per link: `STATUS link account region resource: detail`, followed (indented) by
/// the advisory and the fix when there is one.
pub fn render_text(findings: &[Finding]) -> String {
    let width = findings.iter().map(|f| f.link.len()).max().unwrap_or(0);
    let mut out = String::new();
    for f in findings {
        let status = match f.status {
            Status::Pass => "PASS",
            Status::Fail => "FAIL",
            Status::CannotDecide => "????",
        };
        out.push_str(&format!(
            "{status} {:<width$} {} {} {}: {}\n",
            f.link, f.account, f.region, f.resource, f.detail
        ));
        if let Some(a) = &f.advisory {
            out.push_str(&format!("     advisory: {a}\n"));
        }
        if let Some(fix) = &f.fix {
            out.push_str(&format!("     fix: {fix}\n"));
        }
    }
    let count = |s: Status| findings.iter().filter(|f| f.status == s).count();
    out.push_str(&format!(
        "{} pass, {} fail, {} cannot decide\n",
        count(Status::Pass),
        count(Status::Fail),
        count(Status::CannotDecide)
    ));
    out
}

/// The findings as a pretty-printed JSON array.
pub fn render_json(findings: &[Finding]) -> String {
    serde_json::to_string_pretty(findings).expect("findings are plain data")
}
