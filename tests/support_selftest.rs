//! Checks the test support module itself: moto starts and answers in several
//! accounts, the response receiver records requests, world helpers round-trip.

mod support;

use std::time::Duration;

use serde_json::{json, Value};
use support::{cfn_event, unique, Emulator, Receiver, DEFAULT_ACCOUNT};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn emulator_accounts_and_world_round_trip() {
    let emu = Emulator::start().await;

    // Assumed-role credentials act in the named account.
    for account in [DEFAULT_ACCOUNT, "222222222222"] {
        let who = emu
            .sts(account, "us-west-2")
            .await
            .get_caller_identity()
            .send()
            .await
            .expect("get caller identity");
        assert_eq!(who.account(), Some(account));
    }

    let bucket = unique("selftest");
    emu.create_bucket("222222222222", "us-west-2", &bucket, false)
        .await;
    assert!(
        emu.bucket_exists("222222222222", "us-west-2", &bucket)
            .await
    );
    assert_eq!(
        emu.versioning("222222222222", "us-west-2", &bucket).await,
        None
    );
    assert_eq!(
        emu.bucket_policy("222222222222", "us-west-2", &bucket)
            .await,
        None
    );
    assert_eq!(
        emu.replication("222222222222", "us-west-2", &bucket).await,
        None
    );
    assert_eq!(
        emu.encryption("222222222222", "us-west-2", &bucket).await,
        None
    );

    let policy = json!({"Version": "2012-10-17", "Statement": [{
        "Sid": "Foreign", "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::222222222222:root"},
        "Action": "s3:GetObject", "Resource": format!("arn:aws:s3:::{bucket}/*")}]});
    emu.put_bucket_policy("222222222222", "us-west-2", &bucket, &policy)
        .await;
    let got = emu
        .bucket_policy("222222222222", "us-west-2", &bucket)
        .await
        .expect("policy");
    assert_eq!(support::policy_sids(&got), vec!["Foreign".to_string()]);

    let key = emu.create_key("222222222222", "us-west-2").await;
    assert!(
        key.starts_with("arn:aws:kms:us-west-2:222222222222:key/"),
        "{key}"
    );
    assert_eq!(
        emu.key_state("222222222222", "us-west-2", &key)
            .await
            .as_deref(),
        Some("Enabled")
    );
    assert!(!emu.key_rotation("222222222222", "us-west-2", &key).await);
    let key_policy = emu.key_policy("222222222222", "us-west-2", &key).await;
    assert!(support::mentions(
        &key_policy,
        "arn:aws:iam::222222222222:root"
    ));

    // Replication view, including the fields moto's GetBucketReplication loses.
    let source = unique("selftest-src");
    emu.create_bucket(DEFAULT_ACCOUNT, "eu-west-1", &source, true)
        .await;
    assert_eq!(
        emu.versioning(DEFAULT_ACCOUNT, "eu-west-1", &source)
            .await
            .as_deref(),
        Some("Enabled")
    );
    put_test_replication(&emu, &source, &bucket, &key).await;
    let view = emu
        .replication(DEFAULT_ACCOUNT, "eu-west-1", &source)
        .await
        .expect("replication");
    let rule = &view["Rules"][0];
    assert_eq!(view["Role"], "arn:aws:iam::123456789012:role/replication");
    assert_eq!(rule["Id"], "to-backup");
    assert_eq!(rule["Priority"], 3);
    assert_eq!(rule["Prefix"], "logs/");
    assert_eq!(rule["DeleteMarkerReplication"], "Enabled");
    assert_eq!(rule["SseKmsEncryptedObjects"], "Enabled");
    assert_eq!(rule["Bucket"], format!("arn:aws:s3:::{bucket}"));
    assert_eq!(rule["Account"], "222222222222");
    assert_eq!(rule["StorageClass"], "STANDARD_IA");
    assert_eq!(rule["ReplicaKmsKeyId"], key.as_str());
    assert_eq!(rule["OwnerOverride"], "Destination");
    assert_eq!(rule["ReplicationTime"], "Enabled");
    assert_eq!(rule["ReplicationTimeMinutes"], 15);
    assert_eq!(rule["Metrics"], "Enabled");

    assert!(!emu.role_exists(DEFAULT_ACCOUNT, "replication").await);
    emu.iam(DEFAULT_ACCOUNT)
        .await
        .create_role()
        .role_name("replication")
        .assume_role_policy_document(
            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                "Principal": {"Service": "s3.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
            .to_string(),
        )
        .send()
        .await
        .expect("create role");
    emu.iam(DEFAULT_ACCOUNT)
        .await
        .put_role_policy()
        .role_name("replication")
        .policy_name("inline")
        .policy_document(
            json!({"Version": "2012-10-17", "Statement": [{"Sid": "Read", "Effect": "Allow",
                "Action": "s3:GetObjectVersionForReplication", "Resource": "*"}]})
            .to_string(),
        )
        .send()
        .await
        .expect("put role policy");
    assert!(emu.role_exists(DEFAULT_ACCOUNT, "replication").await);
    let inline = emu
        .role_inline_policies(DEFAULT_ACCOUNT, "replication")
        .await;
    assert_eq!(
        support::policy_sids(&inline["inline"]),
        vec!["Read".to_string()]
    );

    emu.reset().await;
    assert!(
        !emu.bucket_exists(DEFAULT_ACCOUNT, "eu-west-1", &source)
            .await
    );
}

