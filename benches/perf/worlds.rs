//! The worlds the scenarios run in (buckets in moto), and the in-process Create: through the
//! harness (timed, checked by the oracle) or through a provider with other settings.

use std::panic::AssertUnwindSafe;
use std::time::{Duration, Instant};

use aws_config::{BehaviorVersion, Region};
use aws_credential_types::Credentials;
use futures::{FutureExt, StreamExt};
use s3_replication_provider::aws::Call;
use s3_replication_provider::doctor::{render_text, Status};
use s3_replication_provider::handler::{Provider, Settings};
use serde_json::{json, Value};

use crate::report::panic_text;
use crate::support::harness::{Answered, Harness, HOME_REGION};
use crate::support::{self, cfn_event, unique, uuid};
use crate::{DEST_ACCOUNTS, DEST_REGIONS, SRC};

/// Source (unversioned, SSE-S3 → `SourceKmsKeyArn: Create`) and one destination in another
/// account and region, both keys created: the README's example shape.
pub(crate) async fn world_kms(h: &Harness, n: usize) -> Value {
    h.emu.reset().await;
    let src = unique("src");
    h.emu.create_bucket(SRC, HOME_REGION, &src, false).await;
    let mut dests = Vec::new();
    for i in 0..n {
        let (acct, region) = (DEST_ACCOUNTS[i % 5], DEST_REGIONS[i % 3]);
        let b = unique("dst");
        h.emu.create_bucket(acct, region, &b, false).await;
        dests.push(
            json!({"Bucket": b, "AccountId": acct, "Region": region, "KmsKeyArn": "Create",
                          "ReplicationTimeControl": "true", "StorageClass": "STANDARD_IA"}),
        );
    }
    json!({"SourceBucket": src, "SourceKmsKeyArn": "Create", "Destinations": dests})
}

/// Source and `n` destinations (unversioned, SSE-S3), spread over five accounts and three
/// regions. SSE-S3 because 50 created replica keys would not fit IAM's 10 240-character role
/// policy (the provider refuses that plan).
pub(crate) async fn world_plain(h: &Harness, n: usize) -> Value {
    h.emu.reset().await;
    let src = unique("src");
    h.emu.create_bucket(SRC, HOME_REGION, &src, false).await;
    let specs: Vec<(String, &str, &str)> = (0..n)
        .map(|i| (unique("dst"), DEST_ACCOUNTS[i % 5], DEST_REGIONS[i % 3]))
        .collect();
    futures::stream::iter(specs.iter())
        .for_each_concurrent(8, |(b, acct, region)| async move {
            h.emu.create_bucket(acct, region, b, false).await;
        })
        .await;
    let dests: Vec<Value> = specs
        .iter()
        .map(|(b, acct, region)| json!({"Bucket": b, "AccountId": acct, "Region": region}))
        .collect();
    json!({"SourceBucket": src, "Destinations": dests})
}

/// One answered request, timed; Err unless it was SUCCESS (the harness already checked:
/// delivered, exactly one PUT, empty Content-Type, body ≤ 4096 bytes, body = what was sent).
pub(crate) async fn timed(
    h: &Harness,
    kind: &str,
    props: &Value,
    id: Option<&str>,
) -> Result<(Answered, Duration), String> {
    let t = Instant::now();
    let old = (kind == "Update").then_some(props);
    let a = AssertUnwindSafe(h.request_unchecked(kind, props, id, old))
        .catch_unwind()
        .await
        .map_err(|p| format!("{kind}: {}", panic_text(p)))?;
    let wall = t.elapsed();
    if a.status() != "SUCCESS" {
        return Err(format!("{kind} answered {}: {}", a.status(), a.reason()));
    }
    // The tests' oracle (the doctor on the live state), outside the timed part.
    let findings = support::oracle::findings(&h.emu, props).await;
    if findings.is_empty() || findings.iter().any(|f| f.status != Status::Pass) {
        return Err(format!(
            "{kind}: the doctor does not pass the live state:\n{}",
            render_text(&findings)
        ));
    }
    Ok((a, wall))
}

/// Settings as the product reads them from its environment, with `vars` set (the in-process
/// equivalent of running `bootstrap` with those variables).
pub(crate) fn settings_with_env(vars: &[(&str, &str)]) -> Settings {
    for (k, v) in vars {
        std::env::set_var(k, v);
    }
    let settings = Settings {
        response_urls: support::local_settings().response_urls,
        verify_stack_events: false,
        ..Settings::from_env()
    };
    for (k, _) in vars {
        std::env::remove_var(k);
    }
    settings
}

/// A provider like the harness's (same endpoint through the proxy, same credentials) with other
/// settings.
pub(crate) async fn provider_with(h: &Harness, settings: Settings) -> Provider {
    let base = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(HOME_REGION))
        .endpoint_url(h.proxy.endpoint())
        .credentials_provider(Credentials::new("testing", "testing", None, None, "bench"))
        .load()
        .await;
    Provider::new(base, settings)
}

/// One Create through `provider`, checked like `Harness::request`: delivered, exactly one PUT,
/// and SUCCESS.
pub(crate) async fn create_with(
    provider: &Provider,
    h: &Harness,
    props: &Value,
) -> Result<(Vec<Call>, Duration), String> {
    let response_id = uuid();
    let event = cfn_event("Create", &h.rx.url(&response_id), props.clone(), None, None);
    let t = Instant::now();
    let outcome = provider.handle(event, None).await;
    let wall = t.elapsed();
    let puts = h.rx.responses_for(&response_id);
    if !outcome.delivered || puts.len() != 1 || puts[0]["Status"] != "SUCCESS" {
        return Err(format!(
            "Create answered {puts:?} (delivered {})",
            outcome.delivered
        ));
    }
    Ok((outcome.calls, wall))
}
