//! `FailureNotification` and `Alarms` through the real handler against the emulator: the
//! source bucket's notification configuration (ours added, everyone else's kept), the topic or
//! queue policy statement letting S3 deliver, the alarms per rule, and their removal by Update
//! and Delete. The doctor (the harness's oracle) evaluates the live topic or queue policy after
//! every SUCCESS.

mod support;

use serde_json::{json, Value};
use support::harness::{Harness, HOME_REGION};
use support::{policy_sids, sid_of, unique, DEFAULT_ACCOUNT};

const SRC: &str = DEFAULT_ACCOUNT;
const ACCT_B: &str = "222222222222";
const REGION_B: &str = "us-west-2";
const FAILED: &str = "s3:Replication:OperationFailedReplication";

async fn create_topic(h: &Harness, name: &str) -> String {
    create_topic_in(h, HOME_REGION, name).await
}

async fn create_topic_in(h: &Harness, region: &str, name: &str) -> String {
    let sns = h.emu.sns(SRC, region).await;
    let out = sns.create_topic().name(name).send().await.unwrap();
    out.topic_arn.unwrap()
}

async fn topic_policy(h: &Harness, arn: &str) -> Value {
    let sns = h.emu.sns(SRC, HOME_REGION).await;
    let out = sns
        .get_topic_attributes()
        .topic_arn(arn)
        .send()
        .await
        .unwrap();
    let text = out.attributes().and_then(|a| a.get("Policy")).cloned();
    serde_json::from_str(&text.unwrap_or_default()).unwrap_or(Value::Null)
}

/// The queue's ARN and URL.
async fn create_queue(h: &Harness, name: &str) -> (String, String) {
    let sqs = h.emu.sqs(SRC, HOME_REGION).await;
    let url = sqs
        .create_queue()
        .queue_name(name)
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    (format!("arn:aws:sqs:{HOME_REGION}:{SRC}:{name}"), url)
}

async fn queue_policy(h: &Harness, url: &str) -> Value {
    let sqs = h.emu.sqs(SRC, HOME_REGION).await;
    let out = sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::Policy)
        .send()
        .await
        .unwrap();
    let text = out
        .attributes()
        .and_then(|a| a.get(&aws_sdk_sqs::types::QueueAttributeName::Policy))
        .cloned();
    serde_json::from_str(&text.unwrap_or_default()).unwrap_or(Value::Null)
}

/// (Id, ARN, events) of every topic and queue configuration of the bucket.
async fn notifications(h: &Harness, bucket: &str) -> Vec<(String, String, Vec<String>)> {
    let s3 = h.emu.s3(SRC, HOME_REGION).await;
    let out = s3
        .get_bucket_notification_configuration()
        .bucket(bucket)
        .send()
        .await
        .unwrap();
    let events = |e: &[aws_sdk_s3::types::Event]| {
        let mut v: Vec<String> = e.iter().map(|x| x.as_str().to_owned()).collect();
        v.sort();
        v
    };
    let mut all: Vec<(String, String, Vec<String>)> = out
        .topic_configurations()
        .iter()
        .map(|c| {
            (
                c.id().unwrap_or_default().to_owned(),
                c.topic_arn().to_owned(),
                events(c.events()),
            )
        })
        .collect();
    all.extend(out.queue_configurations().iter().map(|c| {
        (
            c.id().unwrap_or_default().to_owned(),
            c.queue_arn().to_owned(),
            events(c.events()),
        )
    }));
    all
}

/// (name, metric, actions) of the alarms under the provider's prefix for `bucket` in the
/// source region.
async fn alarms(h: &Harness, bucket: &str) -> Vec<(String, String, Vec<String>)> {
    alarms_in(h, HOME_REGION, bucket).await
}

/// [`alarms`] in `region` (of the source account), each alarm's missing-data treatment checked.
async fn alarms_in(h: &Harness, region: &str, bucket: &str) -> Vec<(String, String, Vec<String>)> {
    let cw = h.emu.cloudwatch(SRC, region).await;
    let out = cw
        .describe_alarms()
        .alarm_name_prefix(format!("s3-replication/{bucket}/"))
        .send()
        .await
        .unwrap();
    out.metric_alarms()
        .iter()
        .map(|a| {
            assert_eq!(a.treat_missing_data(), Some("ignore"), "{a:?}");
            (
                a.alarm_name().unwrap_or_default().to_owned(),
                a.metric_name().unwrap_or_default().to_owned(),
                a.alarm_actions().to_vec(),
            )
        })
        .collect()
}

