//! One invocation, start to answer: parse the request, do the work within the time budget, and
//! always send exactly one response — also when the work fails, panics or runs out of time.

use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use futures::FutureExt;
use serde_json::Value;

use crate::aws::{Call, CallLog, Connector};
use crate::cfn::{self, Request, RequestKind, Response, Status};
use crate::plan::names::NOTHING_CREATED_PREFIX;
use crate::plan::Owner;
use crate::reach::Reach;
use crate::reconcile;
use crate::spec;
use crate::time::{Budget, Deadline, DEFAULT_BUDGET};

/// Settings read from the environment once at start.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Used when the runtime gives no usable deadline (`PROVIDER_TIME_BUDGET_SECONDS`).
    pub time_budget: Duration,
    /// Wait before verifying a write to a shared policy (`PROVIDER_POLICY_SETTLE_MS`).
    pub policy_settle: Duration,
    /// How long one attempt of an AWS call may hang before it is retried.
    pub attempt_timeout: Duration,
    /// ResponseURLs answered besides CloudFormation's own (`PROVIDER_ALLOWED_RESPONSE_URL_PREFIXES`).
    pub response_urls: cfn::AllowedPrefixes,
    /// The destination accounts the provider stack allows (`PROVIDER_DESTINATION_ACCOUNTS`).
    pub reach: Reach,
    /// The permissions boundary of every role the provider creates
    /// (`PROVIDER_PERMISSIONS_BOUNDARY_ARN`, set by the source template).
    pub permissions_boundary: Option<String>,
    /// Confirm with CloudFormation that the event's stack resource is in progress before acting
    /// on it (`PROVIDER_VERIFY_STACK_EVENTS`, on unless `false`; see [`cfn::stack_check`]).
    pub verify_stack_events: bool,
}

/// The environment setting naming the boundary of created roles.
pub const PERMISSIONS_BOUNDARY_ENV: &str = "PROVIDER_PERMISSIONS_BOUNDARY_ARN";

impl Default for Settings {
    fn default() -> Self {
        Self {
            time_budget: DEFAULT_BUDGET,
            policy_settle: crate::aws::DEFAULT_SETTLE,
            attempt_timeout: crate::aws::DEFAULT_ATTEMPT_TIMEOUT,
            response_urls: cfn::AllowedPrefixes::default(),
            reach: Reach::Any,
            permissions_boundary: None,
            verify_stack_events: true,
        }
    }
}

impl Settings {
    pub fn from_env() -> Self {
        let time_budget = std::env::var("PROVIDER_TIME_BUDGET_SECONDS")
            .ok()
            .and_then(|s| s.parse::<u64>().ok())
            .filter(|s| (1..=900).contains(s))
            .map_or(DEFAULT_BUDGET, Duration::from_secs);
        let policy_settle = std::env::var("PROVIDER_POLICY_SETTLE_MS")
            .ok()
            .and_then(|s| s.parse::<u64>().ok())
            .filter(|ms| *ms <= 10_000)
            .map_or(crate::aws::DEFAULT_SETTLE, Duration::from_millis);
        Self {
            time_budget,
            policy_settle,
            attempt_timeout: crate::aws::DEFAULT_ATTEMPT_TIMEOUT,
            response_urls: cfn::AllowedPrefixes::from_env(),
            reach: Reach::from_env(),
            permissions_boundary: std::env::var(PERMISSIONS_BOUNDARY_ENV)
                .ok()
                .map(|b| b.trim().to_owned())
                .filter(|b| !b.is_empty()),
            verify_stack_events: std::env::var(cfn::stack_check::VERIFY_ENV)
                .map_or(true, |v| !v.trim().eq_ignore_ascii_case("false")),
        }
    }
}

/// What one invocation did: the response it sent (if the event allowed one), whether it was
/// delivered, and every AWS call it made.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub response: Option<Response>,
    pub delivered: bool,
    pub calls: Vec<Call>,
}

/// The provider: SDK configuration and an HTTP client, built once per process.
pub struct Provider {
    base: aws_config::SdkConfig,
    /// Built on first use: loading the TLS roots is most of a cold start.
    http: std::sync::OnceLock<reqwest::Client>,
    settings: Settings,
}

