use serde_json::{json, Value};

use super::*;

fn props(extra: Value) -> Value {
    let mut base = json!({
        "ServiceToken": "arn:aws:lambda:eu-west-1:123456789012:function:p",
        "SourceBucket": "src-bucket",
        "Destinations": [{"Bucket": "dst-bucket", "AccountId": "222222222222", "Region": "us-west-2"}]
    });
    for (k, v) in extra.as_object().unwrap() {
        base[k] = v.clone();
    }
    base
}

fn errors(v: Value) -> Vec<SpecError> {
    parse(&v).unwrap_err().0
}

fn error_for(v: Value, property: &str) -> String {
    let errs = errors(v);
    errs.iter()
        .find(|e| e.property == property)
        .unwrap_or_else(|| panic!("no error for {property}: {errs:?}"))
        .message
        .clone()
}

#[test]
fn minimal_properties_get_documented_defaults() {
    let s = parse(&props(json!({}))).unwrap();
    assert_eq!(s.source.kms_key, SourceKey::Discover);
    assert_eq!(s.source.region, None);
    assert_eq!(s.key_removal, KeyRemoval::Retain);
    assert!(!s.take_over_existing_replication);
    let d = &s.destinations[0];
    assert_eq!(d.storage_class, StorageClass::Standard);
    assert_eq!(d.priority, 0);
    assert_eq!(d.rule_id, "replicate-to-dst-bucket");
    assert_eq!(
        d.role_arn().as_str(),
        "arn:aws:iam::222222222222:role/S3ReplicationDestinationProvisioner"
    );
    assert_eq!(d.kms_key, DestinationKey::None);
    assert!(
        !d.delete_marker_replication
            && !d.metrics
            && !d.replication_time_control
            && !d.create_bucket
    );
    assert!(d.owner_override_for(&AccountId::parse("111111111111").unwrap()));
    assert!(!d.owner_override_for(&AccountId::parse("222222222222").unwrap()));
}

#[test]
fn cloudformation_strings_and_native_json_are_both_accepted() {
    for (t, n) in [(json!("true"), json!("30")), (json!(true), json!(30))] {
        let s = parse(&props(json!({
            "TakeOverExistingReplication": t, "KeyRemovalPolicy": "Delete", "KeyDeletionWindowDays": n,
            "Destinations": [{"Bucket": "dst-bucket", "AccountId": "222222222222", "Region": "us-west-2",
                              "ReplicationTimeControl": t, "Priority": n}]
        })))
        .unwrap();
        assert!(s.take_over_existing_replication);
        assert_eq!(s.key_removal, KeyRemoval::Delete { window_days: 30 });
        assert!(
            s.destinations[0].replication_time_control && s.destinations[0].metrics,
            "RTC implies metrics"
        );
        assert_eq!(s.destinations[0].priority, 30);
    }
}

#[test]
fn unknown_properties_are_named() {
    let msg = error_for(props(json!({"SourceBuckett": "x"})), "properties");
    assert!(msg.contains("\"SourceBuckett\""), "{msg}");
    let msg = error_for(
        props(
            json!({"Destinations": [{"Bucket": "dst-bucket", "AccountId": "222222222222", "Region": "us-west-2", "Storage": "GLACIER"}]}),
        ),
        "Destinations[0]",
    );
    assert!(
        msg.contains("\"Storage\"") && msg.contains("StorageClass"),
        "{msg}"
    );
}

#[test]
fn service_token_is_ignored() {
    assert!(parse(&props(json!({"ServiceToken": "anything"}))).is_ok());
}

/// CloudFormation forwards the custom resource's `ServiceTimeout` inside
/// `ResourceProperties`, as a string like every scalar: every template that sets it (as the
/// README and the examples do) must parse, and it changes nothing in the spec.
#[test]
fn service_timeout_from_cloudformation_is_accepted_and_not_acted_on() {
    let without = parse(&props(json!({}))).unwrap();
    for v in [
        json!("600"),
        json!(600),
        json!("1"),
        json!("3600"),
        json!(" 30 "),
    ] {
        let with = parse(&props(json!({ "ServiceTimeout": v.clone() })))
            .unwrap_or_else(|e| panic!("ServiceTimeout {v} refused: {e}"));
        assert_eq!(with, without, "ServiceTimeout {v} changed the spec");
    }
}