/// A queue configuration someone else put on the source bucket, to be kept as it is.
async fn their_notification(h: &Harness, bucket: &str, queue_arn: &str) {
    use aws_sdk_s3::types::{
        Event, FilterRule, FilterRuleName, NotificationConfiguration,
        NotificationConfigurationFilter, QueueConfiguration, S3KeyFilter,
    };
    let filter = NotificationConfigurationFilter::builder()
        .key(
            S3KeyFilter::builder()
                .filter_rules(
                    FilterRule::builder()
                        .name(FilterRuleName::Prefix)
                        .value("incoming/")
                        .build(),
                )
                .build(),
        )
        .build();
    let theirs = QueueConfiguration::builder()
        .id("theirs")
        .queue_arn(queue_arn)
        .events(Event::from("s3:ObjectCreated:*"))
        .filter(filter)
        .build()
        .unwrap();
    let s3 = h.emu.s3(SRC, HOME_REGION).await;
    s3.put_bucket_notification_configuration()
        .bucket(bucket)
        .notification_configuration(
            NotificationConfiguration::builder()
                .queue_configurations(theirs)
                .build(),
        )
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn notification_and_alarms_are_added_beside_others_kept_idempotent_and_removed_by_update_and_delete(
) {
    let h = Harness::start().await;
    let (src, dst, dst2) = (unique("src"), unique("dst"), unique("dst2"));
    h.emu.create_bucket(SRC, HOME_REGION, &src, false).await;
    h.emu.create_bucket(ACCT_B, REGION_B, &dst, false).await;
    h.emu.create_bucket(ACCT_B, REGION_B, &dst2, false).await;
    let topic = create_topic(&h, &unique("s3-replication-failures")).await;
    let west_topic = create_topic_in(&h, REGION_B, &unique("s3-replication-alarms")).await;
    let (their_queue, _) = create_queue(&h, &unique("their-ingest")).await;
    let (queue, queue_url) = create_queue(&h, &unique("s3-replication-failures")).await;
    their_notification(&h, &src, &their_queue).await;
    let default_topic_sids = policy_sids(&topic_policy(&h, &topic).await);
    // The latency alarm an earlier version put in the source region, where S3 never
    // publishes ReplicationLatency for a destination in another region.
    let stale_latency = format!("s3-replication/{src}/replicate-to-{dst}/replication-latency");
    h.emu
        .cloudwatch(SRC, HOME_REGION)
        .await
        .put_metric_alarm()
        .alarm_name(&stale_latency)
        .namespace("AWS/S3")
        .metric_name("ReplicationLatency")
        .statistic(aws_sdk_cloudwatch::types::Statistic::Maximum)
        .period(300)
        .evaluation_periods(1)
        .threshold(900.0)
        .comparison_operator(aws_sdk_cloudwatch::types::ComparisonOperator::GreaterThanThreshold)
        .treat_missing_data("notBreaching")
        .send()
        .await
        .unwrap();

    let props = json!({
        "SourceBucket": src, "FailureNotification": topic, "Alarms": "true",
        "AlarmTopics": [west_topic],
        "Destinations": [
            {"Bucket": dst, "AccountId": ACCT_B, "Region": REGION_B, "ReplicationTimeControl": "true"},
            {"Bucket": dst2, "AccountId": ACCT_B, "Region": REGION_B, "Prefix": "logs/"}]
    });
    let created = h.create(&props).await;
    created.assert_success();
    let id = created.physical_id().to_owned();
    let ours = format!("s3-replication-failures-{src}");

    // Ours beside theirs; all three events (a rule has RTC).
    let mut want_events = vec![
        FAILED.to_owned(),
        "s3:Replication:OperationMissedThreshold".to_owned(),
        "s3:Replication:OperationReplicatedAfterThreshold".to_owned(),
    ];
    want_events.sort();
    let configured = notifications(&h, &src).await;
    assert!(
        configured.contains(&(ours.clone(), topic.clone(), want_events)),
        "{configured:?}"
    );
    assert!(
        configured.contains(&(
            "theirs".to_owned(),
            their_queue.clone(),
            vec!["s3:ObjectCreated:*".to_owned()]
        )),
        "{configured:?}"
    );
    let s3 = h.emu.s3(SRC, HOME_REGION).await;
    let theirs_filter = s3
        .get_bucket_notification_configuration()
        .bucket(&src)
        .send()
        .await
        .unwrap()
        .queue_configurations()[0]
        .filter()
        .and_then(|f| f.key())
        .map(|k| k.filter_rules()[0].value().unwrap_or_default().to_owned());
    assert_eq!(theirs_filter.as_deref(), Some("incoming/"));

    // The topic policy: SNS's default statement kept, ours for this bucket and account only.
    let policy = topic_policy(&h, &topic).await;
    let sid = sid_of(&src);
    let mut want_sids = default_topic_sids.clone();
    want_sids.push(sid.clone());
    assert_eq!(policy_sids(&policy), want_sids, "{policy}");
    let stmt = policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["Sid"] == sid)
        .unwrap()
        .clone();
    assert_eq!(stmt["Principal"]["Service"], "s3.amazonaws.com");
    assert_eq!(stmt["Action"], "sns:Publish");
    assert_eq!(
        stmt["Condition"]["ArnLike"]["aws:SourceArn"],
        format!("arn:aws:s3:::{src}")
    );
    assert_eq!(stmt["Condition"]["StringEquals"]["aws:SourceAccount"], SRC);

    // Metrics on for every rule (the events need them), RTC or not.
    let live = h.emu.replication(SRC, HOME_REGION, &src).await.unwrap();
    for rule in live["Rules"].as_array().unwrap() {
        assert_eq!(rule["Metrics"], "Enabled", "{rule}");
    }

    // Failures for both rules in the source region (the stale latency alarm gone), acting on
    // the FailureNotification topic; latency for the RTC rule in the destination's region,
    // acting on the AlarmTopics topic of that region.
    let (rule_a, rule_b) = (
        format!("replicate-to-{dst}"),
        format!("replicate-to-{dst2}"),
    );
    let got = alarms(&h, &src).await;
    let names: Vec<&str> = got.iter().map(|a| a.0.as_str()).collect();
    assert_eq!(
        names,
        [
            format!("s3-replication/{src}/{rule_a}/failed-replication"),
            format!("s3-replication/{src}/{rule_b}/failed-replication"),
        ]
    );
    assert!(got.iter().all(|a| a.2 == vec![topic.clone()]), "{got:?}");
    assert_eq!(
        alarms_in(&h, REGION_B, &src).await,
        [(
            stale_latency.clone(),
            "ReplicationLatency".to_owned(),
            vec![west_topic.clone()]
        )]
    );

    // A repeated Create changes nothing.
    let again = h.create(&props).await;
    again.assert_success();
    assert!(again.mutations().is_empty(), "{:?}", again.mutations());

    // Update: the queue instead of the topic, the second destination dropped (its alarm goes).
    let mut updated_props = props.clone();
    updated_props["FailureNotification"] = json!(queue);
    updated_props["Destinations"] = json!([props["Destinations"][0]]);
    let updated = h.update(&updated_props, &id, &props).await;
    updated.assert_success();
    let configured = notifications(&h, &src).await;
    assert!(
        configured.iter().any(|c| c.0 == ours && c.1 == queue),
        "{configured:?}"
    );
    assert!(!configured.iter().any(|c| c.1 == topic), "{configured:?}");
    assert!(configured.iter().any(|c| c.0 == "theirs"), "{configured:?}");
    assert_eq!(
        policy_sids(&topic_policy(&h, &topic).await),
        default_topic_sids
    );
    let qp = queue_policy(&h, &queue_url).await;
    assert_eq!(policy_sids(&qp), vec![sid.clone()], "{qp}");
    assert_eq!(qp["Statement"][0]["Action"], "sqs:SendMessage");
    let names: Vec<String> = alarms(&h, &src).await.into_iter().map(|a| a.0).collect();
    assert_eq!(
        names,
        [format!("s3-replication/{src}/{rule_a}/failed-replication")]
    );
    // A queue is no alarm action; the topic of the destination's region still is.
    assert!(alarms(&h, &src).await.iter().all(|a| a.2.is_empty()));
    assert_eq!(
        alarms_in(&h, REGION_B, &src).await[0].2,
        vec![west_topic.clone()]
    );

    // Update: alarms off, in every region.
    let mut no_alarms = updated_props.clone();
    no_alarms["Alarms"] = json!("false");
    no_alarms.as_object_mut().unwrap().remove("AlarmTopics");
    let quiet = h.update(&no_alarms, &id, &updated_props).await;
    quiet.assert_success();
    assert!(alarms(&h, &src).await.is_empty());
    assert!(alarms_in(&h, REGION_B, &src).await.is_empty());

    // Delete: only theirs is left; the queue has no policy of ours.
    let deleted = h.delete(&no_alarms, &id).await;
    deleted.assert_success();
    let configured = notifications(&h, &src).await;
    assert_eq!(configured.len(), 1, "{configured:?}");
    assert_eq!(configured[0].0, "theirs");
    assert!(policy_sids(&queue_policy(&h, &queue_url).await).is_empty());
}

