//! Editing a policy someone else owns: add, replace or remove statements by `Sid` while every
//! other statement, and the document's other members, are kept byte for byte.

use indexmap::IndexMap;
use serde_json::value::RawValue;
use serde_json::Value;

#[derive(Debug, thiserror::Error)]
#[error("the existing policy is not a JSON policy document ({0}); fix or remove it by hand")]
pub struct PolicyParseError(String);

impl PolicyParseError {
    pub fn new(why: impl Into<String>) -> Self {
        Self(why.into())
    }
}

/// A parsed policy whose statements are kept as the exact text they were read as.
#[derive(Debug, Clone)]
pub struct PolicyDocument {
    /// Top-level members in their original order and text; `Statement` is kept separately.
    members: IndexMap<String, Box<RawValue>>,
    statements: Vec<Box<RawValue>>,
}

impl PolicyDocument {
    /// An empty document with `Version: 2012-10-17`.
    pub fn new() -> Self {
        let mut members = IndexMap::new();
        members.insert("Version".to_owned(), raw(&Value::from("2012-10-17")));
        members.insert("Statement".to_owned(), raw(&Value::Array(vec![])));
        Self {
            members,
            statements: Vec::new(),
        }
    }

    /// Parses an existing document; `Statement` may be a list or a single object.
    pub fn parse(text: &str) -> Result<Self, PolicyParseError> {
        let members: IndexMap<String, Box<RawValue>> =
            serde_json::from_str(text).map_err(|e| PolicyParseError(e.to_string()))?;
        let statements = match members.get("Statement") {
            None => Vec::new(),
            Some(s) if s.get().trim_start().starts_with('[') => {
                serde_json::from_str(s.get()).map_err(|e| PolicyParseError(e.to_string()))?
            }
            Some(s) => vec![s.clone()],
        };
        for s in &statements {
            serde_json::from_str::<serde_json::Map<String, Value>>(s.get())
                .map_err(|_| PolicyParseError("a statement is not an object".into()))?;
        }
        let mut doc = Self {
            members,
            statements,
        };
        doc.members
            .entry("Statement".to_owned())
            .or_insert_with(|| raw(&Value::Array(vec![])));
        Ok(doc)
    }

    /// Parses `text`, or starts a new document when there is none.
    pub fn parse_or_new(text: Option<&str>) -> Result<Self, PolicyParseError> {
        text.map_or_else(|| Ok(Self::new()), Self::parse)
    }

    pub fn len(&self) -> usize {
        self.statements.len()
    }

    pub fn is_empty(&self) -> bool {
        self.statements.is_empty()
    }

    /// The statement with this `Sid`, parsed.
    pub fn get(&self, sid: &str) -> Option<Value> {
        self.position(sid)
            .and_then(|i| serde_json::from_str(self.statements[i].get()).ok())
    }

    /// Every statement, parsed, in order.
    pub fn statements(&self) -> Vec<Value> {
        self.statements
            .iter()
            .filter_map(|s| serde_json::from_str(s.get()).ok())
            .collect()
    }

    /// Every `Sid` in the document, in order.
    pub fn sids(&self) -> Vec<String> {
        self.statements.iter().filter_map(|s| sid_of(s)).collect()
    }

    /// Puts `statement` (which carries `sid`) in place of the statement with that Sid, or appends
    /// it. Returns false when an equivalent statement is already there (nothing changed).
    pub fn upsert(&mut self, sid: &str, statement: &Value) -> bool {
        match self.position(sid) {
            Some(i) => {
                let current: Value =
                    serde_json::from_str(self.statements[i].get()).unwrap_or(Value::Null);
                if equivalent(&current, statement) {
                    return false;
                }
                self.statements[i] = raw(statement);
            }
            None => self.statements.push(raw(statement)),
        }
        true
    }

    /// Puts `statement` in the place of the statement with the `Sid` `old` (a statement whose
    /// `Sid` is upgraded keeps its position), or appends it when there is none.
    pub fn replace(&mut self, old: &str, statement: &Value) -> bool {
        match self.position(old) {
            Some(i) => self.statements[i] = raw(statement),
            None => self.statements.push(raw(statement)),
        }
        true
    }

    /// Removes every statement with this `Sid`; returns whether one was there.
    pub fn remove(&mut self, sid: &str) -> bool {
        let before = self.statements.len();
        self.statements
            .retain(|s| sid_of(s).as_deref() != Some(sid));
        before != self.statements.len()
    }