#[test]
fn service_timeout_outside_cloudformations_bounds_is_refused() {
    for v in [
        json!("0"),
        json!("3601"),
        json!("-5"),
        json!("ten"),
        json!("1.5"),
        json!(["600"]),
    ] {
        let msg = error_for(
            props(json!({ "ServiceTimeout": v.clone() })),
            "ServiceTimeout",
        );
        assert!(msg.contains("1 to 3600"), "{v}: {msg}");
    }
}

/// A near-miss spelling of CloudFormation's own property is refused like any unknown one.
#[test]
fn misspelt_service_timeout_is_an_unknown_property() {
    let msg = error_for(props(json!({"ServiceTimeOut": "600"})), "properties");
    assert!(msg.contains("\"ServiceTimeOut\""), "{msg}");
}

#[test]
fn wrong_types_are_rejected_with_the_property_named() {
    assert!(error_for(props(json!({"SourceBucket": ["a"]})), "SourceBucket").contains("a list"));
    assert!(error_for(props(json!({"Destinations": "dst"})), "Destinations").contains("list"));
    assert!(error_for(
        props(json!({"TakeOverExistingReplication": "yes"})),
        "TakeOverExistingReplication"
    )
    .contains("true or false"));
    assert!(error_for(
        props(json!({"KeyDeletionWindowDays": "3"})),
        "KeyDeletionWindowDays"
    )
    .contains("7 to 30"));
    assert!(error_for(props(json!({"Destinations": [42]})), "Destinations[0]").contains("object"));
    let tags = error_for(
        props(
            json!({"Destinations": [{"Bucket": "dst-bucket", "AccountId": "222222222222", "Region": "us-west-2", "Tags": ["a"]}]}),
        ),
        "Destinations[0].Tags",
    );
    assert!(tags.contains("object"), "{tags}");
}

#[test]
fn required_properties() {
    let errs = errors(json!({"ServiceToken": "x"}));
    let names: Vec<&str> = errs.iter().map(|e| e.property.as_str()).collect();
    assert!(
        names.contains(&"SourceBucket") && names.contains(&"Destinations"),
        "{names:?}"
    );
    let errs = errors(props(json!({"Destinations": [{}]})));
    let names: Vec<&str> = errs.iter().map(|e| e.property.as_str()).collect();
    for p in [
        "Destinations[0].Bucket",
        "Destinations[0].AccountId",
        "Destinations[0].Region",
    ] {
        assert!(names.contains(&p), "{p} missing from {names:?}");
    }
    assert!(error_for(props(json!({"Destinations": []})), "Destinations").contains("1 to"));
    assert!(errors(json!("not an object"))[0].message.contains("object"));
}

