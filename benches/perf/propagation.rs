//! IAM propagation: PutBucketReplication retried with jittered backoff while the new role is
//! "not valid", and bounded by the deadline when it never becomes valid.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use s3_replication_provider::aws::Call;
use s3_replication_provider::handler::Settings;
use s3_replication_provider::time::Budget;
use serde_json::json;

use crate::critical_path::necessary_between;
use crate::report::{clip, Report, Verdict};
use crate::stats::{list_int, list_ms, ms};
use crate::support::harness::Harness;
use crate::support::proxy::{Answer, Rule};
use crate::support::{self, cfn_event, uuid};
use crate::worlds::{provider_with, timed, world_kms};
use crate::{Opts, SRC};

pub(crate) fn role_not_valid(src: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>InvalidRequest</Code><Message>Role arn:aws:iam::{SRC}:role/s3-replication/s3-replication-{src} is not valid</Message><RequestId>fault</RequestId><HostId>fault</HostId></Error>"
    )
}

pub(crate) fn put_replication_of(
    bucket: String,
) -> impl Fn(&support::proxy::Seen) -> bool + Send + Sync {
    move |s| s.method == "PUT" && s.target.contains("replication") && s.target.contains(&bucket)
}

/// The cap of `backoff(n)` in src/reconcile/retry.rs: 0.5 s × 2^min(n, 4).
pub(crate) fn backoff_cap(n: usize) -> f64 {
    500.0 * f64::from(1u32 << n.min(4))
}

