//! Clients for one account in one region, and the single place every AWS call goes through.

use std::future::Future;
use std::time::Instant;

use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};

use super::{from_sdk, AwsError, AwsErrorDetail, CallLog, ErrorKind, InFlight, Op, Slot};
use crate::spec::{AccountId, Region};

/// Where calls go: an account (own or assumed credentials) and a region.
#[derive(Clone)]
pub struct Account {
    pub id: AccountId,
    /// The IAM principal these credentials are (a role ARN, or the caller's user or root
    /// ARN): named in the policy of every key created through them.
    pub principal: String,
    pub region: Region,
    pub(super) s3: aws_sdk_s3::Client,
    pub(super) kms: aws_sdk_kms::Client,
    pub(super) iam: aws_sdk_iam::Client,
    pub(super) organizations: aws_sdk_organizations::Client,
    pub(super) sns: aws_sdk_sns::Client,
    pub(super) sqs: aws_sdk_sqs::Client,
    pub(super) cloudwatch: aws_sdk_cloudwatch::Client,
    pub(super) s3control: aws_sdk_s3control::Client,
    pub(super) cloudformation: aws_sdk_cloudformation::Client,
    pub(super) log: CallLog,
    /// Shared by every account of one invocation: bounds the AWS calls in flight.
    pub(super) in_flight: InFlight,
    /// How long to wait before re-reading a shared policy this invocation just wrote, to catch
    /// a concurrent writer's overwrite (see `reconcile::statements`).
    pub settle: std::time::Duration,
}

impl std::fmt::Debug for Account {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Account({} {})", self.id, self.region)
    }
}

impl Account {
    pub fn new(
        id: AccountId,
        principal: String,
        region: Region,
        config: &aws_config::SdkConfig,
        log: CallLog,
        in_flight: InFlight,
        settle: std::time::Duration,
    ) -> Self {
        let s3_config = aws_sdk_s3::config::Builder::from(config)
            .force_path_style(config.endpoint_url().is_some())
            .build();
        Self {
            s3: aws_sdk_s3::Client::from_conf(s3_config),
            kms: aws_sdk_kms::Client::new(config),
            iam: aws_sdk_iam::Client::new(config),
            organizations: aws_sdk_organizations::Client::new(config),
            sns: aws_sdk_sns::Client::new(config),
            sqs: aws_sdk_sqs::Client::new(config),
            cloudwatch: aws_sdk_cloudwatch::Client::new(config),
            s3control: super::batch::client(config),
            cloudformation: aws_sdk_cloudformation::Client::new(config),
            id,
            principal,
            region,
            log,
            in_flight,
            settle,
        }
    }

    /// Every call made through these clients (and any sharing their log), in order.
    pub fn calls(&self) -> Vec<super::Call> {
        self.log.calls()
    }

    /// Takes one call slot for a sequence of calls that must follow each other closely (see
    /// [`InFlight`]): returns these clients with calls that take no further slot, and the slot.
    pub async fn reserve_slot(&self) -> (Account, Slot) {
        let slot = self.in_flight.acquire().await;
        let held = Account {
            in_flight: self.in_flight.within_held_slot(),
            ..self.clone()
        };
        (held, slot)
    }

    /// Runs one SDK call: records and times it, logs mutations, and classifies failures.
    pub(super) async fn call<T, E, R, F>(
        &self,
        op: Op,
        resource: &str,
        fut: F,
    ) -> Result<T, AwsError>
    where
        F: Future<Output = Result<T, SdkError<E, R>>>,
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        R: std::fmt::Debug + Send + Sync + 'static,
    {
        panic_if_configured(op);
        let _slot = self.in_flight.acquire().await;
        let start = Instant::now();
        let result = fut.await;
        let (account, region) = (self.id.as_str(), self.region.as_str());
        self.log
            .record(op, account, region, resource, start, result.is_ok());
        match result {
            Ok(v) => {
                if op.mutating {
                    tracing::info!(
                        account,
                        region,
                        resource,
                        operation = op.name,
                        service = op.service,
                        "aws mutation"
                    );
                } else {
                    tracing::debug!(account, region, resource, operation = op.name, "aws read");
                }
                Ok(v)
            }
            Err(e) => {
                let err = from_sdk(op, account, region, resource, e);
                if err.kind != ErrorKind::NotFound {
                    tracing::warn!(account, region, resource, operation = op.name, code = %err.code, "aws call failed");
                }
                Err(err)
            }
        }
    }
}

/// A request the SDK refused to build (a missing required field): this provider's bug, named
/// like a failed call.
pub(super) fn construction(
    op: Op,
    account: &Account,
    resource: &str,
    e: impl std::fmt::Display,
) -> AwsError {
    AwsError::from(AwsErrorDetail {
        op,
        account: account.id.to_string(),
        region: account.region.to_string(),
        resource: resource.to_owned(),
        code: "InvalidRequest".to_owned(),
        message: e.to_string(),
        kind: ErrorKind::Invalid,
    })
}

/// Turns a not-found error into `None`.
pub(super) fn optional<T>(r: Result<T, AwsError>) -> Result<Option<T>, AwsError> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.kind == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

pub(super) const fn op(
    service: &'static str,
    name: &'static str,
    action: &'static str,
    mutating: bool,
) -> Op {
    Op {
        service,
        name,
        action,
        mutating,
    }
}

/// Fault injection, enabled only by configuration: with `PROVIDER_FAULT_PANIC_AT=<operation>`
/// (e.g. `PutBucketPolicy`) the provider panics when it is about to make that call. Used by
/// the tests to prove that a panic still produces a FAILED answer from the release build.
fn panic_if_configured(op: Op) {
    static AT: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    let at = AT.get_or_init(|| std::env::var("PROVIDER_FAULT_PANIC_AT").ok());
    if at.as_deref() == Some(op.name) {
        panic!("fault injection: PROVIDER_FAULT_PANIC_AT={}", op.name);
    }
}
