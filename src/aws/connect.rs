//! Credentials and clients per account and region: the function's own identity for the source
//! (or an assumed `SourceRoleArn`), `sts:AssumeRole` into each destination account.

use std::collections::HashMap;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::SdkConfig;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_credential_types::Credentials;
use std::sync::Arc;

use tokio::sync::{Mutex, OnceCell};

use super::account::op;
use super::{from_sdk, Account, AwsError, AwsErrorDetail, CallLog, InFlight};
use crate::spec::{AccountId, Region, RoleArn};

const GET_CALLER_IDENTITY: super::Op =
    op("sts", "GetCallerIdentity", "sts:GetCallerIdentity", false);
const ASSUME_ROLE: super::Op = op("sts", "AssumeRole", "sts:AssumeRole", false);
/// Session name visible in the destination account's CloudTrail.
pub const SESSION_NAME: &str = "s3-replication-provider";

/// Applies the provider's retry and timeout policy to a base configuration: throttling, 5xx
/// and transient network errors are retried with jittered backoff; no single attempt may
/// hang.
pub fn tuned(base: &SdkConfig, attempt_timeout: Duration) -> SdkConfig {
    base.to_builder()
        .retry_config(RetryConfig::standard().with_max_attempts(5))
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(5).min(attempt_timeout))
                .operation_attempt_timeout(attempt_timeout)
                .operation_timeout(attempt_timeout * 3)
                .build(),
        )
        .build()
}

/// How long one attempt of one AWS call may take before it is abandoned and retried.
pub const DEFAULT_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(20);

/// Role ARN and external id.
type AssumeKey = (String, Option<String>);
/// The account a role is in and credentials for it.
type Assumed = (AccountId, SharedCredentialsProvider);

/// Hands out one [`Account`] per (credentials, region), creating credentials at most once per
/// invocation and clients at most once per account and region (destinations that share an
/// account and region share its clients and their connection pools).
pub struct Connector {
    base: SdkConfig,
    log: CallLog,
    in_flight: InFlight,
    /// Assumed credentials by role ARN + external id.
    assumed: Mutex<HashMap<AssumeKey, Arc<OnceCell<Assumed>>>>,
    /// The function's own account and the IAM principal its credentials are.
    own_account: Mutex<Option<(AccountId, String)>>,
    /// Clients by credentials (`None`: the function's own) and region.
    accounts: std::sync::Mutex<HashMap<(Option<AssumeKey>, Region), Account>>,
    settle: Duration,
}

/// Default wait before verifying a shared policy write (a concurrent writer's read-modify-write
/// completes well within it on AWS).
pub const DEFAULT_SETTLE: Duration = Duration::from_millis(400);

impl Connector {
    pub fn new(base: &SdkConfig, log: CallLog) -> Self {
        Self {
            base: tuned(base, DEFAULT_ATTEMPT_TIMEOUT),
            log,
            in_flight: InFlight::default(),
            assumed: Mutex::default(),
            own_account: Mutex::default(),
            accounts: std::sync::Mutex::default(),
            settle: DEFAULT_SETTLE,
        }
    }

    /// Sets how long one attempt of an AWS call may take.
    pub fn with_attempt_timeout(mut self, timeout: Duration) -> Self {
        self.base = tuned(&self.base, timeout);
        self
    }

    /// Sets how long to wait before verifying a shared policy write (zero: do not verify).
    pub fn with_settle(mut self, settle: Duration) -> Self {
        self.settle = settle;
        self
    }

    pub fn log(&self) -> &CallLog {
        &self.log
    }

    /// The region the function runs in.
    pub fn home_region(&self) -> Option<Region> {
        self.base
            .region()
            .and_then(|r| Region::parse(r.as_ref()).ok())
    }

    /// The source side: own credentials, or `role` assumed.
    pub async fn source(
        &self,
        role: Option<&RoleArn>,
        region: &Region,
    ) -> Result<Account, AwsError> {
        match role {
            Some(role) => self.assumed(role, None, region).await,
            None => {
                let (id, principal) = self.own_account(region).await?;
                Ok(self.account(None, id, principal, region, None))
            }
        }
    }

    /// A destination account reached through `role` (with `external_id`), in `region`.
    pub async fn assumed(
        &self,
        role: &RoleArn,
        external_id: Option<&str>,
        region: &Region,
    ) -> Result<Account, AwsError> {
        let key = (role.to_string(), external_id.map(str::to_owned));
        // One AssumeRole per role, concurrent across roles: the map lock is held only to find
        // the role's cell, never across the call.
        let cell = self.assumed.lock().await.entry(key).or_default().clone();
        let (id, creds) = cell
            .get_or_try_init(|| self.assume(role, external_id, region))
            .await?
            .clone();
        let key = (role.to_string(), external_id.map(str::to_owned));
        Ok(self.account(Some(key), id, role.to_string(), region, Some(creds)))
    }

    /// The clients for these credentials in `region`, built on first use.
    fn account(
        &self,
        key: Option<AssumeKey>,
        id: AccountId,
        principal: String,
        region: &Region,
        creds: Option<SharedCredentialsProvider>,
    ) -> Account {
        let mut accounts = self.accounts.lock().unwrap_or_else(|p| p.into_inner());
        accounts
            .entry((key, region.clone()))
            .or_insert_with(|| {
                Account::new(
                    id,
                    principal,
                    region.clone(),
                    &self.config_for(region, creds),
                    self.log.clone(),
                    self.in_flight.clone(),
                    self.settle,
                )
            })
            .clone()
    }

