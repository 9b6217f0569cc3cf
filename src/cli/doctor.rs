//! `doctor`: every link of the replication permission chain, from the live state or a snapshot.

use std::process::ExitCode;

use serde_json::Value;

use super::{cli_region, connector, fail, DoctorArgs};
use crate::doctor::live::{self, Target};
use crate::doctor::{self, Format, Status};
use crate::spec::RoleArn;

/// 0 when every link passes, 1 when one fails, 3 when none fails but some cannot be decided.
pub async fn run(args: &DoctorArgs) -> ExitCode {
    let format = if args.json {
        Format::Json
    } else {
        Format::Text
    };
    let snapshot = match &args.snapshot {
        Some(path) => match read_snapshot(path) {
            Ok(s) => s,
            Err(e) => return fail(format!("{}: {e}", path.display())),
        },
        None => match live_snapshot(args).await {
            Ok(s) => s,
            Err(e) => return fail(e),
        },
    };
    let findings = doctor::check(&snapshot);
    println!("{}", doctor::render(&findings, format));
    if findings.iter().any(|f| f.status == Status::Fail) {
        ExitCode::FAILURE
    } else if findings.iter().any(|f| f.status == Status::CannotDecide) {
        ExitCode::from(3)
    } else {
        ExitCode::SUCCESS
    }
}

/// A snapshot, or a test fixture holding one under "snapshot".
fn read_snapshot(path: &std::path::Path) -> Result<doctor::Snapshot, String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let v: Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    serde_json::from_value(v.get("snapshot").cloned().unwrap_or(v)).map_err(|e| e.to_string())
}

async fn live_snapshot(args: &DoctorArgs) -> Result<doctor::Snapshot, String> {
    let bucket = args
        .source_bucket
        .clone()
        .ok_or("doctor needs --source-bucket or --snapshot")?;
    let region = cli_region(args.region.as_deref(), None)?;
    let source_role = args
        .source_role_arn
        .as_deref()
        .map(RoleArn::parse)
        .transpose()?;
    let destination_roles = args
        .destination_role_arn
        .iter()
        .map(|r| RoleArn::parse(r).map(|r| (r, args.external_id.clone())))
        .collect::<Result<Vec<_>, _>>()?;
    let target = Target {
        bucket,
        region,
        source_role,
        destination_roles,
    };
    live::snapshot(&connector(&target.region).await, &target)
        .await
        .map_err(|e| e.to_string())
}
