//! Text helpers for findings' details: loose comparison, lint suffixes, order-keeping dedup.

/// Lower-case letters and digits only: `s3>ListBucket` and `s3:ListBucket` compare equal.
pub(super) fn loose(s: &str) -> String {
    s.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

pub(super) fn with_lints(detail: String, lints: Vec<String>) -> String {
    let lints = dedup(lints);
    if lints.is_empty() {
        detail
    } else {
        format!("{detail}. Also: {}", lints.join("; "))
    }
}

pub(super) fn dedup(items: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for i in items {
        if !out.contains(&i) {
            out.push(i);
        }
    }
    out
}

pub(super) fn dedup_str(items: Vec<&str>) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    for i in items {
        if !out.contains(&i) {
            out.push(i);
        }
    }
    out
}
