//! Reading one JSON object of properties, tolerant of CloudFormation's stringly-typed scalars,
//! collecting every error instead of stopping at the first.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use super::SpecError;

/// A property object being read; remembers which keys were consumed so the leftovers can be
/// reported as unknown properties.
pub struct Fields<'a> {
    path: String,
    map: &'a Map<String, Value>,
    seen: BTreeSet<&'static str>,
    pub errors: &'a mut Vec<SpecError>,
}

impl<'a> Fields<'a> {
    pub fn new(path: String, map: &'a Map<String, Value>, errors: &'a mut Vec<SpecError>) -> Self {
        Self {
            path,
            map,
            seen: BTreeSet::new(),
            errors,
        }
    }

    pub fn path(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_owned()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    pub fn error(&mut self, key: &str, message: impl Into<String>) {
        let property = self.path(key);
        self.errors.push(SpecError::new(property, message));
    }

    /// The raw value of `key`; JSON `null` counts as absent.
    pub fn raw(&mut self, key: &'static str) -> Option<&'a Value> {
        self.seen.insert(key);
        self.map.get(key).filter(|v| !v.is_null())
    }

    /// A scalar as a string (numbers and booleans are accepted and stringified).
    pub fn string(&mut self, key: &'static str) -> Option<String> {
        match self.raw(key)? {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            other => {
                let kind = kind_of(other);
                self.error(key, format!("must be a string, got {kind}"));
                None
            }
        }
    }

    /// A string that must be present and non-empty.
    pub fn required(&mut self, key: &'static str) -> Option<String> {
        match self.string(key) {
            Some(s) if !s.trim().is_empty() => Some(s),
            Some(_) => {
                self.error(key, "must not be empty");
                None
            }
            None if self.map.get(key).is_some_and(|v| !v.is_null()) => None,
            None => {
                self.error(key, "is required");
                None
            }
        }
    }

    /// `true`/`false`, as JSON booleans or the strings CloudFormation sends.
    pub fn boolean(&mut self, key: &'static str) -> Option<bool> {
        match self.raw(key)? {
            Value::Bool(b) => Some(*b),
            Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
            Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
            other => {
                let shown = show(other);
                self.error(key, format!("must be true or false, got {shown}"));
                None
            }
        }
    }

    /// An integer in `range`, as a JSON number or a decimal string.
    pub fn integer(
        &mut self,
        key: &'static str,
        range: std::ops::RangeInclusive<i64>,
    ) -> Option<i64> {
        let value = self.raw(key)?;
        let parsed = match value {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.trim().parse::<i64>().ok(),
            _ => None,
        };
        match parsed {
            Some(n) if range.contains(&n) => Some(n),
            _ => {
                let shown = show(value);
                self.error(
                    key,
                    format!(
                        "must be an integer from {} to {}, got {shown}",
                        range.start(),
                        range.end()
                    ),
                );
                None
            }
        }
    }

    /// A JSON object, or `None` (with an error) for anything else.
    pub fn object(&mut self, key: &'static str) -> Option<&'a Map<String, Value>> {
        match self.raw(key)? {
            Value::Object(m) => Some(m),
            other => {
                let kind = kind_of(other);
                self.error(
                    key,
                    format!("must be an object (a map of names to values), got {kind}"),
                );
                None
            }
        }
    }

    /// A JSON array, or `None` (with an error) for anything else.
    pub fn array(&mut self, key: &'static str) -> Option<&'a Vec<Value>> {
        match self.raw(key)? {
            Value::Array(a) => Some(a),
            other => {
                let kind = kind_of(other);
                self.error(key, format!("must be a list, got {kind}"));
                None
            }
        }
    }

    /// Reports every key that no reader asked for, naming the known ones.
    pub fn finish(self, ignored: &[&str]) {
        let unknown: Vec<&String> = self
            .map
            .keys()
            .filter(|k| !self.seen.contains(k.as_str()) && !ignored.contains(&k.as_str()))
            .collect();
        if unknown.is_empty() {
            return;
        }
        let names: Vec<String> = unknown.iter().map(|k| format!("{k:?}")).collect();
        let known: Vec<&str> = self.seen.iter().copied().collect();
        let at = if self.path.is_empty() {
            "properties".to_owned()
        } else {
            self.path.clone()
        };
        self.errors.push(SpecError::new(
            at,
            format!(
                "unknown propert{} {}; known properties are {}",
                if unknown.len() == 1 { "y" } else { "ies" },
                names.join(", "),
                known.join(", ")
            ),
        ));
    }
}

pub fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// A short rendering of a user value for error messages (long values are cut).
pub fn show(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 80 {
        let cut: String = s.chars().take(77).collect();
        format!("{cut}...")
    } else {
        s
    }
}