#[tokio::test]
async fn a_missing_topic_or_queue_fails_the_request_naming_it() {
    let h = Harness::start().await;
    let (src, dst) = (unique("src"), unique("dst"));
    h.emu.create_bucket(SRC, HOME_REGION, &src, false).await;
    h.emu.create_bucket(ACCT_B, REGION_B, &dst, false).await;
    for target in [
        format!("arn:aws:sns:{HOME_REGION}:{SRC}:s3-replication-nowhere"),
        format!("arn:aws:sqs:{HOME_REGION}:{SRC}:s3-replication-nowhere"),
    ] {
        let props = json!({
            "SourceBucket": src, "FailureNotification": target,
            "Destinations": [{"Bucket": dst, "AccountId": ACCT_B, "Region": REGION_B}]
        });
        let answered = h.request_unchecked("Create", &props, None, None).await;
        answered.assert_failed_with(&[&target, "does not exist", "nothing was changed"]);
        assert!(
            answered.mutations().is_empty(),
            "{:?}",
            answered.mutations()
        );
    }
}

#[tokio::test]
async fn a_topic_in_another_region_or_account_is_refused_before_anything_is_written() {
    let h = Harness::start().await;
    let (src, dst) = (unique("src"), unique("dst"));
    h.emu.create_bucket(SRC, HOME_REGION, &src, false).await;
    h.emu.create_bucket(ACCT_B, REGION_B, &dst, false).await;
    for (target, needle) in [
        (
            format!("arn:aws:sns:{REGION_B}:{SRC}:s3-replication-x"),
            "bucket's region",
        ),
        (
            format!("arn:aws:sns:{HOME_REGION}:{ACCT_B}:s3-replication-x"),
            "source account",
        ),
    ] {
        let props = json!({
            "SourceBucket": src, "FailureNotification": target,
            "Destinations": [{"Bucket": dst, "AccountId": ACCT_B, "Region": REGION_B}]
        });
        let answered = h.request_unchecked("Create", &props, None, None).await;
        answered.assert_failed_with(&[&target, needle]);
        assert!(
            answered.mutations().is_empty(),
            "{:?}",
            answered.mutations()
        );
    }
}