impl Provider {
    /// The provider of the function: the SDK's standard configuration and [`Settings::from_env`].
    pub async fn from_env() -> Self {
        let base = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .load()
            .await;
        Self::new(base, Settings::from_env())
    }

    pub fn new(base: aws_config::SdkConfig, settings: Settings) -> Self {
        Self {
            base,
            http: std::sync::OnceLock::new(),
            settings,
        }
    }

    fn http(&self) -> &reqwest::Client {
        self.http.get_or_init(|| {
            reqwest::Client::builder()
                .connect_timeout(Duration::from_secs(5))
                // The ResponseURL was checked; where it redirects to was not.
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap_or_else(|_| reqwest::Client::new())
        })
    }

    /// Handles one event; `lambda_deadline` is the runtime's deadline when there is one.
    pub async fn handle(&self, event: Value, lambda_deadline: Option<SystemTime>) -> Outcome {
        let budget = Budget::new(lambda_deadline, self.settings.time_budget);
        let log = CallLog::default();
        let request = match cfn::parse_event(event) {
            Ok(r) => r,
            Err(m) => return self.answer_malformed(m, budget, &log).await,
        };
        tracing::info!(
            request_type = ?request.kind,
            stack_id = %request.stack_id,
            logical_resource_id = %request.logical_resource_id,
            request_id = %request.request_id,
            physical_resource_id = request.physical_resource_id.as_deref().unwrap_or(""),
            "request received"
        );
        // Before any work: an answer that could not be sent means no work is done either.
        if let Err(why) = self.settings.response_urls.check(&request.response_url) {
            return refused_url(&request.response_url, &why, &log);
        }
        let conn = Connector::new(&self.base, log.clone())
            .with_settle(self.settings.policy_settle)
            .with_attempt_timeout(self.settings.attempt_timeout);
        if self.settings.verify_stack_events {
            if let Err(why) = Box::pin(verify_event(&request, &conn)).await {
                tracing::warn!(reason = %why, "event not confirmed by CloudFormation; nothing is done");
                let id = request
                    .physical_resource_id
                    .clone()
                    .unwrap_or_else(|| nothing_created_id(&request));
                let reason = format!("refused before any change: {why}");
                return self
                    .answer(
                        &request.response_url,
                        failed(&request, id, reason),
                        budget,
                        &log,
                    )
                    .await;
            }
        }
        // The physical id as soon as it is known, for answers given on panic or timeout.
        let known_id: Arc<Mutex<Option<String>>> =
            Arc::new(Mutex::new(request.physical_resource_id.clone()));
        // Boxed: the SDK's futures are large, and the work must not live on the caller's stack.
        let deadline = Deadline(budget.work_until);
        let work = async {
            match request.kind {
                RequestKind::Create | RequestKind::Update => {
                    let id = known_id.clone();
                    create_or_update(&request, &conn, deadline, id, &self.settings).await
                }
                RequestKind::Delete => delete(&request, &conn, deadline, &self.settings).await,
            }
        };
        let work = AssertUnwindSafe(Box::pin(work)).catch_unwind();
        let left = budget
            .work_until
            .saturating_duration_since(std::time::Instant::now());
        let response = match tokio::time::timeout(left, work).await {
            Ok(Ok(response)) => response,
            Ok(Err(panic)) => {
                let msg = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "unknown panic".to_owned());
                tracing::error!(panic = %msg, "handler panicked");
                failed(&request, fallback_id(&request, &known_id), format!("internal error in the provider ({msg}); this is a bug, please report it with the function's log"))
            }
            Err(_) => {
                tracing::error!("ran out of time");
                failed(
                    &request,
                    fallback_id(&request, &known_id),
                    format!("timed out: the work did not finish within the function's time ({} s available); partial changes are kept and the next attempt resumes them. Raise the function timeout or check the log for the slow step", left.as_secs()),
                )
            }
        };
        if response.status == Status::Failed {
            tracing::warn!(
                reason = response.reason.as_deref().unwrap_or(""),
                "answering FAILED"
            );
        }
        self.answer(&request.response_url, response, budget, &log)
            .await
    }

    async fn answer_malformed(&self, m: cfn::Malformed, budget: Budget, log: &CallLog) -> Outcome {
        tracing::error!(why = %m.why, "malformed event");
        let Some(request) = m.answer_to else {
            tracing::error!("the event has no ResponseURL; no answer can be sent");
            return Outcome {
                response: None,
                delivered: false,
                calls: log.calls(),
            };
        };
        let id = fallback_id(&request, &Arc::default());
        let response = failed(&request, id, m.why);
        self.answer(&request.response_url, response, budget, log)
            .await
    }

    /// Sends the one answer of this invocation, if `url` is one the function may answer to.
    async fn answer(
        &self,
        url: &str,
        response: Response,
        budget: Budget,
        log: &CallLog,
    ) -> Outcome {
        if let Err(why) = self.settings.response_urls.check(url) {
            return refused_url(url, &why, log);
        }
        let delivered = cfn::deliver(self.http(), url, response.body(), budget.answer_until)
            .await
            .is_ok();
        Outcome {
            response: Some(response),
            delivered,
            calls: log.calls(),
        }
    }
}

