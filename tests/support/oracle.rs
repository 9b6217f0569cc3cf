//! The doctor as the tests' oracle: moto stores policies but never evaluates them (key policies,
//! cross-account trust, bucket policies for another account's role), so a Create or Update that
//! answered SUCCESS is only trusted once the live state it left passes every link of the
//! permission chain under AWS's policy evaluation logic.

use s3_replication_provider::aws::{CallLog, Connector};
use s3_replication_provider::doctor::live::{self, Target};
use s3_replication_provider::doctor::{self, render_text, Finding, Status};
use s3_replication_provider::spec::{self, Region};
use serde_json::Value;

use super::harness::HOME_REGION;
use super::Emulator;

/// Reads the live state of the replication `props` describe, straight from the emulator (no
/// fault proxy), and evaluates every link.
pub async fn findings(emu: &Emulator, props: &Value) -> Vec<Finding> {
    let spec = spec::parse(props).unwrap_or_else(|e| panic!("oracle: properties: {e}"));
    let region = spec
        .source
        .region
        .clone()
        .unwrap_or_else(|| Region::parse(HOME_REGION).unwrap());
    let conn = Connector::new(&emu.sdk_config(region.as_str()).await, CallLog::default());
    let snapshot = live::snapshot(&conn, &Target::of_spec(&spec, region))
        .await
        .unwrap_or_else(|e| panic!("oracle: reading the live state: {e}"));
    doctor::check(&snapshot)
}

/// Panics unless every link passes (a cannot-decide is not a pass).
#[track_caller]
pub fn assert_all_pass(findings: &[Finding], what: &str) {
    assert!(
        !findings.is_empty() && findings.iter().all(|f| f.status == Status::Pass),
        "the doctor (test oracle) does not pass the live state after {what}:\n{}",
        render_text(findings)
    );
}

/// [`findings`] then [`assert_all_pass`].
pub async fn assert_healthy(emu: &Emulator, props: &Value, what: &str) {
    let f = findings(emu, props).await;
    assert_all_pass(&f, what);
}
