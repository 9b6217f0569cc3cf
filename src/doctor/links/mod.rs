//! The live state replication depends on ([`Snapshot`]) and the links of the chain S3
//! replication exercises, each checked into one [`Finding`] ("Setting up live replication",
//! "Granting permissions for replication", "Replicating encrypted objects" in the S3 User
//! Guide).
//!
//! Every policy link is checked with concrete requests: the replication role's session (as
//! `aws:PrincipalArn`), the exact action, an object ARN under the rule's prefix (key
//! [`PROBE_KEY`]) or the bucket ARN, and the context keys S3 and KMS set for replication. Keys
//! the snapshot cannot know (tags, org paths, source IP, …) are left unknown, so a condition on
//! them is reported as cannot-decide rather than guessed.
//!
//! The files, one concept each: `snapshot` (the input), `finding` (the output), `checker`
//! (the requests a link probes: ARNs, principal, context keys), `trust`, `access` (the links a
//! bucket or key policy decides) run through `policy_link`, `encryption` (SSE-KMS selection, key
//! state) and `bucket_settings` (versioning, Requester Pays, Object Lock).

mod access;
mod batch;
mod bucket_settings;
mod checker;
mod encryption;
mod failed;
mod finding;
mod policy_link;
mod signals;
mod snapshot;
mod text;
mod trust;

pub use checker::{via_s3, PROBE_KEY};
pub use finding::{Finding, Status};
pub use snapshot::{
    BatchJob, DestinationBucket, FailedReplications, FailureNotification, Key, NamedPolicy,
    ReplicationRole, RuleAlarm, Signals, Snapshot, SourceBucket, Versioning,
};

use batch::existing_objects;
use bucket_settings::{object_lock, requester_pays, versioning};
use checker::Checker;
use encryption::{key_missing, key_usable};
pub use failed::FAILED_OBJECTS;

/// Checks every link; one finding per link that applies to this snapshot.
pub fn check(s: &Snapshot) -> Vec<Finding> {
    let cx = Checker { s };
    let mut out = vec![cx.trust(), cx.source_read()];
    if let Some(key) = &s.source.key {
        out.push(cx.source_key_decrypt(key));
        out.push(key_usable(
            "source.key",
            key,
            &s.source.region,
            &format!("source bucket {}", s.source.bucket),
        ));
    } else if let Some(id) = &s.source.key_id {
        out.push(key_missing(
            "source.key",
            id,
            &s.source.account,
            &s.source.region,
            &format!(
                "the default encryption of source bucket {}",
                s.source.bucket
            ),
        ));
    }
    out.push(versioning(
        "source.versioning",
        &s.source.account,
        &s.source.region,
        &cx.bucket_arn(&s.source.bucket),
        &s.source.bucket,
        s.source.versioning,
    ));
    out.push(requester_pays(
        "source.requester-pays",
        &s.source.account,
        &s.source.region,
        &cx.bucket_arn(&s.source.bucket),
        &s.source.bucket,
        s.source.requester_pays,
    ));
    for (i, d) in s.destinations.iter().enumerate() {
        let p = format!("destination[{i}]");
        out.push(cx.replicate(&p, d));
        if d.owner_override {
            out.push(cx.owner_override(&p, d));
        }
        if s.source.key.is_some() || d.sse_kms {
            out.push(cx.encryption_selection(&p, d));
        }
        if let Some(key) = &d.key {
            out.push(cx.destination_key_encrypt(&p, d, key));
            out.push(key_usable(
                &format!("{p}.key"),
                key,
                &d.region,
                &format!("destination bucket {}", d.bucket),
            ));
        } else if let Some(id) = &d.key_id {
            out.push(key_missing(
                &format!("{p}.key"),
                id,
                &d.account,
                &d.region,
                &format!("the replication rule for {} (ReplicaKmsKeyID)", d.bucket),
            ));
        }
        let arn = cx.bucket_arn(&d.bucket);
        out.push(versioning(
            &format!("{p}.versioning"),
            &d.account,
            &d.region,
            &arn,
            &d.bucket,
            d.versioning,
        ));
        out.push(requester_pays(
            &format!("{p}.requester-pays"),
            &d.account,
            &d.region,
            &arn,
            &d.bucket,
            d.requester_pays,
        ));
        out.push(object_lock(&format!("{p}.object-lock"), &s.source, d, &arn));
        if !s.signals.alarms.is_empty() {
            out.push(cx.alarm(&p, d));
        }
        if let Some(f) = s
            .failed_replications
            .iter()
            .find(|f| f.rule_id == d.rule_id)
        {
            out.push(failed::failed_objects(
                &format!("{p}.{FAILED_OBJECTS}"),
                &s.partition,
                &s.source,
                d,
                f,
            ));
        }
        if let Some(job) = s.batch_jobs.iter().find(|j| j.rule_id == d.rule_id) {
            out.push(existing_objects(
                &format!("{p}.existing-objects"),
                &s.source,
                job,
            ));
        }
    }
    for (i, n) in s.signals.notifications.iter().enumerate() {
        out.push(cx.publish(i, n));
        out.push(cx.events_sent(i, n));
    }
    out
}
