//! Incoming requests: well-formed events through `aws_lambda_events`' types, with enough
//! leniency to still answer a malformed one when it carries a `ResponseURL`.

use aws_lambda_events::event::cloudformation::CloudFormationCustomResourceRequest as CfnRequest;
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestKind {
    Create,
    Update,
    Delete,
}

/// A request, normalised across the three kinds.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub kind: RequestKind,
    pub response_url: String,
    pub stack_id: String,
    pub request_id: String,
    pub logical_resource_id: String,
    pub resource_type: String,
    /// Absent on Create.
    pub physical_resource_id: Option<String>,
    pub properties: Value,
    /// Only on Update.
    pub old_properties: Option<Value>,
}

/// An event that is not a valid request. When it still names a `ResponseURL` (and the ids to
/// echo), `answer_to` carries what is needed to send FAILED.
#[derive(Debug, Clone, PartialEq)]
pub struct Malformed {
    pub why: String,
    pub answer_to: Option<Box<Request>>,
}

/// A [`Request`] from one of `aws_lambda_events`' three request types (same field names,
/// different types).
macro_rules! request {
    ($kind:ident, $r:ident, $physical:expr, $old:expr) => {
        Request {
            kind: RequestKind::$kind,
            response_url: $r.response_url,
            stack_id: $r.stack_id,
            request_id: $r.request_id,
            logical_resource_id: $r.logical_resource_id,
            resource_type: $r.resource_type,
            physical_resource_id: $physical,
            properties: $r.resource_properties,
            old_properties: $old,
        }
    };
}

/// Parses a Lambda event into a [`Request`].
pub fn parse_event(event: Value) -> Result<Request, Malformed> {
    match serde_json::from_value::<CfnRequest>(event.clone()) {
        Ok(CfnRequest::Create(r)) => Ok(request!(Create, r, None, None)),
        Ok(CfnRequest::Update(r)) => Ok(request!(
            Update,
            r,
            Some(r.physical_resource_id),
            Some(r.old_resource_properties)
        )),
        Ok(CfnRequest::Delete(r)) => Ok(request!(Delete, r, Some(r.physical_resource_id), None)),
        Ok(_) => Err(lenient(&event, "unsupported RequestType".to_owned())),
        Err(e) => Err(lenient(
            &event,
            format!("not a CloudFormation custom resource request: {e}"),
        )),
    }
}

/// Pulls out what an answer needs from an event that failed to parse.
fn lenient(event: &Value, why: String) -> Malformed {
    let text = |k: &str| event.get(k).and_then(Value::as_str).map(str::to_owned);
    let answer_to = text("ResponseURL")
        .filter(|u| u.starts_with("http"))
        .map(|response_url| Request {
            kind: match text("RequestType").as_deref() {
                Some("Update") => RequestKind::Update,
                Some("Delete") => RequestKind::Delete,
                _ => RequestKind::Create,
            },
            response_url,
            stack_id: text("StackId").unwrap_or_default(),
            request_id: text("RequestId").unwrap_or_default(),
            logical_resource_id: text("LogicalResourceId").unwrap_or_default(),
            resource_type: text("ResourceType").unwrap_or_default(),
            physical_resource_id: text("PhysicalResourceId"),
            properties: event
                .get("ResourceProperties")
                .cloned()
                .unwrap_or(Value::Null),
            old_properties: None,
        });
    let why = match event.get("RequestType") {
        Some(Value::String(t)) if !["Create", "Update", "Delete"].contains(&t.as_str()) => {
            format!("unsupported RequestType {t:?}; expected Create, Update or Delete")
        }
        _ => why,
    };
    Malformed {
        why,
        answer_to: answer_to.map(Box::new),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn base(kind: &str) -> Value {
        json!({
            "RequestType": kind, "ResponseURL": "https://example.invalid/r?X-Amz-Signature=s",
            "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/s/1", "RequestId": "req",
            "LogicalResourceId": "Repl", "ResourceType": "Custom::S3Replication",
            "ResourceProperties": {"ServiceToken": "arn", "SourceBucket": "b"}
        })
    }

    #[test]
    fn parses_the_three_kinds() {
        assert_eq!(
            parse_event(base("Create")).unwrap().kind,
            RequestKind::Create
        );
        let mut u = base("Update");
        u["PhysicalResourceId"] = json!("p");
        u["OldResourceProperties"] = json!({});
        let u = parse_event(u).unwrap();
        assert_eq!(
            (u.kind, u.physical_resource_id.as_deref()),
            (RequestKind::Update, Some("p"))
        );
        let mut d = base("Delete");
        d["PhysicalResourceId"] = json!("p");
        assert_eq!(parse_event(d).unwrap().kind, RequestKind::Delete);
    }

    #[test]
    fn unknown_request_type_is_answerable() {
        let m = parse_event(base("Upsert")).unwrap_err();
        assert!(m.why.contains("Upsert"), "{}", m.why);
        assert_eq!(m.answer_to.unwrap().request_id, "req");
    }

    #[test]
    fn missing_response_url_is_not_answerable() {
        let mut e = base("Create");
        e.as_object_mut().unwrap().remove("ResponseURL");
        assert!(parse_event(e).unwrap_err().answer_to.is_none());
        assert!(parse_event(json!("hello")).unwrap_err().answer_to.is_none());
    }
}