    fn config_for(&self, region: &Region, creds: Option<SharedCredentialsProvider>) -> SdkConfig {
        let mut b = self
            .base
            .to_builder()
            .region(aws_config::Region::new(region.to_string()));
        if let Some(c) = creds {
            b = b.credentials_provider(c);
        }
        b.build()
    }

    async fn own_account(&self, region: &Region) -> Result<(AccountId, String), AwsError> {
        let mut cached = self.own_account.lock().await;
        if let Some(own) = cached.as_ref() {
            return Ok(own.clone());
        }
        let sts = aws_sdk_sts::Client::new(&self.config_for(region, None));
        let slot = self.in_flight.acquire().await;
        let start = std::time::Instant::now();
        let result = sts.get_caller_identity().send().await;
        drop(slot);
        self.log.record(
            GET_CALLER_IDENTITY,
            "self",
            region.as_str(),
            "caller",
            start,
            result.is_ok(),
        );
        let out = result.map_err(|e| {
            from_sdk(
                GET_CALLER_IDENTITY,
                "self",
                region.as_str(),
                "caller identity",
                e,
            )
        })?;
        let id = AccountId::parse(out.account().unwrap_or_default())
            .map_err(|m| AwsErrorDetail {
                op: GET_CALLER_IDENTITY,
                account: "self".into(),
                region: region.to_string(),
                resource: "caller identity".into(),
                code: "InvalidResponse".into(),
                message: m,
                kind: super::ErrorKind::Invalid,
            })
            .map_err(AwsError::from)?;
        let principal = principal_of(out.arn().unwrap_or_default());
        *cached = Some((id.clone(), principal.clone()));
        Ok((id, principal))
    }

    async fn assume(
        &self,
        role: &RoleArn,
        external_id: Option<&str>,
        region: &Region,
    ) -> Result<(AccountId, SharedCredentialsProvider), AwsError> {
        // STS is called with the function's own credentials, in its own region when known.
        let sts_region = self.home_region().unwrap_or_else(|| region.clone());
        let sts = aws_sdk_sts::Client::new(&self.config_for(&sts_region, None));
        let req = sts
            .assume_role()
            .role_arn(role.as_str())
            .role_session_name(SESSION_NAME)
            .set_external_id(external_id.map(str::to_owned));
        let slot = self.in_flight.acquire().await;
        let start = std::time::Instant::now();
        let result = req.send().await;
        drop(slot);
        let account = role.account().as_str();
        self.log.record(
            ASSUME_ROLE,
            account,
            sts_region.as_str(),
            role.as_str(),
            start,
            result.is_ok(),
        );
        let out = result.map_err(|e| {
            let mut err = from_sdk(ASSUME_ROLE, account, sts_region.as_str(), role.as_str(), e);
            err.message = format!(
                "{}. The function could not assume {role}: deploy sam/destination-account/template.yaml in account {account} trusting the function's role (or fix RoleArn/ExternalId)",
                err.message
            );
            err
        })?;
        let c = out
            .credentials
            .ok_or_else(|| AwsErrorDetail {
                op: ASSUME_ROLE,
                account: account.to_owned(),
                region: sts_region.to_string(),
                resource: role.to_string(),
                code: "InvalidResponse".into(),
                message: "AssumeRole returned no credentials".into(),
                kind: super::ErrorKind::Server,
            })
            .map_err(AwsError::from)?;
        let creds = Credentials::new(
            c.access_key_id,
            c.secret_access_key,
            Some(c.session_token),
            None,
            "assumed-role",
        );
        Ok((
            role.account().clone(),
            SharedCredentialsProvider::new(creds),
        ))
    }
}

/// The IAM principal a caller ARN stands for, as policies name it: a role session
/// (`arn:aws:sts::A:assumed-role/Name/Session`, as the function's own credentials are) is its
/// role (`arn:aws:iam::A:role/Name`: the execution role the source template creates has the
/// path `/`); users and the root are named as they are.
pub fn principal_of(caller_arn: &str) -> String {
    let parts: Vec<&str> = caller_arn.splitn(6, ':').collect();
    if let [_, partition, "sts", _, account, resource] = parts.as_slice() {
        if let Some(rest) = resource.strip_prefix("assumed-role/") {
            let role = rest.split('/').next().unwrap_or_default();
            return format!("arn:{partition}:iam::{account}:role/{role}");
        }
    }
    caller_arn.to_owned()
}

#[cfg(test)]
mod tests {
    use super::principal_of;

    #[test]
    fn a_role_session_is_named_by_its_role() {
        assert_eq!(
            principal_of("arn:aws:sts::111122223333:assumed-role/S3ReplicationProvider-eu-west-1/s3-replication-provider"),
            "arn:aws:iam::111122223333:role/S3ReplicationProvider-eu-west-1"
        );
        assert_eq!(
            principal_of("arn:aws-cn:sts::111122223333:assumed-role/R/s"),
            "arn:aws-cn:iam::111122223333:role/R"
        );
        for other in [
            "arn:aws:iam::111122223333:user/ops/alice",
            "arn:aws:iam::111122223333:root",
            "",
        ] {
            assert_eq!(principal_of(other), other);
        }
    }
}