#[test]
fn bad_identifiers_are_explained() {
    let d = |k: &str, v: Value| {
        let mut dest =
            json!({"Bucket": "dst-bucket", "AccountId": "222222222222", "Region": "us-west-2"});
        dest[k] = v;
        props(json!({ "Destinations": [dest] }))
    };
    assert!(
        error_for(d("AccountId", json!("2222")), "Destinations[0].AccountId").contains("12 digits")
    );
    assert!(error_for(d("Region", json!("mars-1")), "Destinations[0].Region").contains("region"));
    assert!(error_for(
        d("StorageClass", json!("GLACIAL")),
        "Destinations[0].StorageClass"
    )
    .contains("DEEP_ARCHIVE"));
    assert!(error_for(
        d("RoleArn", json!("arn:aws:iam::222222222222:user/x")),
        "Destinations[0].RoleArn"
    )
    .contains("role/"));
    assert!(error_for(
        d("RoleArn", json!("arn:aws:iam::333333333333:role/x")),
        "Destinations[0].RoleArn"
    )
    .contains("333333333333"));
    assert!(error_for(
        d(
            "KmsKeyArn",
            json!("arn:aws:kms:us-west-2:222222222222:alias/x")
        ),
        "Destinations[0].KmsKeyArn"
    )
    .contains("alias"));
    assert!(error_for(
        d(
            "KmsKeyArn",
            json!("arn:aws:kms:us-east-1:222222222222:key/abc")
        ),
        "Destinations[0].KmsKeyArn"
    )
    .contains("us-east-1"));
    assert!(error_for(
        d("Bucket", json!("arn:aws:s3:::dst")),
        "Destinations[0].Bucket"
    )
    .contains("not its ARN"));
    assert!(
        error_for(props(json!({"SourceRoleArn": "nope"})), "SourceRoleArn")
            .contains("IAM role ARN")
    );
    assert!(error_for(
        props(json!({"ReplicationRoleName": "a/b"})),
        "ReplicationRoleName"
    )
    .contains("'/'"));
    assert!(error_for(
        props(json!({"ReplicationRoleName": "r".repeat(65)})),
        "ReplicationRoleName"
    )
    .contains("64"));
    assert!(error_for(
        props(json!({"KeyRemovalPolicy": "Snapshot"})),
        "KeyRemovalPolicy"
    )
    .contains("Retain or Delete"));
    assert!(error_for(props(json!({"SourceRegion": "eu-west-1", "SourceKmsKeyArn": "arn:aws:kms:us-east-1:123456789012:key/k"})), "SourceKmsKeyArn").contains("us-east-1"));
}

#[test]
fn s3_rule_constraints_are_checked_up_front() {
    let two = |a: Value, b: Value| props(json!({ "Destinations": [a, b] }));
    let base = |bucket: &str| json!({"Bucket": bucket, "AccountId": "222222222222", "Region": "us-west-2"});
    let mut a = base("dst-a");
    a["Id"] = json!("same");
    let mut b = base("dst-b");
    b["Id"] = json!("same");
    assert!(error_for(two(a, b), "Destinations[1].Id").contains("distinct"));
    let mut a = base("dst-a");
    a["Priority"] = json!("3");
    let mut b = base("dst-b");
    b["Priority"] = json!(3);
    assert!(error_for(two(a, b), "Destinations[1].Priority").contains("unique"));
    let mut a = base("dst-a");
    a["Tags"] = json!({"k": "v"});
    a["DeleteMarkerReplication"] = json!("true");
    assert!(error_for(
        props(json!({ "Destinations": [a] })),
        "Destinations[0].DeleteMarkerReplication"
    )
    .contains("Tags"));
    let mut a = base("dst-a");
    a["ReplicationTimeControl"] = json!("true");
    a["Metrics"] = json!("false");
    assert!(error_for(
        props(json!({ "Destinations": [a] })),
        "Destinations[0].Metrics"
    )
    .contains("RTC"));
    assert!(error_for(
        props(json!({ "Destinations": [base("src-bucket")] })),
        "Destinations[0].Bucket"
    )
    .contains("differ"));
}

#[test]
fn default_priorities_are_unique_around_explicit_ones() {
    let base = |bucket: &str| json!({"Bucket": bucket, "AccountId": "222222222222", "Region": "us-west-2"});
    let mut b = base("dst-b");
    b["Priority"] = json!(0);
    let s = parse(&props(
        json!({ "Destinations": [base("dst-a"), b, base("dst-c")] }),
    ))
    .unwrap();
    let p: Vec<i32> = s.destinations.iter().map(|d| d.priority).collect();
    assert_eq!(p, vec![1, 0, 2]);
}

#[test]
fn all_errors_are_reported_together() {
    let errs = errors(
        json!({"SourceBucket": "BAD", "Destinations": [{"Bucket": "x", "AccountId": "1", "Region": "r"}], "Extra": 1}),
    );
    assert!(errs.len() >= 5, "{errs:?}");
}