    /// The document as compact JSON, other members and statements in their original text.
    pub fn render(&self) -> String {
        let mut out = String::from("{");
        for (i, (key, value)) in self.members.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(&Value::from(key.as_str()).to_string());
            out.push(':');
            if key == "Statement" {
                out.push('[');
                let parts: Vec<&str> = self.statements.iter().map(|s| s.get()).collect();
                out.push_str(&parts.join(","));
                out.push(']');
            } else {
                out.push_str(value.get());
            }
        }
        out.push('}');
        out
    }

    fn position(&self, sid: &str) -> Option<usize> {
        self.statements
            .iter()
            .position(|s| sid_of(s).as_deref() == Some(sid))
    }
}

impl Default for PolicyDocument {
    fn default() -> Self {
        Self::new()
    }
}

fn raw(v: &Value) -> Box<RawValue> {
    RawValue::from_string(v.to_string()).expect("serde_json renders valid JSON")
}

fn sid_of(statement: &RawValue) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct WithSid {
        #[serde(rename = "Sid")]
        sid: Option<String>,
    }
    serde_json::from_str::<WithSid>(statement.get()).ok()?.sid
}

/// Policy equality as AWS means it: a one-element list equals its element, and the order of
/// list elements does not matter.
pub fn equivalent(a: &Value, b: &Value) -> bool {
    normalize(a) == normalize(b)
}

fn normalize(v: &Value) -> Value {
    match v {
        Value::Array(items) if items.len() == 1 => normalize(&items[0]),
        Value::Array(items) => {
            let mut n: Vec<Value> = items.iter().map(normalize).collect();
            n.sort_by_key(|x| x.to_string());
            n.dedup();
            Value::Array(n)
        }
        Value::Object(map) => {
            Value::Object(map.iter().map(|(k, v)| (k.clone(), normalize(v))).collect())
        }
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const FOREIGN: &str = r#"{
  "Version": "2012-10-17",
  "Id": "keep-me",
  "Statement": [
    {"Sid":"Other",  "Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"},
    {"Effect" : "Deny", "Principal":"*", "Action":"s3:*", "Resource":["arn:aws:s3:::b","arn:aws:s3:::b/*"], "Condition":{"Bool":{"aws:SecureTransport":"false"}}}
  ]
}"#;

    #[test]
    fn other_statements_survive_byte_for_byte() {
        let mut doc = PolicyDocument::parse(FOREIGN).unwrap();
        let ours = json!({"Sid":"Mine","Effect":"Allow","Action":"s3:ReplicateObject"});
        assert!(doc.upsert("Mine", &ours));
        let out = doc.render();
        assert!(out.contains(r#"{"Sid":"Other",  "Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}"#));
        assert!(out.contains(r#"{"Effect" : "Deny", "Principal":"*""#));
        assert!(out.contains(r#""Id":"keep-me""#));
        let mut again = PolicyDocument::parse(&out).unwrap();
        assert!(
            !again.upsert("Mine", &ours),
            "second upsert must be a no-op"
        );
        assert!(again.remove("Mine"));
        assert_eq!(again.len(), 2);
        assert!(!again.remove("Mine"));
    }

    #[test]
    fn single_statement_object_is_accepted() {
        let mut doc = PolicyDocument::parse(
            r#"{"Version":"2012-10-17","Statement":{"Sid":"A","Effect":"Allow"}}"#,
        )
        .unwrap();
        assert_eq!(doc.sids(), vec!["A"]);
        doc.upsert("B", &json!({"Sid":"B"}));
        assert_eq!(
            PolicyDocument::parse(&doc.render()).unwrap().sids(),
            vec!["A", "B"]
        );
    }

    #[test]
    fn equivalence_ignores_list_order_and_singletons() {
        assert!(equivalent(
            &json!({"Action":["a","b"],"R":["x"]}),
            &json!({"R":"x","Action":["b","a"]})
        ));
        assert!(!equivalent(
            &json!({"Action":["a"]}),
            &json!({"Action":["a","b"]})
        ));
    }

    #[test]
    fn changed_statement_is_replaced_in_place() {
        let mut doc = PolicyDocument::parse(FOREIGN).unwrap();
        assert!(doc.upsert("Other", &json!({"Sid":"Other","Effect":"Deny"})));
        assert_eq!(doc.sids(), vec!["Other"]);
        assert_eq!(doc.get("Other").unwrap()["Effect"], "Deny");
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(PolicyDocument::parse("not json").is_err());
        assert!(PolicyDocument::parse(r#"{"Statement":[1]}"#).is_err());
    }
}
