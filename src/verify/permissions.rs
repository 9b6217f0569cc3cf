//! `Verify: Permissions`: read the live state back and evaluate every link of the permission
//! chain with the doctor.

use super::VerifyError;
use crate::aws::Connector;
use crate::doctor::live::{self, Target};
use crate::doctor::{self, Status};
use crate::plan::Plan;
use crate::spec::Spec;

/// One line per link that does not pass: broken ones with the statement to add, and those the
/// doctor cannot decide (an operator or context key it does not evaluate), which are not a
/// proof of health either. Empty when every link passes.
pub async fn broken_links(
    conn: &Connector,
    spec: &Spec,
    plan: &Plan,
) -> Result<Vec<String>, VerifyError> {
    let target = Target::of_spec(spec, plan.resolved.source_region.clone());
    let snapshot = live::snapshot(conn, &target)
        .await
        .map_err(|e| VerifyError::Unreadable(e.to_string()))?;
    let findings = doctor::check(&snapshot);
    let broken: Vec<String> = findings
        .iter()
        .filter(|f| f.status != Status::Pass && !reports_history(&f.link))
        .map(|f| {
            let fix = f
                .fix
                .as_ref()
                .map(|x| format!(" Add: {x}"))
                .unwrap_or_default();
            let undecided = if f.status == Status::CannotDecide {
                "cannot decide, "
            } else {
                ""
            };
            format!(
                "{} ({} {} {}): {undecided}{}.{fix}",
                f.link, f.account, f.region, f.resource, f.detail
            )
        })
        .collect();
    if broken.is_empty() {
        tracing::info!(
            links = findings.len(),
            "verify: every link of the permission chain passes"
        );
    }
    Ok(broken)
}

/// Links that count what happened (objects whose replication failed before this request),
/// not what the configuration allows: no Update can undo them, so they do not fail one; the
/// doctor reports them.
fn reports_history(link: &str) -> bool {
    link.ends_with(&format!(".{}", doctor::FAILED_OBJECTS))
}

/// Fails with every broken link.
pub async fn verify(conn: &Connector, spec: &Spec, plan: &Plan) -> Result<(), VerifyError> {
    let broken = broken_links(conn, spec, plan).await?;
    if broken.is_empty() {
        return Ok(());
    }
    Err(VerifyError::BrokenLinks(broken))
}

/// The doctor's diagnosis, as a sentence to append to a replication failure.
pub async fn diagnosis(conn: &Connector, spec: &Spec, plan: &Plan) -> String {
    match broken_links(conn, spec, plan).await {
        Ok(b) if b.is_empty() => "The doctor finds every link of the permission chain healthy; S3 gives the reason in its replication failure events (s3:Replication:OperationFailedReplication)".to_owned(),
        Ok(b) => format!(
            "The doctor finds {} link(s) that do not pass: {}",
            b.len(),
            b.join(" | ")
        ),
        Err(VerifyError::Unreadable(e)) => format!("The doctor could not read the live state: {e}"),
        Err(e) => format!("The doctor: {e}"),
    }
}