#[test]
fn verify_accepts_its_three_values_and_names_them_when_wrong() {
    assert_eq!(parse(&props(json!({}))).unwrap().verify, Verify::None);
    for (text, want) in [
        ("None", Verify::None),
        ("Permissions", Verify::Permissions),
        ("Replication", Verify::Replication),
    ] {
        assert_eq!(
            parse(&props(json!({ "Verify": text }))).unwrap().verify,
            want
        );
    }
    let msg = error_for(props(json!({"Verify": "replication"})), "Verify");
    assert!(
        msg.contains("None, Permissions or Replication") && msg.contains("\"replication\""),
        "{msg}"
    );
}

#[test]
fn failure_signals_default_off_and_force_metrics_when_set() {
    let s = parse(&props(json!({}))).unwrap();
    assert_eq!(s.failure_notification, None);
    assert!(!s.alarms && !s.needs_metrics());
    // An empty string (a template parameter's "none") is no notification.
    let s = parse(&props(
        json!({"FailureNotification": "", "Alarms": "false"}),
    ))
    .unwrap();
    assert!(s.failure_notification.is_none() && !s.needs_metrics());
    let s = parse(&props(json!({"Alarms": "true"}))).unwrap();
    assert!(s.alarms && s.needs_metrics());
    let topic = "arn:aws:sns:eu-west-1:111111111111:replication-failures";
    let s = parse(&props(json!({"FailureNotification": topic}))).unwrap();
    let n = s.failure_notification.as_ref().unwrap();
    assert_eq!((n.as_str(), n.kind()), (topic, NotificationKind::Topic));
    assert!(s.needs_metrics());
}

#[test]
fn failure_notification_must_be_a_standard_topic_or_queue_beside_the_source() {
    let m = error_for(
        props(json!({"FailureNotification": "arn:aws:sqs:eu-west-1:111111111111:q.fifo"})),
        "FailureNotification",
    );
    assert!(m.contains("FIFO"), "{m}");
    let m = error_for(
        props(json!({"SourceRegion": "us-east-1",
            "FailureNotification": "arn:aws:sns:eu-west-1:111111111111:t"})),
        "FailureNotification",
    );
    assert!(m.contains("bucket's region"), "{m}");
    let m = error_for(
        props(json!({"SourceRoleArn": "arn:aws:iam::333333333333:role/r",
            "FailureNotification": "arn:aws:sns:eu-west-1:111111111111:t"})),
        "FailureNotification",
    );
    assert!(m.contains("source account"), "{m}");
    let m = error_for(props(json!({"Alarms": "yes"})), "Alarms");
    assert!(m.contains("true or false"), "{m}");
    let m = error_for(
        props(json!({"FailureNotification": ["x"]})),
        "FailureNotification",
    );
    assert!(m.contains("must be a string"), "{m}");
}

#[test]
fn batch_replication_defaults_and_settings() {
    let s = parse(&props(json!({}))).unwrap();
    assert!(!s.replicates_existing_objects());
    assert_eq!(s.batch, BatchReplication::default());
    assert_eq!(s.batch.statuses, [ObjectStatus::None, ObjectStatus::Failed]);
    assert_eq!(s.batch.report_prefix, "s3-replication-reports");
    let s = parse(&props(json!({
        "Destinations": [{"Bucket": "dst-bucket", "AccountId": "222222222222", "Region": "us-west-2", "ReplicateExistingObjects": "true"}],
        "BatchReplication": {"ReportBucket": "reports", "ReportPrefix": "backfill/", "ReportScope": "AllTasks", "ObjectReplicationStatuses": ["FAILED", "NONE", "COMPLETED", "NONE"]}
    })))
    .unwrap();
    assert!(s.replicates_existing_objects());
    assert_eq!(s.batch.report_bucket.unwrap().as_str(), "reports");
    assert_eq!(s.batch.report_prefix, "backfill");
    assert!(s.batch.report_all_tasks);
    assert_eq!(
        s.batch.statuses,
        [
            ObjectStatus::None,
            ObjectStatus::Failed,
            ObjectStatus::Completed
        ]
    );
}

