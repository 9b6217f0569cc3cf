//! Peak RSS of `bootstrap invoke` for a Create with two destinations (GNU time's `%M`).

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use serde_json::{json, Value};

use crate::report::{clip, Report, Verdict};
use crate::support::harness::{Harness, HOME_REGION};
use crate::support::{cfn_event, uuid};
use crate::worlds::world_kms;
use crate::Opts;

pub(crate) async fn bench_rss(opts: &Opts, h: &Harness, report: &mut Report) -> Result<(), String> {
    let figure = "peak RSS, Create with 2 destinations (`bootstrap invoke`)";
    let time_bin = Path::new("/usr/bin/time");
    if !time_bin.exists() {
        return Err(
            "/usr/bin/time (Debian package `time`) is missing; scripts/bench.sh installs it".into(),
        );
    }
    let n = opts.runs(3);
    let mut peaks = Vec::new();
    for i in 0..n {
        let props = world_kms(h, 2).await;
        let response_id = uuid();
        let event = cfn_event("Create", &h.rx.url(&response_id), props, None, None);
        let event_path = opts.out.join("rss-event.json");
        let time_out = opts.out.join("rss-time.txt");
        std::fs::write(&event_path, event.to_string()).map_err(|e| e.to_string())?;
        let mut cmd = tokio::process::Command::new(time_bin);
        cmd.arg("-f")
            .arg("%M %e")
            .arg("-o")
            .arg(&time_out)
            .arg(&opts.bootstrap)
            .arg("invoke")
            .arg(&event_path)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .envs(h.emu.provider_env(HOME_REGION))
            .stdin(Stdio::null())
            .kill_on_drop(true);
        let out = tokio::time::timeout(Duration::from_secs(120), cmd.output())
            .await
            .map_err(|_| "bootstrap invoke did not finish in 120 s".to_string())?
            .map_err(|e| e.to_string())?;
        let printed: Value = serde_json::from_str(String::from_utf8_lossy(&out.stdout).trim())
            .map_err(|e| {
                format!(
                    "invoke printed no JSON ({e}): {}",
                    String::from_utf8_lossy(&out.stderr)
                )
            })?;
        let puts = h.rx.responses_for(&response_id);
        if !out.status.success()
            || printed["Status"] != "SUCCESS"
            || puts.len() != 1
            || puts[0] != printed
        {
            return Err(format!(
                "run {i}: exit {}, printed {printed}, {} PUT(s); stderr: {}",
                out.status,
                puts.len(),
                clip(&String::from_utf8_lossy(&out.stderr), 300)
            ));
        }
        let text = std::fs::read_to_string(&time_out).map_err(|e| e.to_string())?;
        let line = text.lines().last().unwrap_or_default();
        let kb: f64 = line
            .split_whitespace()
            .next()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("cannot read /usr/bin/time output {text:?}"))?;
        let secs = line.split_whitespace().nth(1).unwrap_or("?");
        println!(
            "  run {}: max RSS {:.1} MB, {secs} s, answer SUCCESS (one PUT)",
            i + 1,
            kb / 1024.0
        );
        peaks.push(kb / 1024.0);
    }
    let peak = peaks.iter().copied().fold(0.0, f64::max);
    report
        .details
        .insert("rss".into(), json!({"runs": n, "max_rss_mb": peaks}));
    report.row(
        figure,
        format!("{peak:.1} MB (max of {n})"),
        "≤ 32 MB",
        Verdict::of(peak <= 32.0),
    );
    Ok(())
}
