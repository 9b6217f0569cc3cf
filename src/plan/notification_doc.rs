//! Editing a bucket's event notification configuration, which its owner and other tools also
//! write: add, replace or remove one configuration by `Id`, keeping every other configuration
//! (topic, queue, Lambda, EventBridge) exactly as read.
//!
//! The document is the JSON form the `aws` module reads and writes:
//! `{"TopicConfigurations": [..], "QueueConfigurations": [..],
//! "LambdaFunctionConfigurations": [..], "EventBridgeConfiguration": {}}`, each configuration
//! `{"Id", "TopicArn" | "QueueArn" | "LambdaFunctionArn", "Events": [..], "Filter"?}`.

use serde_json::{Map, Value};

use super::policy_doc::PolicyParseError;

/// The lists of configurations, each keyed by the ARN member its entries carry.
const LISTS: [(&str, &str); 3] = [
    ("TopicConfigurations", "TopicArn"),
    ("QueueConfigurations", "QueueArn"),
    ("LambdaFunctionConfigurations", "LambdaFunctionArn"),
];

#[derive(Debug, Clone, Default, PartialEq)]
pub struct NotificationDocument(Map<String, Value>);

impl NotificationDocument {
    /// Parses a document; `None` is a bucket without notifications.
    pub fn parse_or_new(text: Option<&str>) -> Result<Self, PolicyParseError> {
        let Some(text) = text else {
            return Ok(Self::default());
        };
        match serde_json::from_str(text) {
            Ok(Value::Object(map)) => Ok(Self(map)),
            _ => Err(PolicyParseError::new(
                "the notification configuration is not a JSON object",
            )),
        }
    }

    fn list(&self, key: &str) -> &[Value] {
        self.0
            .get(key)
            .and_then(Value::as_array)
            .map_or(&[], Vec::as_slice)
    }

    /// The configuration with this `Id`, in whichever list it is.
    pub fn get(&self, id: &str) -> Option<&Value> {
        LISTS
            .iter()
            .flat_map(|(list, _)| self.list(list))
            .find(|c| c["Id"] == id)
    }

    /// Puts `config` (which carries `id` and one ARN member) in place of the configuration with
    /// that Id, or adds it. Returns false when an equivalent one is already there.
    pub fn upsert(&mut self, id: &str, config: &Value) -> bool {
        if self.get(id).is_some_and(|c| same(c, config)) {
            return false;
        }
        let list = LISTS
            .iter()
            .find(|(_, arn)| config.get(*arn).is_some())
            .map_or(LISTS[0].0, |(list, _)| *list);
        let position = self.list(list).iter().position(|c| c["Id"] == id);
        self.remove(id);
        let entries = self
            .0
            .entry(list)
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(entries) = entries {
            let at = position.unwrap_or(entries.len()).min(entries.len());
            entries.insert(at, config.clone());
        }
        true
    }

    /// Removes the configuration with this `Id`; returns whether it was there.
    pub fn remove(&mut self, id: &str) -> bool {
        let mut removed = false;
        for (list, _) in LISTS {
            if let Some(Value::Array(entries)) = self.0.get_mut(list) {
                let before = entries.len();
                entries.retain(|c| c["Id"] != id);
                removed |= entries.len() != before;
            }
        }
        removed
    }

    /// No configuration at all (EventBridge delivery counts as one).
    pub fn is_empty(&self) -> bool {
        LISTS.iter().all(|(list, _)| self.list(list).is_empty())
            && self.0.get("EventBridgeConfiguration").is_none()
    }

    pub fn render(&self) -> String {
        Value::Object(self.0.clone()).to_string()
    }
}

/// Equal, whatever the order of the events (S3 stores them as a set).
fn same(a: &Value, b: &Value) -> bool {
    let events = |v: &Value| {
        let mut e: Vec<String> = v["Events"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        e.sort();
        e
    };
    let rest = |v: &Value| {
        let mut v = v.clone();
        if let Some(m) = v.as_object_mut() {
            m.remove("Events");
        }
        v
    };
    events(a) == events(b) && rest(a) == rest(b)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn theirs() -> &'static str {
        r#"{"QueueConfigurations":[{"Id":"theirs","QueueArn":"arn:aws:sqs:eu-west-1:1:q","Events":["s3:ObjectCreated:*"],"Filter":{"Key":{"FilterRules":[{"Name":"prefix","Value":"in/"}]}}}],"EventBridgeConfiguration":{}}"#
    }

    fn ours(events: &[&str]) -> Value {
        json!({"Id": "ours", "TopicArn": "arn:aws:sns:eu-west-1:1:t", "Events": events})
    }

    #[test]
    fn adds_ours_and_keeps_every_other_configuration() {
        let mut doc = NotificationDocument::parse_or_new(Some(theirs())).unwrap();
        assert!(doc.upsert("ours", &ours(&["a"])));
        let after: Value = serde_json::from_str(&doc.render()).unwrap();
        let before: Value = serde_json::from_str(theirs()).unwrap();
        assert_eq!(after["QueueConfigurations"], before["QueueConfigurations"]);
        assert_eq!(after["EventBridgeConfiguration"], json!({}));
        assert_eq!(after["TopicConfigurations"], json!([ours(&["a"])]));
    }

    #[test]
    fn an_equivalent_configuration_is_no_change_and_a_changed_one_is_replaced_in_place() {
        let mut doc = NotificationDocument::default();
        assert!(doc.upsert("ours", &ours(&["a", "b"])));
        assert!(!doc.upsert("ours", &ours(&["b", "a"])));
        assert!(doc.upsert("ours", &ours(&["a"])));
        assert_eq!(doc.get("ours"), Some(&ours(&["a"])));
        // Moving from a topic to a queue leaves no topic configuration behind.
        let queue = json!({"Id": "ours", "QueueArn": "arn:aws:sqs:eu-west-1:1:q", "Events": ["a"]});
        assert!(doc.upsert("ours", &queue));
        let v: Value = serde_json::from_str(&doc.render()).unwrap();
        assert_eq!(v["TopicConfigurations"], json!([]));
        assert_eq!(v["QueueConfigurations"], json!([queue]));
    }

    #[test]
    fn removing_ours_leaves_theirs_and_empty_means_nothing_left() {
        let mut doc = NotificationDocument::parse_or_new(Some(theirs())).unwrap();
        doc.upsert("ours", &ours(&["a"]));
        assert!(doc.remove("ours"));
        assert!(!doc.remove("ours"));
        assert!(doc.get("theirs").is_some() && !doc.is_empty());
        let mut only_ours = NotificationDocument::parse_or_new(None).unwrap();
        only_ours.upsert("ours", &ours(&["a"]));
        assert!(!only_ours.is_empty());
        only_ours.remove("ours");
        assert!(only_ours.is_empty());
        assert!(NotificationDocument::parse_or_new(Some("[1]")).is_err());
    }
}