/// A ResponseURL that is not CloudFormation's: nothing is done and nothing is sent.
fn refused_url(url: &str, why: &cfn::Refused, log: &CallLog) -> Outcome {
    tracing::error!(url = %crate::redact::loggable(url), why = %why, "not answering, and doing nothing: the ResponseURL is not CloudFormation's");
    Outcome {
        response: None,
        delivered: false,
        calls: log.calls(),
    }
}

/// Whether CloudFormation is sending this request now (see [`cfn::stack_check`]): the stack is
/// in the function's own account and region, and its resource is in progress. One
/// `DescribeStackResource` with the function's own credentials.
async fn verify_event(request: &Request, conn: &Connector) -> Result<(), String> {
    let region = conn
        .home_region()
        .ok_or_else(|| "the function has no region (AWS_REGION)".to_owned())?;
    let own = conn
        .source(None, &region)
        .await
        .map_err(|e| e.to_string())?;
    cfn::stack_check::check_place(request, own.id.as_str(), region.as_str())
        .map_err(|e| e.to_string())?;
    let found = own
        .stack_resource(&request.stack_id, &request.logical_resource_id)
        .await
        .map_err(|e| format!("CloudFormation could not confirm the event ({e}); the function's role needs cloudformation:DescribeStackResource on its stacks"))?;
    cfn::stack_check::judge(request, found.as_ref()).map_err(|e| e.to_string())
}

/// The physical id to report when the work could not say: the one being updated/deleted, the
/// one already derived, or one that tells a later Delete that nothing was created.
fn fallback_id(request: &Request, known: &Arc<Mutex<Option<String>>>) -> String {
    known
        .lock()
        .ok()
        .and_then(|k| k.clone())
        .or_else(|| request.physical_resource_id.clone())
        .unwrap_or_else(|| nothing_created_id(request))
}

fn nothing_created_id(request: &Request) -> String {
    let id: String = format!(
        "{NOTHING_CREATED_PREFIX}{}:{}",
        request.logical_resource_id, request.request_id
    );
    id.chars().take(1000).collect()
}

fn response(
    request: &Request,
    status: Status,
    physical_id: String,
    reason: Option<String>,
) -> Response {
    Response {
        status,
        reason,
        physical_resource_id: physical_id,
        stack_id: request.stack_id.clone(),
        request_id: request.request_id.clone(),
        logical_resource_id: request.logical_resource_id.clone(),
        data: Default::default(),
    }
}

fn failed(request: &Request, physical_id: String, reason: String) -> Response {
    response(request, Status::Failed, physical_id, Some(reason))
}

/// The stack resource a request comes from: the owner Create records.
fn owner_of(request: &Request) -> Owner {
    Owner {
        stack_id: request.stack_id.clone(),
        logical_id: request.logical_resource_id.clone(),
    }
}

