//! An in-memory stand-in for AWS's HTTP endpoints (test builds only): the SDK clients of an
//! [`Account`] talk to it through a stub HTTP client, so reconcile steps run in milliseconds
//! with no emulator. Each operation is answered from a table the test fills (an operation
//! without an answer fails with `Unstubbed`, naming it); every request is recorded, and the
//! account's [`CallLog`] gives the exact sequence of calls.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use aws_credential_types::provider::SharedCredentialsProvider;
use aws_credential_types::Credentials;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;

use super::objects::urlencode;
use super::{Account, CallLog, InFlight};
use crate::spec::{AccountId, Region};

/// The account every stubbed call is made as, and its region.
pub const ACCOUNT: &str = "111111111111";
pub const REGION: &str = "eu-west-1";

/// One request the stub received.
#[derive(Debug, Clone)]
pub struct Request {
    pub operation: String,
    pub uri: String,
    pub body: String,
}

#[derive(Debug, Clone)]
struct Answer {
    status: u16,
    body: String,
}

#[derive(Debug, Default)]
struct Table {
    answers: HashMap<String, Answer>,
    requests: Vec<Request>,
}

/// The stubbed endpoints.
#[derive(Debug, Clone, Default)]
pub struct Stub(Arc<Mutex<Table>>);

impl Stub {
    pub fn new() -> Self {
        Self::default()
    }

    /// Answers `operation` (e.g. `GetRole`, `PutBucketPolicy`) with `status` and `body` from
    /// now on.
    pub fn on(&self, operation: &str, status: u16, body: impl Into<String>) -> &Self {
        self.table().answers.insert(
            operation.to_owned(),
            Answer {
                status,
                body: body.into(),
            },
        );
        self
    }

    /// Answers `operation` with success and `body`.
    pub fn ok(&self, operation: &str, body: impl Into<String>) -> &Self {
        self.on(operation, 200, body)
    }

    /// Answers `operation` with the service's error `code` and `status`.
    pub fn error(&self, operation: &str, status: u16, code: &str) -> &Self {
        let body = error_body(service_of(operation), code, "stubbed error");
        self.on(operation, status, body)
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<Request> {
        self.table().requests.clone()
    }

    /// The body of the last `operation` request.
    pub fn body_of(&self, operation: &str) -> Option<String> {
        self.requests()
            .into_iter()
            .rev()
            .find(|r| r.operation == operation)
            .map(|r| r.body)
    }

    /// Clients for [`ACCOUNT`] in [`REGION`] whose calls this stub answers; no retries, no
    /// settle time.
    pub fn account(&self) -> Account {
        let config = aws_config::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new(REGION))
            .endpoint_url("http://stub.invalid")
            .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
                "AKIDSTUB", "stub", None, None, "stub",
            )))
            .retry_config(aws_config::retry::RetryConfig::disabled())
            .stalled_stream_protection(
                aws_config::stalled_stream_protection::StalledStreamProtectionConfig::disabled(),
            )
            .http_client(SharedHttpClient::new(self.clone()))
            .build();
        Account::new(
            AccountId::parse(ACCOUNT).expect("a valid account"),
            format!("arn:aws:iam::{ACCOUNT}:role/provider"),
            Region::parse(REGION).expect("a valid region"),
            &config,
            CallLog::default(),
            InFlight::new(16),
            std::time::Duration::ZERO,
        )
    }

    fn table(&self) -> std::sync::MutexGuard<'_, Table> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn answer(&self, request: &HttpRequest) -> HttpResponse {
        let body = request
            .body()
            .bytes()
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .unwrap_or_default();
        let operation = operation_of(request, &body);
        let mut table = self.table();
        table.requests.push(Request {
            operation: operation.clone(),
            uri: request.uri().to_owned(),
            body,
        });
        let answer = table
            .answers
            .get(&operation)
            .cloned()
            .unwrap_or_else(|| Answer {
                status: 400,
                body: error_body(
                    service_of(&operation),
                    "Unstubbed",
                    &format!("the test gave no answer for {operation}"),
                ),
            });
        HttpResponse::new(
            StatusCode::try_from(answer.status).expect("a valid status"),
            SdkBody::from(answer.body),
        )
    }
}

impl HttpConnector for Stub {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        HttpConnectorFuture::ready(Ok(self.answer(&request)))
    }
}

impl HttpClient for Stub {
    fn http_connector(
        &self,
        _: &HttpConnectorSettings,
        _: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(self.clone())
    }
}