async fn put_test_replication(emu: &Emulator, source: &str, dest: &str, key: &str) {
    use aws_sdk_s3::types::*;
    let rule = ReplicationRule::builder()
        .id("to-backup")
        .priority(3)
        .status(ReplicationRuleStatus::Enabled)
        .filter(ReplicationRuleFilter::builder().prefix("logs/").build())
        .delete_marker_replication(
            DeleteMarkerReplication::builder()
                .status(DeleteMarkerReplicationStatus::Enabled)
                .build(),
        )
        .source_selection_criteria(support::sse_kms_objects())
        .destination(
            Destination::builder()
                .bucket(format!("arn:aws:s3:::{dest}"))
                .account("222222222222")
                .storage_class(StorageClass::StandardIa)
                .access_control_translation(
                    AccessControlTranslation::builder()
                        .owner(OwnerOverride::Destination)
                        .build()
                        .unwrap(),
                )
                .encryption_configuration(
                    EncryptionConfiguration::builder()
                        .replica_kms_key_id(key)
                        .build(),
                )
                .replication_time(
                    ReplicationTime::builder()
                        .status(ReplicationTimeStatus::Enabled)
                        .time(ReplicationTimeValue::builder().minutes(15).build())
                        .build()
                        .unwrap(),
                )
                .metrics(
                    Metrics::builder()
                        .status(MetricsStatus::Enabled)
                        .event_threshold(ReplicationTimeValue::builder().minutes(15).build())
                        .build()
                        .unwrap(),
                )
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    emu.s3(DEFAULT_ACCOUNT, "eu-west-1")
        .await
        .put_bucket_replication()
        .bucket(source)
        .replication_configuration(
            ReplicationConfiguration::builder()
                .role("arn:aws:iam::123456789012:role/replication")
                .rules(rule)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("put replication");
}

/// Sends one raw HTTP request with std only (the receiver must not need the
/// test's runtime to make progress).
fn blocking_put(port: u16, path: &str, body: &str, chunked: bool) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    let head = if chunked {
        format!("PUT {path} HTTP/1.1\r\nHost: x\r\nContent-Type: \r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{body}\r\n0\r\n\r\n", body.len())
    } else {
        format!(
            "PUT {path} HTTP/1.1\r\nHost: x\r\nContent-Type: \r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
    };
    s.write_all(head.as_bytes()).unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    answer
}

#[tokio::test]
async fn receiver_records_and_scripts_statuses() {
    let rx = Receiver::start().await;
    let url = rx.url("stack%7CReplication%7Creq-1");
    assert!(url.contains("X-Amz-Signature="), "{url}");
    let path = url
        .split_once(&format!("127.0.0.1:{}", rx.port()))
        .unwrap()
        .1
        .to_string();

    rx.fail_first(1, 500);
    let port = rx.port();
    let (p1, p2) = (path.clone(), path.clone());
    // A blocking client on the current-thread test runtime: the receiver runs
    // on its own thread, so this does not deadlock.
    let first = blocking_put(port, &p1, r#"{"Status":"SUCCESS","Try":1}"#, false);
    assert!(first.starts_with("HTTP/1.1 500"), "{first}");
    let second = tokio::task::spawn_blocking(move || {
        blocking_put(port, &p2, r#"{"Status":"SUCCESS","Try":2}"#, true)
    })
    .await
    .unwrap();
    assert!(second.starts_with("HTTP/1.1 200"), "{second}");

    let got = rx.wait_for(2, Duration::from_secs(5)).await;
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].status, 500);
    assert_eq!(got[1].status, 200);
    assert_eq!(got[1].method, "PUT");
    assert_eq!(got[1].header("content-type"), Some(""));
    assert_eq!(got[1].response_id(), "stack|Replication|req-1");
    assert_eq!(got[1].query()["X-Amz-Algorithm"], "AWS4-HMAC-SHA256");
    let bodies: Vec<Value> = rx.responses();
    assert_eq!(bodies[1]["Try"], 2);
    assert_eq!(rx.responses_for("stack%7CReplication%7Creq-1").len(), 2);
    assert!(rx.responses_for("other").is_empty());

    let event = cfn_event(
        "Update",
        &url,
        json!({"SourceBucket": "b"}),
        Some("phys"),
        Some(json!({"SourceBucket": "a"})),
    );
    assert_eq!(event["RequestType"], "Update");
    assert_eq!(event["ResponseURL"], url.as_str());
    assert_eq!(event["PhysicalResourceId"], "phys");
    assert_eq!(event["ResourceType"], "Custom::S3Replication");
    assert_eq!(event["ResourceProperties"]["SourceBucket"], "b");
    assert!(event["ResourceProperties"]["ServiceToken"].is_string());
    assert_eq!(event["OldResourceProperties"]["SourceBucket"], "a");
    let other = cfn_event("Create", &url, json!({}), None, None);
    assert_ne!(other["RequestId"], event["RequestId"]);
    assert!(other.get("PhysicalResourceId").is_none());
    assert!(unique("src").starts_with("src-") && unique("src") != unique("src"));
}

/// `Emulator::invoke` wiring: a request the provider must reject still gets
/// exactly one FAILED response PUT to the ResponseURL, and `invoke` exits 0.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invoke_delivers_a_failed_response_for_invalid_properties() {
    let emu = Emulator::start().await;
    let rx = Receiver::start().await;
    let event = cfn_event(
        "Create",
        &rx.url("invalid-props"),
        json!({"Destinations": []}),
        None,
        None,
    );
    let run = emu.invoke("eu-west-1", &event).await;
    assert!(run.success(), "invoke failed: {run:?}");
    let responses = rx.responses_for("invalid-props");
    assert_eq!(responses.len(), 1, "{responses:?}");
    let response = &responses[0];
    assert_eq!(response["Status"], "FAILED");
    assert_eq!(response["RequestId"], event["RequestId"]);
    assert_eq!(response["StackId"], event["StackId"]);
    assert_eq!(response["LogicalResourceId"], event["LogicalResourceId"]);
    assert!(response["Reason"].as_str().is_some_and(|r| !r.is_empty()));
    assert_eq!(run.stdout_json().as_ref(), Some(response));
}
