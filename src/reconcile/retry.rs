//! Bounded, jittered retries for IAM's eventual consistency: a role or principal that was just
//! created is not visible to S3 and KMS everywhere at once. No fixed sleeps: the first attempt
//! goes out immediately, later ones back off, and none starts after the deadline.

use std::future::Future;
use std::time::Duration;

use crate::aws::{AwsError, Code, ErrorKind};
use crate::time::{backoff, Deadline};

/// Whether `err` is how S3, KMS or IAM report a principal that is not visible yet.
pub fn is_propagation_error(err: &AwsError) -> bool {
    let msg = err.message.to_ascii_lowercase();
    // KMS: "Policy contains a statement with one or more invalid principals."; S3 bucket
    // policy: "Invalid principal in policy".
    if err.is(Code::MalformedKeyPolicy) || err.is(Code::MalformedBucketPolicy) {
        return msg.contains("principal");
    }
    // S3 PutBucketReplication while the role is not yet usable.
    if err.is(Code::InvalidArgument) || err.is(Code::InvalidRequest) {
        return msg.contains("role");
    }
    err.kind == ErrorKind::AccessDenied && msg.contains("passrole")
}

/// Time kept free before the deadline: no retry starts later than this.
const RESERVE: Duration = Duration::from_secs(1);

/// The backoff of one step waiting for IAM propagation.
#[derive(Debug, Default)]
pub struct Propagation {
    attempts: u32,
}

impl Propagation {
    /// After `err`, a propagation error: waits the next backoff and returns `Ok`, or gives `err`
    /// back when the deadline leaves no time for another attempt.
    pub async fn wait(
        &mut self,
        deadline: Deadline,
        what: &str,
        err: AwsError,
    ) -> Result<(), AwsError> {
        self.attempts += 1;
        let attempt = self.attempts;
        // Near the deadline, one last shorter wait rather than giving up early.
        let wait = backoff(attempt).min(deadline.remaining().saturating_sub(RESERVE));
        if wait.is_zero() {
            tracing::warn!(
                what,
                attempts = attempt,
                "gave up waiting for IAM propagation"
            );
            return Err(err);
        }
        tracing::info!(what, attempt, wait_ms = wait.as_millis() as u64, code = %err.code, "waiting for IAM propagation");
        tokio::time::sleep(wait).await;
        Ok(())
    }
}

/// Runs `f` until it succeeds, fails with a non-propagation error, or the deadline would pass.
pub async fn until_propagated<T, F, Fut>(
    deadline: Deadline,
    what: &str,
    mut f: F,
) -> Result<T, AwsError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, AwsError>>,
{
    let mut propagation = Propagation::default();
    loop {
        match f().await {
            Err(e) if is_propagation_error(&e) => propagation.wait(deadline, what, e).await?,
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::Op;
    use std::time::Instant;

    fn err(code: &str, message: &str, kind: ErrorKind) -> AwsError {
        AwsError::from(crate::aws::AwsErrorDetail {
            op: Op {
                service: "s3",
                name: "X",
                action: "s3:X",
                mutating: true,
            },
            account: "1".into(),
            region: "r".into(),
            resource: "x".into(),
            code: code.into(),
            message: message.into(),
            kind,
        })
    }

    #[test]
    fn recognises_propagation_errors_only() {
        assert!(is_propagation_error(&err(
            "MalformedPolicyDocumentException",
            "Policy contains a statement with one or more invalid principals.",
            ErrorKind::Invalid
        )));
        assert!(is_propagation_error(&err(
            "MalformedPolicy",
            "Invalid principal in policy",
            ErrorKind::Invalid
        )));
        assert!(is_propagation_error(&err(
            "InvalidArgument",
            "Role arn is not valid",
            ErrorKind::Invalid
        )));
        assert!(!is_propagation_error(&err(
            "MalformedPolicy",
            "Policy has invalid action",
            ErrorKind::Invalid
        )));
        assert!(!is_propagation_error(&err(
            "AccessDenied",
            "Access Denied",
            ErrorKind::AccessDenied
        )));
    }

    #[tokio::test(start_paused = true)]
    async fn retries_until_success_within_deadline() {
        let mut n = 0;
        let out = until_propagated(Deadline::after(Duration::from_secs(60)), "t", || {
            n += 1;
            let r = if n < 3 {
                Err(err(
                    "MalformedPolicy",
                    "Invalid principal in policy",
                    ErrorKind::Invalid,
                ))
            } else {
                Ok(n)
            };
            async move { r }
        })
        .await;
        assert_eq!(out.unwrap(), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn stops_at_deadline() {
        let start = Instant::now();
        let out: Result<(), _> =
            until_propagated(Deadline::after(Duration::from_secs(10)), "t", || async {
                Err(err(
                    "MalformedPolicy",
                    "Invalid principal in policy",
                    ErrorKind::Invalid,
                ))
            })
            .await;
        assert!(out.is_err());
        assert!(start.elapsed() <= Duration::from_secs(10));
    }
}