/// An alarm moves with its rule: RTC turned off removes the latency alarm of the destination's
/// region; a destination moved to another region takes the alarm's region with it, and a
/// Delete removes the alarms of every region.
#[tokio::test]
async fn latency_alarms_live_in_the_destinations_region_and_leave_with_their_rule() {
    let h = Harness::start().await;
    let (src, dst, near) = (unique("src"), unique("dst"), unique("near"));
    h.emu.create_bucket(SRC, HOME_REGION, &src, false).await;
    h.emu.create_bucket(ACCT_B, REGION_B, &dst, false).await;
    h.emu.create_bucket(ACCT_B, HOME_REGION, &near, false).await;
    let rtc = |bucket: &str, region: &str| json!({"Bucket": bucket, "AccountId": ACCT_B, "Region": region, "ReplicationTimeControl": "true"});
    let props =
        json!({"SourceBucket": src, "Alarms": "true", "Destinations": [rtc(&dst, REGION_B)]});
    let created = h.create(&props).await;
    created.assert_success();
    let id = created.physical_id().to_owned();
    let west = alarms_in(&h, REGION_B, &src).await;
    assert_eq!(west.len(), 1, "{west:?}");
    assert_eq!(west[0].1, "ReplicationLatency");
    // No topic in us-west-2: an alarm without action (its state only).
    assert!(west[0].2.is_empty());
    // The destination moves to the source's region: its latency alarm comes along.
    let moved =
        json!({"SourceBucket": src, "Alarms": "true", "Destinations": [rtc(&near, HOME_REGION)]});
    h.update(&moved, &id, &props).await.assert_success();
    assert!(alarms_in(&h, REGION_B, &src).await.is_empty());
    let mut metrics: Vec<String> = alarms(&h, &src).await.into_iter().map(|a| a.1).collect();
    metrics.sort();
    assert_eq!(
        metrics,
        ["OperationsFailedReplication", "ReplicationLatency"]
    );
    // Back to us-west-2 without RTC: no latency alarm anywhere.
    let mut plain = props.clone();
    plain["Destinations"][0]
        .as_object_mut()
        .unwrap()
        .remove("ReplicationTimeControl");
    h.update(&plain, &id, &moved).await.assert_success();
    let metrics: Vec<String> = alarms(&h, &src).await.into_iter().map(|a| a.1).collect();
    assert_eq!(metrics, ["OperationsFailedReplication"]);
    assert!(alarms_in(&h, REGION_B, &src).await.is_empty());
    // RTC again, then Delete: nothing left in either region.
    h.update(&props, &id, &plain).await.assert_success();
    assert_eq!(alarms_in(&h, REGION_B, &src).await.len(), 1);
    h.delete(&props, &id).await.assert_success();
    assert!(alarms(&h, &src).await.is_empty());
    assert!(alarms_in(&h, REGION_B, &src).await.is_empty());
}