pub(crate) async fn bench_propagation(
    opts: &Opts,
    h: &Harness,
    report: &mut Report,
) -> Result<(), String> {
    let figure = "IAM propagation: PutBucketReplication retries";
    let k = if opts.smoke { 1 } else { 3 };
    let props = world_kms(h, 1).await;
    let src = props["SourceBucket"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    h.proxy.add_rule(Rule {
        matches: Box::new(put_replication_of(src.clone())),
        answer: Answer::Status(400, role_not_valid(&src)),
        remaining: Some(k),
    });
    let (a, wall) = timed(h, "Create", &props, None).await?;
    let mut calls = a.outcome.calls.clone();
    calls.sort_by_key(|c| c.start);
    let role_end = calls
        .iter()
        .find(|c| c.operation == "CreateRole" && c.ok)
        .map(|c| c.end)
        .ok_or("no CreateRole in the call log")?;
    let puts: Vec<&Call> = calls
        .iter()
        .filter(|c| c.operation == "PutBucketReplication")
        .collect();
    if puts.len() != k + 1 || !puts[k].ok || puts[..k].iter().any(|c| c.ok) {
        return Err(format!(
            "expected {k} failed + 1 successful PutBucketReplication, got {:?}",
            puts.iter().map(|c| c.ok).collect::<Vec<_>>()
        ));
    }
    let first_gap = puts[0].start.saturating_sub(role_end);
    // Idle time (no AWS call in flight) between CreateRole's end and the first attempt.
    let mut idle_max = Duration::ZERO;
    let mut cursor = role_end;
    for c in calls
        .iter()
        .filter(|c| c.end > role_end && c.start < puts[0].start)
    {
        if c.start > cursor {
            idle_max = idle_max.max(c.start - cursor);
        }
        cursor = cursor.max(c.end);
    }
    if puts[0].start > cursor {
        idle_max = idle_max.max(puts[0].start - cursor);
    }
    let between: Vec<&str> = calls
        .iter()
        .filter(|c| c.start >= role_end && c.end <= puts[0].start)
        .map(|c| c.operation)
        .collect();
    let necessary = necessary_between(
        &calls,
        SRC,
        |c| c.operation == "CreateRole" && c.ok,
        |c| c.operation == "PutBucketReplication",
    )
    .unwrap_or_default();
    let waits: Vec<f64> = puts
        .windows(2)
        .map(|w| ms(w[1].start.saturating_sub(w[0].end)))
        .collect();
    let caps: Vec<f64> = (1..=k).map(backoff_cap).collect();
    let in_band = waits
        .iter()
        .zip(&caps)
        .all(|(w, c)| *w >= 0.5 * c - 5.0 && *w <= c + 100.0);
    let jittered = waits.len() < 2
        || waits
            .iter()
            .zip(&caps)
            .map(|(w, c)| (w / c * 1000.0).round() as i64)
            .collect::<std::collections::BTreeSet<_>>()
            .len()
            > 1;
    println!(
        "  Create with {k} propagation failure(s): SUCCESS in {:.0} ms; CreateRole end → first PutBucketReplication start {:.1} ms, of which the dependencies need {:.1} ms (longest time with no call in flight {:.1} ms; calls in between: {})",
        ms(wall),
        ms(first_gap),
        ms(necessary),
        ms(idle_max),
        between.join(", ")
    );
    println!(
        "  backoff waits (ms): {} — caps {} (full jitter 0.5–1 × cap)",
        list_ms(&waits),
        list_ms(&caps)
    );

    // Bounded by the deadline: the role never becomes usable.
    let budget = Duration::from_secs(6);
    let props2 = world_kms(h, 1).await;
    let src2 = props2["SourceBucket"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let enabled = Arc::new(AtomicBool::new(true));
    let flag = enabled.clone();
    let matcher = put_replication_of(src2.clone());
    h.proxy.add_rule(Rule {
        matches: Box::new(move |s| flag.load(Ordering::SeqCst) && matcher(s)),
        answer: Answer::Status(400, role_not_valid(&src2)),
        remaining: None,
    });
    let provider = provider_with(
        h,
        Settings {
            time_budget: budget,
            ..support::local_settings()
        },
    )
    .await;
    let response_id = uuid();
    let event = cfn_event("Create", &h.rx.url(&response_id), props2, None, None);
    let t0 = Instant::now();
    let planned = Budget::new(None, budget);
    let outcome = provider.handle(event, None).await;
    let took = t0.elapsed();
    enabled.store(false, Ordering::SeqCst);
    let work_until = planned.work_until.saturating_duration_since(t0);
    let answer_until = planned.answer_until.saturating_duration_since(t0);
    let puts_for = h.rx.responses_for(&response_id);
    if !outcome.delivered || puts_for.len() != 1 || puts_for[0]["Status"] != "FAILED" {
        return Err(format!(
            "never-propagating role: expected one FAILED PUT, got {puts_for:?} (delivered {})",
            outcome.delivered
        ));
    }
    let reason = puts_for[0]["Reason"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let attempts: Vec<&Call> = outcome
        .calls
        .iter()
        .filter(|c| c.operation == "PutBucketReplication")
        .collect();
    let last_start = attempts.iter().map(|c| c.start).max().unwrap_or_default();
    let mut sorted = attempts.clone();
    sorted.sort_by_key(|c| c.start);
    let waits2: Vec<f64> = sorted
        .windows(2)
        .map(|w| ms(w[1].start.saturating_sub(w[0].end)))
        .collect();
    // The log's origin is a hair after t0; compare against the planned work deadline.
    let bounded = last_start <= work_until && took <= answer_until;
    println!(
        "  never-propagating role, {} s budget: {} attempts, waits (ms) {}, last attempt at {:.0} ms (work deadline {:.0} ms), FAILED answered at {:.0} ms (answer deadline {:.0} ms)",
        budget.as_secs(),
        attempts.len(),
        list_ms(&waits2),
        ms(last_start),
        ms(work_until),
        ms(took),
        ms(answer_until)
    );
    println!("  reason: {}", clip(&reason, 200));
    report.details.insert(
        "propagation".into(),
        json!({"failures": k, "create_role_end_to_first_put_ms": ms(first_gap), "necessary_ms": ms(necessary), "idle_max_ms": ms(idle_max),
               "waits_ms": waits, "caps_ms": caps, "deadline_attempts": attempts.len(),
               "deadline_waits_ms": waits2, "deadline_last_attempt_ms": ms(last_start),
               "work_deadline_ms": ms(work_until), "answered_ms": ms(took)}),
    );
    let no_sleep = idle_max < Duration::from_millis(50);
    let ok = no_sleep && in_band && jittered && bounded;
    report.row(
        figure,
        format!(
            "CreateRole→1st PUT {:.0} ms (dependencies need {:.0} ms; idle up to {:.0} ms); {k} retr{} after {} ms (caps {} ms); give-up bounded: last try {:.1} s < {:.1} s, FAILED at {:.1} s",
            ms(first_gap),
            ms(necessary),
            ms(idle_max),
            if k == 1 { "y" } else { "ies" },
            list_int(&waits),
            list_int(&caps),
            last_start.as_secs_f64(),
            work_until.as_secs_f64(),
            took.as_secs_f64()
        ),
        "no fixed sleep; jittered backoff; within deadline",
        Verdict::of(ok),
    );
    Ok(())
}