async fn create_or_update(
    request: &Request,
    conn: &Connector,
    deadline: Deadline,
    known_id: Arc<Mutex<Option<String>>>,
    settings: &Settings,
) -> Response {
    let current_id = request.physical_resource_id.clone();
    let spec = match spec::parse(&request.properties) {
        Ok(s) => s,
        Err(e) => {
            return failed(
                request,
                current_id.unwrap_or_else(|| nothing_created_id(request)),
                e.to_string(),
            )
        }
    };
    if let Err(e) = settings.reach.check(&spec) {
        return failed(
            request,
            current_id.unwrap_or_else(|| nothing_created_id(request)),
            e.to_string(),
        );
    }
    // Destination credentials do not depend on the source identity: fetch both at once (the
    // connector keeps them; a failure here is reported by `apply`, which asks again).
    let (resolved, _) = futures::join!(
        reconcile::resolve_source(conn, &spec),
        reconcile::connect_destinations(conn, &spec)
    );
    let (src, resolved) = match resolved {
        Ok(x) => x,
        Err(e) => {
            return failed(
                request,
                current_id.unwrap_or_else(|| nothing_created_id(request)),
                e.to_string(),
            )
        }
    };
    let resolved = resolved.for_request(
        Some(owner_of(request)),
        settings.permissions_boundary.clone(),
    );
    let new_id = resolved.physical_id.clone();
    let replacing = current_id.as_ref().is_some_and(|c| c != &new_id);
    // The properties an Update replaces (same source): what they had and the new ones lack is
    // removed afterwards, and the configuration they wrote is this resource's own.
    let old = (request.kind == RequestKind::Update && !replacing)
        .then_some(request.old_properties.as_ref())
        .flatten()
        .and_then(|o| spec::parse(o).ok());
    let resolved = match &old {
        Some(old) => resolved.with_previous(old),
        None => resolved,
    };
    if request.kind == RequestKind::Update && replacing {
        tracing::info!(old = current_id.as_deref().unwrap_or(""), new = %new_id, "source changed: replacement; CloudFormation will delete the old resource");
    }
    if let Ok(mut k) = known_id.lock() {
        // A failed update keeps the old id; a create (or replacement) reports the new one.
        if request.kind == RequestKind::Create {
            *k = Some(new_id.clone());
        }
    }
    let failure_id = if request.kind == RequestKind::Create {
        new_id.clone()
    } else {
        current_id.clone().unwrap_or_else(|| new_id.clone())
    };
    let plan = match reconcile::apply(conn, &spec, &src, resolved, deadline).await {
        Ok(p) => p,
        Err(e) => return failed(request, failure_id, e.to_string()),
    };
    if let Some(old) = &old {
        if let Err(e) = reconcile::cleanup_removed(conn, old, &spec, &src, &plan, deadline).await {
            return failed(request, failure_id, format!("the new configuration is in place, but removing what the old properties had failed: {e}"));
        }
    }
    // Existing objects: once replication is on, so each job replicates under the new rules.
    let jobs = reconcile::start_jobs(
        &src,
        &spec,
        old.as_ref(),
        &plan,
        &request.request_id,
        deadline,
    );
    let job_ids = match jobs.await {
        Ok(ids) => ids,
        Err(e) => return failed(request, failure_id, format!("replication is configured, but starting the S3 Batch Replication job for existing objects failed: {e}")),
    };
    if let Err(reason) =
        crate::verify::run(conn, &spec, &plan, &src, deadline, &request.request_id).await
    {
        return failed(request, failure_id, reason.to_string());
    }
    let mut ok = response(request, Status::Success, new_id, None);
    ok.data = plan.response_data();
    ok.data.insert(
        "BatchReplicationJobIds".to_owned(),
        job_ids
            .into_iter()
            .map(Option::unwrap_or_default)
            .collect::<Vec<_>>()
            .join(","),
    );
    ok
}

async fn delete(
    request: &Request,
    conn: &Connector,
    deadline: Deadline,
    settings: &Settings,
) -> Response {
    let id = request.physical_resource_id.clone().unwrap_or_default();
    let success = || response(request, Status::Success, id.clone(), None);
    if id.starts_with(NOTHING_CREATED_PREFIX) {
        tracing::info!("nothing was created for this resource; nothing to delete");
        return success();
    }
    let Ok(spec) = spec::parse(&request.properties) else {
        tracing::info!(
            "properties are invalid, so no Create could have used them; nothing to delete"
        );
        return success();
    };
    let spec = settings.reach.reachable(&spec);
    match reconcile::cleanup(conn, &spec, &id, Some(owner_of(request)), deadline).await {
        Ok(()) => success(),
        Err(e) => failed(request, id.clone(), e.to_string()),
    }
}