/// The operation a request is: KMS names it in a header, IAM in its form body, S3 by method and
/// sub-resource.
fn operation_of(request: &HttpRequest, body: &str) -> String {
    if let Some(target) = request.headers().get("x-amz-target") {
        return target.rsplit('.').next().unwrap_or(target).to_owned();
    }
    if let Some(action) = body
        .split('&')
        .find_map(|pair| pair.strip_prefix("Action="))
    {
        return action.to_owned();
    }
    let query = request.uri().split_once('?').map_or("", |(_, q)| q);
    let sub = query
        .split('&')
        .map(|p| p.split('=').next().unwrap_or_default())
        .find(|k| !k.is_empty() && *k != "x-id")
        .unwrap_or("");
    let method = request.method();
    let name = match sub {
        "policy" => "BucketPolicy",
        "replication" => "BucketReplication",
        "versioning" => "BucketVersioning",
        "encryption" => "BucketEncryption",
        "location" => "BucketLocation",
        "publicAccessBlock" => "PublicAccessBlock",
        "ownershipControls" => "BucketOwnershipControls",
        "notification" => "BucketNotificationConfiguration",
        "" if method == "PUT" => return "CreateBucket".to_owned(),
        "" if method == "HEAD" => return "HeadBucket".to_owned(),
        other => return format!("{method} ?{other}"),
    };
    let verb = match method {
        "GET" => "Get",
        "PUT" => "Put",
        "DELETE" => "Delete",
        other => other,
    };
    format!("{verb}{name}")
}

/// Which service an operation belongs to, by the names this crate calls.
fn service_of(operation: &str) -> &'static str {
    const KMS: &[&str] = &[
        "DescribeKey",
        "GetKeyPolicy",
        "PutKeyPolicy",
        "CreateKey",
        "CreateAlias",
        "DeleteAlias",
        "EnableKeyRotation",
        "GetKeyRotationStatus",
        "ListResourceTags",
        "ScheduleKeyDeletion",
    ];
    if KMS.contains(&operation) {
        "kms"
    } else if operation.ends_with("TopicAttributes") {
        "sns"
    } else if operation.contains("Role") || operation.starts_with("List") {
        "iam"
    } else {
        "s3"
    }
}

/// An error in the service's own protocol.
fn error_body(service: &str, code: &str, message: &str) -> String {
    match service {
        "kms" => serde_json::json!({"__type": code, "message": message}).to_string(),
        "iam" | "sns" => format!(
            "<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>stub</RequestId></ErrorResponse>"
        ),
        _ => format!("<Error><Code>{code}</Code><Message>{message}</Message></Error>"),
    }
}

/// SNS's GetTopicAttributes answer with this `Policy` attribute.
pub fn topic_attributes(policy: &str) -> String {
    let policy = policy
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;");
    format!(
        "<GetTopicAttributesResponse xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\"><GetTopicAttributesResult><Attributes><entry><key>Policy</key><value>{policy}</value></entry></Attributes></GetTopicAttributesResult><ResponseMetadata><RequestId>stub</RequestId></ResponseMetadata></GetTopicAttributesResponse>"
    )
}

/// IAM's answer to `operation` with `result` inside its `Result` element (empty: none).
pub fn iam(operation: &str, result: &str) -> String {
    let result = if result.is_empty() {
        String::new()
    } else {
        format!("<{operation}Result>{result}</{operation}Result>")
    };
    format!(
        "<{operation}Response xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">{result}<ResponseMetadata><RequestId>stub</RequestId></ResponseMetadata></{operation}Response>"
    )
}

/// A role as IAM describes it: its trust policy, boundary and tags.
pub fn role(name: &str, trust: &str, boundary: Option<&str>, tags: &[(&str, &str)]) -> String {
    let boundary = boundary.map_or(String::new(), |b| {
        format!("<PermissionsBoundary><PermissionsBoundaryType>Policy</PermissionsBoundaryType><PermissionsBoundaryArn>{b}</PermissionsBoundaryArn></PermissionsBoundary>")
    });
    let tags: String = tags
        .iter()
        .map(|(k, v)| {
            format!(
                "<member><Key>{}</Key><Value>{}</Value></member>",
                xml(k),
                xml(v)
            )
        })
        .collect();
    format!(
        "<Role><Path>/s3-replication/</Path><RoleName>{name}</RoleName><RoleId>AROASTUB</RoleId><Arn>arn:aws:iam::{ACCOUNT}:role/s3-replication/{name}</Arn><CreateDate>2026-01-01T00:00:00Z</CreateDate><AssumeRolePolicyDocument>{}</AssumeRolePolicyDocument>{boundary}<Tags>{tags}</Tags></Role>",
        urlencode(trust)
    )
}

/// A role's inline policy as `GetRolePolicy` returns it.
pub fn role_policy(role: &str, name: &str, document: &str) -> String {
    format!(
        "<RoleName>{role}</RoleName><PolicyName>{name}</PolicyName><PolicyDocument>{}</PolicyDocument>",
        urlencode(document)
    )
}

fn xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
