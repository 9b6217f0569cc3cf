//! Why `Verify` fails a request: the reason CloudFormation shows.

use super::ReplicationFailure;

#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// The live state could not be read back to evaluate.
    #[error("Verify: Permissions could not read the live state: {0}")]
    Unreadable(String),
    /// Links of the permission chain that do not pass (or that the doctor cannot decide),
    /// one line each with the statement to add.
    #[error("Verify: Permissions found {} link(s) that do not pass (set Verify: None to skip the check): {}", .0.len(), .0.join(" | "))]
    BrokenLinks(Vec<String>),
    /// Canary objects did not arrive; `diagnosis` is the doctor's sentence on the chain.
    #[error("Verify: Replication: {failure}.{diagnosis}")]
    Replication {
        failure: ReplicationFailure,
        diagnosis: String,
    },
}
