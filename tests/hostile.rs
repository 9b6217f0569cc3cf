//! Hostile and malformed input: events that are not requests, properties that are not valid,
//! panics inside the handler, and secrets that must never reach the log.

mod support;

use proptest::prelude::*;
use serde_json::json;
use support::fuzz::{check_parse, json_value, mutated_properties};
use support::harness::{Harness, HOME_REGION};
use support::{cfn_event, unique, Emulator, Receiver, DEFAULT_ACCOUNT};

proptest! {
    // A short run for every CI build; `cargo bench --bench fuzz` runs a million cases.
    #![proptest_config(ProptestConfig { cases: 3000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_json_never_panics(v in json_value()) {
        check_parse(&v)?;
    }

    #[test]
    fn mutated_properties_are_rejected_with_their_name(p in mutated_properties()) {
        check_parse(&p)?;
    }
}

#[tokio::test]
async fn malformed_events_are_answered_when_possible_and_never_crash() {
    let h = Harness::start().await;
    // Not a request at all: nothing to answer, nothing called, no panic.
    for garbage in [
        json!("hello"),
        json!(42),
        json!(null),
        json!([1, 2]),
        json!({"RequestType": "Create"}),
    ] {
        let outcome = h.provider().handle(garbage, None).await;
        assert!(outcome.response.is_none() && !outcome.delivered && outcome.calls.is_empty());
    }
    // An unknown RequestType with a ResponseURL: answered FAILED, naming the type.
    let id = support::uuid();
    let mut event = cfn_event("Create", &h.rx.url(&id), json!({}), None, None);
    event["RequestType"] = json!("Upsert");
    let outcome = h.provider().handle(event, None).await;
    assert!(outcome.delivered);
    let sent = h.rx.responses_for(&id);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["Status"], "FAILED");
    assert!(sent[0]["Reason"].as_str().unwrap().contains("Upsert"));
    // ResourceProperties that are not an object.
    let answered = h
        .request("Create", &json!("SourceBucket=x"), None, None)
        .await;
    answered.assert_failed_with(&["ResourceProperties", "object"]);
}

#[tokio::test]
async fn the_binary_rejects_non_json_input_without_crashing() {
    let emu = Emulator::start().await;
    let out = tokio::process::Command::new(support::bootstrap_path())
        .args(["invoke", "-"])
        .envs(emu.provider_env(HOME_REGION))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use tokio::io::AsyncWriteExt;
    let mut child = out;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"{not json")
        .await
        .unwrap();
    let out = child.wait_with_output().await.unwrap();
    assert_eq!(out.status.code(), Some(2), "usage error, not a crash");
    assert!(String::from_utf8_lossy(&out.stderr).contains("not JSON"));
}

#[tokio::test]
async fn a_panic_still_answers_failed() {
    let emu = Emulator::start().await;
    let rx = Receiver::start().await;
    let (src, dst) = (unique("src"), unique("dst"));
    emu.create_bucket(DEFAULT_ACCOUNT, HOME_REGION, &src, true)
        .await;
    emu.create_bucket("222222222222", "us-west-2", &dst, true)
        .await;
    let id = support::uuid();
    let props = json!({"SourceBucket": src, "Destinations": [{"Bucket": dst, "AccountId": "222222222222", "Region": "us-west-2"}]});
    let event = cfn_event("Create", &rx.url(&id), props, None, None);
    let run = emu
        .invoke_with_env(
            HOME_REGION,
            &event,
            &[("PROVIDER_FAULT_PANIC_AT", "PutBucketPolicy")],
        )
        .await;
    assert!(run.success(), "exit {:?}: {}", run.status, run.stderr);
    let sent = rx.responses_for(&id);
    assert_eq!(sent.len(), 1, "exactly one answer");
    assert_eq!(sent[0]["Status"], "FAILED");
    let reason = sent[0]["Reason"].as_str().unwrap();
    assert!(
        reason.contains("internal error") && reason.contains("PutBucketPolicy"),
        "{reason}"
    );
    assert_eq!(
        sent[0]["PhysicalResourceId"],
        format!("s3-replication:{DEFAULT_ACCOUNT}:{HOME_REGION}:{src}"),
        "the id a Delete needs to clean up"
    );
    eprintln!("binary under test: {}", support::bootstrap_path().display());
}

#[tokio::test]
async fn secrets_never_reach_the_log() {
    let emu = Emulator::start().await;
    let rx = Receiver::start().await;
    let src = unique("src");
    emu.create_bucket(DEFAULT_ACCOUNT, HOME_REGION, &src, true)
        .await;
    let id = support::uuid();
    let url = format!(
        "{}&X-Amz-Credential=AKIASECRETCREDENTIAL&X-Amz-Signature=deadbeefsecretsignature",
        rx.url(&id)
    );
    // A destination that cannot be reached, so the log also carries an error path.
    let props = json!({"SourceBucket": src, "Destinations": [{"Bucket": unique("dst"), "AccountId": "222222222222", "Region": "us-west-2"}]});
    let event = cfn_event("Create", &url, props, None, None);
    let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYSECRETKEY";
    let token = "FwoGZXIvYXdzSESSIONTOKENSECRET";
    let run = emu
        .invoke_with_env(
            HOME_REGION,
            &event,
            &[
                ("AWS_SECRET_ACCESS_KEY", secret),
                ("AWS_SESSION_TOKEN", token),
                ("RUST_LOG", "debug"),
            ],
        )
        .await;
    assert!(run.success(), "{}", run.stderr);
    assert!(!run.stderr.is_empty(), "the run logged something");
    for needle in [
        secret,
        token,
        "deadbeefsecretsignature",
        "AKIASECRETCREDENTIAL",
    ] {
        assert!(!run.stderr.contains(needle), "{needle} leaked into the log");
    }
    assert!(
        run.stderr.contains("<redacted>"),
        "the response URL is logged without its query"
    );
}
