//! The response body CloudFormation reads from the pre-signed URL.

use std::collections::BTreeMap;

use serde::Serialize;

/// CloudFormation rejects response bodies above 4096 bytes.
pub const MAX_BODY: usize = 4096;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Status {
    Success,
    Failed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Response {
    pub status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub physical_resource_id: String,
    pub stack_id: String,
    pub request_id: String,
    pub logical_resource_id: String,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub data: BTreeMap<String, String>,
}

impl Response {
    /// The JSON body, at most [`MAX_BODY`] bytes: a long reason is cut (on a character
    /// boundary, marked with "…"); if the data alone is too large it is dropped and the
    /// response turned into a FAILED one saying so.
    pub fn body(&self) -> String {
        let full = serde_json::to_string(self).expect("plain data serializes");
        if full.len() <= MAX_BODY {
            return full;
        }
        let mut r = self.clone();
        if let Some(reason) = &self.reason {
            // JSON escaping can make the reason longer on the wire than in memory: cut until it fits.
            let mut keep = reason.len();
            while keep > 0 {
                let body_len = serde_json::to_string(&r)
                    .expect("plain data serializes")
                    .len();
                keep = keep.saturating_sub((body_len.saturating_sub(MAX_BODY)).max(64));
                while !reason.is_char_boundary(keep) {
                    keep -= 1;
                }
                r.reason = Some(format!("{}…", &reason[..keep]));
                let body = serde_json::to_string(&r).expect("plain data serializes");
                if body.len() <= MAX_BODY {
                    return body;
                }
            }
        }
        r.data.clear();
        r.status = Status::Failed;
        r.reason = Some("the response data exceeded CloudFormation's 4096-byte limit".to_owned());
        serde_json::to_string(&r).expect("plain data serializes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resp(reason: Option<String>) -> Response {
        Response {
            status: Status::Failed,
            reason,
            physical_resource_id: "p".into(),
            stack_id: "s".into(),
            request_id: "r".into(),
            logical_resource_id: "l".into(),
            data: BTreeMap::new(),
        }
    }

    #[test]
    fn long_reasons_are_truncated_to_fit() {
        for reason in [
            "x".repeat(10_000),
            "é\"\\".repeat(3_000),
            "\u{1F600}".repeat(2_000),
        ] {
            let body = resp(Some(reason)).body();
            assert!(body.len() <= MAX_BODY, "{}", body.len());
            let v: serde_json::Value = serde_json::from_str(&body).unwrap();
            assert!(v["Reason"].as_str().unwrap().ends_with('…'));
        }
    }

    #[test]
    fn short_bodies_are_untouched_and_omit_empty_fields() {
        let mut r = resp(None);
        r.status = Status::Success;
        assert_eq!(
            r.body(),
            r#"{"Status":"SUCCESS","PhysicalResourceId":"p","StackId":"s","RequestId":"r","LogicalResourceId":"l"}"#
        );
    }
}