/// `AlarmTopics` is checked before anything is written: a topic that does not exist, one of
/// another account. One in a region without alarms serves none and is no error.
#[tokio::test]
async fn an_unusable_alarm_topic_is_refused_before_anything_is_written() {
    let h = Harness::start().await;
    let (src, dst) = (unique("src"), unique("dst"));
    h.emu.create_bucket(SRC, HOME_REGION, &src, false).await;
    h.emu.create_bucket(ACCT_B, REGION_B, &dst, false).await;
    let elsewhere = create_topic_in(&h, "ap-southeast-2", &unique("s3-replication-alarms")).await;
    for (topic, needle) in [
        (
            format!("arn:aws:sns:{REGION_B}:{SRC}:s3-replication-nowhere"),
            "does not exist",
        ),
        (
            format!("arn:aws:sns:{REGION_B}:{ACCT_B}:s3-replication-x"),
            "the alarms are in the source account",
        ),
    ] {
        let props = json!({
            "SourceBucket": src, "Alarms": "true", "AlarmTopics": [topic],
            "Destinations": [{"Bucket": dst, "AccountId": ACCT_B, "Region": REGION_B,
                "ReplicationTimeControl": "true"}]
        });
        let answered = h.request_unchecked("Create", &props, None, None).await;
        answered.assert_failed_with(&[&topic, needle, "nothing was changed"]);
        assert!(
            answered.mutations().is_empty(),
            "{:?}",
            answered.mutations()
        );
    }
    let props = json!({
        "SourceBucket": src, "Alarms": "true", "AlarmTopics": [elsewhere],
        "Destinations": [{"Bucket": dst, "AccountId": ACCT_B, "Region": REGION_B}]
    });
    h.create(&props).await.assert_success();
    assert!(alarms_in(&h, "ap-southeast-2", &src).await.is_empty());
}