#[test]
fn bad_batch_replication_settings_are_refused_by_name() {
    let bad = |b: Value, property: &str| error_for(props(json!({"BatchReplication": b})), property);
    assert!(bad(
        json!({"ReportScope": "Some"}),
        "BatchReplication.ReportScope"
    )
    .contains("AllTasks"));
    assert!(bad(
        json!({"ObjectReplicationStatuses": ["PENDING"]}),
        "BatchReplication.ObjectReplicationStatuses"
    )
    .contains("NONE"));
    assert!(bad(
        json!({"ObjectReplicationStatuses": []}),
        "BatchReplication.ObjectReplicationStatuses"
    )
    .contains("at least one"));
    assert!(bad(
        json!({"ObjectReplicationStatuses": "NONE"}),
        "BatchReplication.ObjectReplicationStatuses"
    )
    .contains("list"));
    assert!(bad(
        json!({"ReportPrefix": "/abs"}),
        "BatchReplication.ReportPrefix"
    )
    .contains("'/'"));
    assert!(bad(
        json!({"ReportPrefix": "/"}),
        "BatchReplication.ReportPrefix"
    )
    .contains("1 to 512"));
    assert!(bad(
        json!({"ReportBucket": "Not_A_Bucket"}),
        "BatchReplication.ReportBucket"
    )
    .contains("Not_A_Bucket"));
    assert!(bad(json!({"Report": "x"}), "BatchReplication").contains("unknown property"));
    assert!(error_for(
        props(json!({"BatchReplication": "yes"})),
        "BatchReplication"
    )
    .contains("object"));
    let flag = props(
        json!({"Destinations": [{"Bucket": "dst-bucket", "AccountId": "222222222222", "Region": "us-west-2", "ReplicateExistingObjects": "maybe"}]}),
    );
    assert!(!error_for(flag, "Destinations[0].ReplicateExistingObjects").is_empty());
}

#[test]
fn alarm_topics_are_standard_topics_one_per_region_only_with_alarms() {
    let west = "arn:aws:sns:us-west-2:111111111111:s3-replication-alarms";
    let s = parse(&props(json!({"Alarms": "true", "AlarmTopics": [west]}))).unwrap();
    let region = Region::parse("us-west-2").unwrap();
    assert_eq!(s.alarm_topic(&region).map(|t| t.as_str()), Some(west));
    assert_eq!(s.alarm_topic(&Region::parse("eu-west-1").unwrap()), None);
    for (value, says) in [
        (json!([west]), "Alarms is not true"),
        (json!(["arn:aws:sqs:us-west-2:111111111111:q"]), "queue"),
        (
            json!([west, "arn:aws:sns:us-west-2:111111111111:other"]),
            "at most one topic per region",
        ),
        (json!([7]), "is not a string"),
        (json!(["arn:aws:sns:us-west-2:111111111111:t.fifo"]), "FIFO"),
    ] {
        let alarms = if says == "Alarms is not true" {
            "false"
        } else {
            "true"
        };
        let m = error_for(
            props(json!({"Alarms": alarms, "AlarmTopics": value})),
            "AlarmTopics",
        );
        assert!(m.contains(says), "{value}: {m}");
    }
    let m = error_for(
        props(
            json!({"Alarms": "true", "SourceRoleArn": "arn:aws:iam::333333333333:role/r",
            "AlarmTopics": [west]}),
        ),
        "AlarmTopics",
    );
    assert!(m.contains("source account"), "{m}");
    let m = error_for(
        props(json!({"Alarms": "true", "AlarmTopics": west})),
        "AlarmTopics",
    );
    assert!(m.contains("list"), "{m}");
}
