//! What `Verify` proves after Create/Update, before the provider answers SUCCESS.

pub mod canary;
mod error;
mod permissions;
mod replication;

pub use error::VerifyError;
pub use replication::ReplicationFailure;

use crate::aws::{Account, Connector};
use crate::plan::Plan;
use crate::spec::{Spec, Verify};
use crate::time::Deadline;

/// Runs the checks `spec.verify` asks for; `Err` says why the request fails.
/// `Replication` first proves the permission chain, then sends canary objects through it.
pub async fn run(
    conn: &Connector,
    spec: &Spec,
    plan: &Plan,
    src: &Account,
    deadline: Deadline,
    request_id: &str,
) -> Result<(), VerifyError> {
    match spec.verify {
        Verify::None => Ok(()),
        Verify::Permissions => permissions::verify(conn, spec, plan).await,
        Verify::Replication => {
            permissions::verify(conn, spec, plan).await?;
            let token = canary::token(request_id);
            match replication::verify(conn, spec, plan, src, deadline, &token).await {
                Ok(()) => Ok(()),
                Err(failure) => {
                    let diagnosis = if failure.needs_diagnosis() {
                        format!(" {}.", permissions::diagnosis(conn, spec, plan).await)
                    } else {
                        String::new()
                    };
                    Err(VerifyError::Replication { failure, diagnosis })
                }
            }
        }
    }
}
