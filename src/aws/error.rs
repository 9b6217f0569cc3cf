//! Turning SDK errors into errors that say what failed, where, and what to do.

use std::fmt;

use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

use crate::redact::redact;

/// What kind of failure a call ended in; decides retries and the advice given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    NotFound,
    AccessDenied,
    Throttled,
    /// 5xx from the service.
    Server,
    Timeout,
    /// Connection refused/reset, DNS, TLS.
    Transport,
    /// Any other 4xx: the request itself is wrong for the current state.
    Invalid,
}

/// The AWS error codes the provider decides on beyond their [`ErrorKind`], each with the code
/// AWS sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    /// S3: the bucket does not exist (where a policy or configuration was asked for).
    NoSuchBucket,
    /// S3 CreateBucket: it exists and is ours already.
    BucketAlreadyOwnedByYou,
    /// S3: the bucket has no Object Lock configuration.
    ObjectLockConfigurationNotFound,
    /// IAM CreateRole: a role with this name exists.
    EntityAlreadyExists,
    /// KMS CreateAlias: the alias exists.
    AliasAlreadyExists,
    /// KMS: the key's state forbids the call (pending deletion, disabled).
    KeyInvalidState,
    /// Organizations: the account is in no organization.
    OrganizationsNotInUse,
    /// KMS PutKeyPolicy refused the document.
    MalformedKeyPolicy,
    /// S3 PutBucketPolicy refused the document.
    MalformedBucketPolicy,
    InvalidArgument,
    InvalidRequest,
}

impl Code {
    pub const fn as_str(self) -> &'static str {
        match self {
            Code::NoSuchBucket => "NoSuchBucket",
            Code::BucketAlreadyOwnedByYou => "BucketAlreadyOwnedByYou",
            Code::ObjectLockConfigurationNotFound => "ObjectLockConfigurationNotFoundError",
            Code::EntityAlreadyExists => "EntityAlreadyExists",
            Code::AliasAlreadyExists => "AlreadyExistsException",
            Code::KeyInvalidState => "KMSInvalidStateException",
            Code::OrganizationsNotInUse => "AWSOrganizationsNotInUseException",
            Code::MalformedKeyPolicy => "MalformedPolicyDocumentException",
            Code::MalformedBucketPolicy => "MalformedPolicy",
            Code::InvalidArgument => "InvalidArgument",
            Code::InvalidRequest => "InvalidRequest",
        }
    }
}

/// One AWS operation as the provider uses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Op {
    pub service: &'static str,
    pub name: &'static str,
    /// The IAM action that authorizes it (named in AccessDenied advice).
    pub action: &'static str,
    pub mutating: bool,
}

/// A failed AWS call, naming the account, region, resource and AWS error (boxed: errors travel
/// through every `Result` of the reconciler and should stay one pointer wide).
#[derive(Debug, Clone)]
pub struct AwsError(Box<AwsErrorDetail>);

impl std::ops::Deref for AwsError {
    type Target = AwsErrorDetail;
    fn deref(&self) -> &AwsErrorDetail {
        &self.0
    }
}

impl std::ops::DerefMut for AwsError {
    fn deref_mut(&mut self) -> &mut AwsErrorDetail {
        &mut self.0
    }
}

impl From<AwsErrorDetail> for AwsError {
    fn from(d: AwsErrorDetail) -> Self {
        Self(Box::new(d))
    }
}

impl std::error::Error for AwsError {}

impl fmt::Display for AwsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[derive(Debug, Clone)]
pub struct AwsErrorDetail {
    pub op: Op,
    pub account: String,
    pub region: String,
    pub resource: String,
    pub code: String,
    pub message: String,
    pub kind: ErrorKind,
}

impl fmt::Display for AwsErrorDetail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{} on {} in account {} ({}) failed: {}",
            self.op.service, self.op.name, self.resource, self.account, self.region, self.code
        )?;
        if !self.message.is_empty() {
            write!(f, ": {}", self.message)?;
        }
        if let Some(advice) = self.advice() {
            write!(f, ". {advice}")?;
        }
        Ok(())
    }
}

impl AwsErrorDetail {
    /// Whether AWS answered with `code`.
    pub fn is(&self, code: Code) -> bool {
        self.code == code.as_str()
    }

    fn advice(&self) -> Option<String> {
        match self.kind {
            ErrorKind::AccessDenied if matches!(self.op.service, "sns" | "sqs") => Some(format!(
                "Allow {} on {} for the provider function's role in account {}: the source template grants it on topics and queues named by its FailureNotificationNamePattern parameter (default s3-replication-*); rename the topic or queue, or widen the pattern",
                self.op.action, self.resource, self.account
            )),
            ErrorKind::AccessDenied => Some(format!(
                "Allow {} on {} for the credentials used in account {} (the provider function's role in the source account, or the destination role from sam/destination-account), and check key policies and SCPs",
                self.op.action, self.resource, self.account
            )),
            ErrorKind::Throttled | ErrorKind::Server | ErrorKind::Timeout | ErrorKind::Transport => {
                Some("This is transient and was retried; update the stack again to retry".to_owned())
            }
            _ => None,
        }
    }
}

