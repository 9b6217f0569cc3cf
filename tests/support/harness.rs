//! The handler in-process against the emulator (optionally through the fault proxy), with the
//! response receiver: one call per CloudFormation request, returning what was answered and
//! every AWS call made.

use std::time::Duration;

use aws_config::{BehaviorVersion, Region};
use aws_credential_types::Credentials;
use s3_replication_provider::aws::Call;
use s3_replication_provider::handler::{Outcome, Provider, Settings};
use serde_json::Value;

use super::proxy::FaultProxy;
use super::{cfn_event_from, test_stack_id, Emulator, Receiver, RecordedRequest};

/// Region the function runs in.
pub const HOME_REGION: &str = "eu-west-1";

pub struct Harness {
    pub emu: Emulator,
    pub rx: Receiver,
    pub proxy: FaultProxy,
    provider: Provider,
}

/// One answered request.
pub struct Answered {
    pub response: Value,
    pub outcome: Outcome,
    /// The PUT the receiver accepted for this request.
    pub puts: Vec<RecordedRequest>,
}

impl Answered {
    pub fn status(&self) -> &str {
        self.response["Status"].as_str().unwrap_or_default()
    }
    pub fn reason(&self) -> &str {
        self.response["Reason"].as_str().unwrap_or_default()
    }
    pub fn physical_id(&self) -> &str {
        self.response["PhysicalResourceId"]
            .as_str()
            .unwrap_or_default()
    }
    pub fn data(&self, key: &str) -> &str {
        self.response["Data"][key].as_str().unwrap_or_default()
    }
    /// Successful mutating AWS calls.
    pub fn mutations(&self) -> Vec<&Call> {
        self.outcome
            .calls
            .iter()
            .filter(|c| c.mutating && c.ok)
            .collect()
    }
    pub fn called(&self, operation: &str) -> bool {
        self.outcome.calls.iter().any(|c| c.operation == operation)
    }
    #[track_caller]
    pub fn assert_success(&self) {
        assert_eq!(self.status(), "SUCCESS", "reason: {}", self.reason());
    }
    #[track_caller]
    pub fn assert_failed_with(&self, needles: &[&str]) {
        assert_eq!(
            self.status(),
            "FAILED",
            "expected FAILED, got {}",
            self.response
        );
        for n in needles {
            assert!(
                self.reason().contains(n),
                "reason lacks {n:?}: {}",
                self.reason()
            );
        }
    }
}

impl Harness {
    pub async fn start() -> Harness {
        Self::with_settings(Settings {
            time_budget: Duration::from_secs(60),
            ..super::local_settings()
        })
        .await
    }

    /// A harness whose handler has `settings`, with its receiver admitted as a ResponseURL
    /// whatever they say.
    pub async fn with_settings(settings: Settings) -> Harness {
        let settings = Settings {
            response_urls: super::local_settings().response_urls,
            ..settings
        };
        let emu = Emulator::start().await;
        let rx = Receiver::start().await;
        let proxy = FaultProxy::start(emu.port());
        let base = aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(HOME_REGION))
            .endpoint_url(proxy.endpoint())
            .credentials_provider(Credentials::new(
                "testing", "testing", None, None, "harness",
            ))
            .load()
            .await;
        let provider = Provider::new(base, settings);
        Harness {
            emu,
            rx,
            proxy,
            provider,
        }
    }

    /// Sends one request through the handler and checks it was answered exactly once, with an
    /// empty Content-Type and a body within CloudFormation's limit; a Create or Update that
    /// answered SUCCESS must also leave a live state the doctor passes in every link (the
    /// oracle: moto evaluates no policy).
    pub async fn request(
        &self,
        kind: &str,
        props: &Value,
        physical_id: Option<&str>,
        old: Option<&Value>,
    ) -> Answered {
        let answered = self.request_unchecked(kind, props, physical_id, old).await;
        if matches!(kind, "Create" | "Update") && answered.status() == "SUCCESS" {
            super::oracle::assert_healthy(&self.emu, props, kind).await;
        }
        answered
    }

    /// [`Harness::request`] without the oracle: for tests that leave a broken chain on purpose
    /// (and assert on the doctor's findings themselves).
    pub async fn request_unchecked(
        &self,
        kind: &str,
        props: &Value,
        physical_id: Option<&str>,
        old: Option<&Value>,
    ) -> Answered {
        self.request_from(&test_stack_id(), kind, props, physical_id, old)
            .await
    }

    /// A request from the stack `stack_id` (see [`super::stack_id`]), without the oracle.
    pub async fn request_from(
        &self,
        stack_id: &str,
        kind: &str,
        props: &Value,
        physical_id: Option<&str>,
        old: Option<&Value>,
    ) -> Answered {
        let id = super::uuid();
        let event = cfn_event_from(
            stack_id,
            kind,
            &self.rx.url(&id),
            props.clone(),
            physical_id,
            old.cloned(),
        );
        let outcome = Box::pin(self.provider.handle(event, None)).await;
        assert!(outcome.delivered, "response not delivered");
        let puts: Vec<RecordedRequest> = self
            .rx
            .requests()
            .into_iter()
            .filter(|r| r.response_id() == id && r.status < 300)
            .collect();
        assert_eq!(puts.len(), 1, "exactly one accepted answer per request");
        let put = &puts[0];
        assert_eq!(put.method, "PUT");
        assert_eq!(
            put.header("content-type").unwrap_or(""),
            "",
            "Content-Type must be empty"
        );
        assert!(put.body.len() <= 4096, "body of {} bytes", put.body.len());
        let response = put.json().expect("response body is JSON");
        assert_eq!(
            Some(&response),
            outcome
                .response
                .as_ref()
                .map(|r| serde_json::from_str::<Value>(&r.body()).unwrap())
                .as_ref()
        );
        Answered {
            response,
            outcome,
            puts,
        }
    }

    pub fn provider(&self) -> &Provider {
        &self.provider
    }

    pub async fn create(&self, props: &Value) -> Answered {
        self.request("Create", props, None, None).await
    }
    pub async fn update(&self, props: &Value, physical_id: &str, old: &Value) -> Answered {
        self.request("Update", props, Some(physical_id), Some(old))
            .await
    }
    pub async fn delete(&self, props: &Value, physical_id: &str) -> Answered {
        self.request("Delete", props, Some(physical_id), None).await
    }
}
