//! Property-parsing fuzz strategies and the contract every input must satisfy; shared by the
//! short CI run (tests/hostile.rs) and the million-case run (`cargo bench --bench fuzz`).

use proptest::prelude::*;
use s3_replication_provider::cfn::{Response, Status, MAX_BODY};
use s3_replication_provider::spec;
use serde_json::{json, Value};

fn failed_response(reason: String) -> Response {
    Response {
        status: Status::Failed,
        reason: Some(reason),
        physical_resource_id: "s3-replication-not-created:L:R".into(),
        stack_id: "arn:aws:cloudformation:eu-west-1:123456789012:stack/s/1".into(),
        request_id: "r".into(),
        logical_resource_id: "L".into(),
        data: Default::default(),
    }
}

/// Any JSON value, nested a few levels, biased towards the shapes properties have.
pub fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        ".{0,80}".prop_map(Value::String),
        prop_oneof![
            Just("true"),
            Just("false"),
            Just("Create"),
            Just("222222222222"),
            Just("us-west-2"),
            Just("arn:aws:kms:us-west-2:222222222222:key/k"),
            Just("STANDARD_IA")
        ]
        .prop_map(|s| Value::String(s.to_owned())),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        let keys = prop_oneof![
            Just("SourceBucket".to_owned()),
            Just("Destinations".to_owned()),
            Just("Bucket".to_owned()),
            Just("AccountId".to_owned()),
            Just("Region".to_owned()),
            Just("KmsKeyArn".to_owned()),
            Just("Tags".to_owned()),
            Just("Priority".to_owned()),
            Just("KeyDeletionWindowDays".to_owned()),
            Just("ServiceToken".to_owned()),
            Just("ServiceTimeout".to_owned()),
            "[A-Za-z]{1,12}",
        ];
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(keys, inner, 0..8)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Valid properties with one field replaced by an arbitrary value.
pub fn mutated_properties() -> impl Strategy<Value = Value> {
    let base = json!({"SourceBucket": "src-bucket", "Destinations": [{"Bucket": "dst-bucket", "AccountId": "222222222222", "Region": "us-west-2"}]});
    let fields = prop_oneof![
        Just(vec!["SourceBucket"]),
        Just(vec!["SourceKmsKeyArn"]),
        Just(vec!["KeyRemovalPolicy"]),
        Just(vec!["ServiceTimeout"]),
        Just(vec!["Destinations"]),
        Just(vec!["Destinations", "0", "Bucket"]),
        Just(vec!["Destinations", "0", "AccountId"]),
        Just(vec!["Destinations", "0", "StorageClass"]),
        Just(vec!["Destinations", "0", "Tags"]),
        Just(vec!["Destinations", "0", "Priority"]),
        Just(vec!["Destinations", "0", "RoleArn"]),
    ];
    (fields, json_value()).prop_map(move |(path, v)| {
        let mut p = base.clone();
        let mut at = &mut p;
        for (i, key) in path.iter().enumerate() {
            if i == path.len() - 1 {
                match at {
                    Value::Object(m) => {
                        m.insert((*key).to_owned(), v.clone());
                    }
                    Value::Array(a) => a[0] = v.clone(),
                    _ => {}
                }
                break;
            }
            at = match at {
                Value::Object(m) => m.get_mut(*key).unwrap(),
                Value::Array(a) => &mut a[0],
                _ => unreachable!(),
            };
        }
        p
    })
}

/// The property-parsing contract: never a panic; a rejection names each property and fits
/// CloudFormation's response limit.
pub fn check_parse(props: &Value) -> Result<(), TestCaseError> {
    match spec::parse(props) {
        Ok(_) => Ok(()),
        Err(errors) => {
            prop_assert!(!errors.0.is_empty());
            for e in &errors.0 {
                prop_assert!(!e.property.is_empty() && !e.message.is_empty(), "{e:?}");
            }
            let reason = errors.to_string();
            prop_assert!(reason.contains(&errors.0[0].property));
            prop_assert!(failed_response(reason).body().len() <= MAX_BODY);
            Ok(())
        }
    }
}
