//! The report: one row per figure (measured, target, verdict), the answers that were wrong, the
//! details for perf.json, and the table printed at the end.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::Opts;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Verdict {
    Pass,
    Fail,
    Error,
}

impl Verdict {
    pub(crate) fn of(ok: bool) -> Self {
        if ok {
            Verdict::Pass
        } else {
            Verdict::Fail
        }
    }
    pub(crate) fn word(self) -> &'static str {
        match self {
            Verdict::Pass => "PASS",
            Verdict::Fail => "FAIL",
            Verdict::Error => "ERROR",
        }
    }
}

pub(crate) struct Row {
    pub(crate) figure: String,
    pub(crate) measured: String,
    pub(crate) target: String,
    pub(crate) verdict: Verdict,
}

#[derive(Default)]
pub(crate) struct Report {
    pub(crate) rows: Vec<Row>,
    /// Answers that were wrong (not delivered, not exactly one PUT, wrong status) or runs that
    /// could not complete.
    pub(crate) incorrect: Vec<String>,
    pub(crate) details: BTreeMap<String, Value>,
}

impl Report {
    pub(crate) fn row(&mut self, figure: &str, measured: String, target: &str, verdict: Verdict) {
        self.rows.push(Row {
            figure: figure.to_owned(),
            measured,
            target: target.to_owned(),
            verdict,
        });
    }
    pub(crate) fn error(&mut self, figure: &str, target: &str, why: String) {
        println!("  ERROR: {why}");
        self.incorrect.push(format!("{figure}: {why}"));
        self.row(
            figure,
            format!("error: {}", clip(&why, 90)),
            target,
            Verdict::Error,
        );
    }
}

pub(crate) fn clip(s: &str, n: usize) -> String {
    let one_line = s.replace('\n', " ");
    if one_line.chars().count() <= n {
        one_line
    } else {
        format!("{}…", one_line.chars().take(n).collect::<String>())
    }
}

pub(crate) fn panic_text(p: Box<dyn std::any::Any + Send>) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic".to_owned())
}

impl Report {
    pub(crate) fn absorb(&mut self, part: Report) {
        self.rows.extend(part.rows);
        self.incorrect.extend(part.incorrect);
        self.details.extend(part.details);
    }
}

pub(crate) fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

pub(crate) fn revision() -> String {
    std::process::Command::new("git")
        .args([
            "-C",
            env!("CARGO_MANIFEST_DIR"),
            "describe",
            "--always",
            "--dirty",
        ])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_else(|| "?".into())
}

pub(crate) fn print_table(report: &Report, opts: &Opts, load_before: &str) {
    println!();
    println!(
        "# Performance ({} mode; revision {}; {} CPUs, load average {load_before} before, {} after)",
        if opts.smoke { "smoke" } else { "full" },
        revision(),
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        load_average()
    );
    println!("bootstrap: {}", opts.bootstrap_origin);
    if cfg!(debug_assertions) {
        println!("in-process figures (Create latency, propagation): an unoptimised build of the harness (BENCH_PROFILE=dev); only the answers are meaningful");
    }
    println!();
    println!("| figure | measured | target | result |");
    println!("|---|---|---|---|");
    for r in &report.rows {
        println!(
            "| {} | {} | {} | {} |",
            r.figure,
            r.measured,
            r.target,
            r.verdict.word()
        );
    }
    let correct = if report.incorrect.is_empty() {
        "every answer checked: delivered once, expected status".to_owned()
    } else {
        format!("INCORRECT RUNS: {}", report.incorrect.join("; "))
    };
    println!("\n{correct}");
}