/// Classifies an SDK error into an [`AwsError`] for `op` on `resource`.
pub fn from_sdk<E, R>(
    op: Op,
    account: &str,
    region: &str,
    resource: &str,
    err: SdkError<E, R>,
) -> AwsError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: fmt::Debug + Send + Sync + 'static,
{
    let (code, message, kind) = match &err {
        SdkError::ServiceError(se) => {
            let e = se.err();
            let code = e.code().unwrap_or("UnknownError").to_owned();
            let message = match (e.code(), e.message()) {
                (_, Some(m)) => m.to_owned(),
                // No error code: usually a response the SDK could not parse; say what it was.
                (None, None) => redact(&DisplayErrorContext(&err).to_string()),
                (Some(_), None) => String::new(),
            };
            let kind = kind_of_code(&code);
            (code, message, kind)
        }
        SdkError::TimeoutError(_) => (
            "Timeout".to_owned(),
            "no response in time".to_owned(),
            ErrorKind::Timeout,
        ),
        SdkError::DispatchFailure(d) => {
            let kind = if d.is_timeout() {
                ErrorKind::Timeout
            } else {
                ErrorKind::Transport
            };
            (
                "ConnectionError".to_owned(),
                redact(&DisplayErrorContext(&err).to_string()),
                kind,
            )
        }
        SdkError::ResponseError(_) => (
            "InvalidResponse".to_owned(),
            redact(&DisplayErrorContext(&err).to_string()),
            ErrorKind::Server,
        ),
        _ => (
            "RequestError".to_owned(),
            redact(&DisplayErrorContext(&err).to_string()),
            ErrorKind::Invalid,
        ),
    };
    AwsError::from(AwsErrorDetail {
        op,
        account: account.to_owned(),
        region: region.to_owned(),
        resource: resource.to_owned(),
        code,
        message,
        kind,
    })
}

fn kind_of_code(code: &str) -> ErrorKind {
    // Also the answers that say "none configured": facts, not failures (no WARN line).
    const NOT_FOUND: [&str; 17] = [
        "NoSuchBucket",
        "NoSuchBucketPolicy",
        "NoSuchTagSet",
        "ReplicationConfigurationNotFoundError",
        "ServerSideEncryptionConfigurationNotFoundError",
        "NoSuchEntity",
        "NotFoundException",
        "NoSuchPublicAccessBlockConfiguration",
        "OwnershipControlsNotFoundError",
        "NoSuchKey",
        "NoSuchVersion",
        "ObjectLockConfigurationNotFoundError",
        "AWSOrganizationsNotInUseException",
        // HeadObject: a 404 has no body, so no more precise code (also SNS's missing topic).
        "NotFound",
        // SQS (query and JSON protocols), CloudWatch.
        "AWS.SimpleQueueService.NonExistentQueue",
        "QueueDoesNotExist",
        "ResourceNotFound",
    ];
    match code {
        c if NOT_FOUND.contains(&c) => ErrorKind::NotFound,
        "AccessDenied"
        | "AccessDeniedException"
        // SNS.
        | "AuthorizationError"
        // HeadObject: a 403 has no body.
        | "Forbidden"
        | "UnauthorizedOperation"
        | "AllAccessDisabled"
        | "InvalidClientTokenId"
        | "ExpiredToken"
        | "SignatureDoesNotMatch" => ErrorKind::AccessDenied,
        "Throttling"
        | "ThrottlingException"
        | "SlowDown"
        | "RequestLimitExceeded"
        | "TooManyRequestsException"
        | "LimitExceededException"
        | "OperationAborted" => ErrorKind::Throttled,
        "InternalError"
        | "InternalFailure"
        | "ServiceUnavailable"
        | "KMSInternalException"
        | "ServiceFailure"
        | "DependencyTimeoutException" => ErrorKind::Server,
        _ => ErrorKind::Invalid,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_codes() {
        assert_eq!(kind_of_code("NoSuchBucketPolicy"), ErrorKind::NotFound);
        assert_eq!(kind_of_code("AccessDenied"), ErrorKind::AccessDenied);
        assert_eq!(kind_of_code("SlowDown"), ErrorKind::Throttled);
        assert_eq!(kind_of_code("MalformedPolicy"), ErrorKind::Invalid);
    }
}
