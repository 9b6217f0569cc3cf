//! Call-log analysis (see the crate docs' definitions): the critical path of a Create through
//! the calls' necessary order, the executed chain, and what the product serialised beyond it.

use std::collections::BTreeMap;
use std::time::Duration;

use s3_replication_provider::aws::Call;
use serde_json::{json, Value};

use crate::stats::ms;
use crate::support::harness::Answered;

#[derive(Clone, PartialEq, Eq, Debug)]
pub(crate) enum Obj {
    Bucket(String),
    Key(String, String),
    Role(String),
    Identity,
    Credentials(String),
}

pub(crate) fn object(c: &Call) -> Obj {
    match c.service {
        "s3" => Obj::Bucket(c.resource.clone()),
        "kms" => Obj::Key(c.account.clone(), c.region.clone()),
        "iam" => Obj::Role(c.resource.clone()),
        _ if c.operation == "AssumeRole" => Obj::Credentials(c.account.clone()),
        _ => Obj::Identity,
    }
}

/// `BucketVersioning` for Get/PutBucketVersioning, etc.
pub(crate) fn aspect(op: &str) -> &str {
    for p in ["Get", "Put", "Delete"] {
        if let Some(rest) = op.strip_prefix(p) {
            return rest;
        }
    }
    op
}

/// Whether `v` must wait for `u` (rules 1–5 of the module docs); `u` ended before `v` started.
pub(crate) fn must_follow(u: &Call, v: &Call, src_account: &str, check_read: bool) -> bool {
    let (uo, vo) = (u.operation, v.operation);
    // 1. identity and credentials
    if uo == "GetCallerIdentity" {
        return v.account == src_account;
    }
    if uo == "AssumeRole" {
        return vo != "AssumeRole" && v.account == u.account && v.account != src_account;
    }
    // 2. check before change
    if v.mutating && check_read {
        return true;
    }
    // 5. switch on last
    if vo == "PutBucketReplication" && u.mutating {
        return true;
    }
    if vo == "TagRole" && uo == "PutBucketReplication" {
        return true;
    }
    // 4. data
    if uo == "CreateRole" && matches!(vo, "PutKeyPolicy" | "PutBucketPolicy") {
        return true;
    }
    if uo == "CreateKey"
        && (vo == "PutRolePolicy"
            || (vo == "PutBucketEncryption" && u.account == v.account && u.region == v.region))
    {
        return true;
    }
    // 3. same object
    let (a, b) = (object(u), object(v));
    if a != b {
        return false;
    }
    match a {
        Obj::Bucket(_) => {
            matches!(uo, "GetBucketLocation" | "CreateBucket")
                || (aspect(uo) == aspect(vo) && uo != vo)
                || (uo == vo && u.mutating)
        }
        Obj::Key(..) => {
            uo == "CreateKey"
                || (vo == "CreateKey" && matches!(uo, "DescribeKey" | "ListResourceTags"))
                || (uo == "DescribeKey" && vo == "ListResourceTags")
                || (uo == "GetKeyPolicy" && vo == "PutKeyPolicy")
                || (uo == "GetKeyRotationStatus" && vo == "EnableKeyRotation")
        }
        Obj::Role(_) => {
            uo == "CreateRole"
                || (uo == "GetRole"
                    && matches!(vo, "CreateRole" | "UpdateAssumeRolePolicy" | "TagRole"))
                || (uo == "GetRolePolicy" && vo == "PutRolePolicy")
        }
        Obj::Identity | Obj::Credentials(_) => false,
    }
}

pub(crate) struct Analysis {
    pub(crate) wall: Duration,
    pub(crate) calls: usize,
    pub(crate) mutating: usize,
    pub(crate) sum: Duration,
    pub(crate) busy: Duration,
    pub(crate) executed: Duration,
    pub(crate) executed_path: Vec<String>,
    pub(crate) critical: Duration,
    pub(crate) critical_path: Vec<String>,
    /// The critical path with the settle wait before each verifying policy read.
    pub(crate) critical_verified: Duration,
    pub(crate) by_verb: BTreeMap<String, usize>,
    /// Every call, by start: `[start ms, end ms, operation, account, resource]` (perf.json only).
    pub(crate) timeline: Vec<Value>,
}

pub(crate) fn label(c: &Call) -> String {
    let lat = ms(c.end.saturating_sub(c.start));
    let what = match c.service {
        "s3" => c
            .resource
            .trim_start_matches("arn:aws:s3:::")
            .chars()
            .take(8)
            .collect::<String>(),
        "kms" | "sts" => c.account.chars().take(3).collect::<String>(),
        _ => "role".to_owned(),
    };
    format!("{}[{what}] {lat:.1}", c.operation)
}

/// The wait the product must leave before each call: the configured settle time before a
/// verifying re-read of a shared policy (a Get…Policy after this invocation's Put…Policy of the
/// same policy). S3 and KMS have no conditional writes, so that read is how a concurrent
/// writer's overwrite is caught (reconcile::statements; tests/concurrency.rs loses statements
/// without it); zero for every other call.
pub(crate) fn verification_waits(calls: &[Call], settle: Duration) -> Vec<Duration> {
    calls
        .iter()
        .map(|c| {
            let put = match c.operation {
                "GetBucketPolicy" => "PutBucketPolicy",
                "GetKeyPolicy" => "PutKeyPolicy",
                _ => return Duration::ZERO,
            };
            let verifying = calls
                .iter()
                .any(|p| p.operation == put && p.resource == c.resource && p.end <= c.start);
            if verifying {
                settle
            } else {
                Duration::ZERO
            }
        })
        .collect()
}

pub(crate) fn longest(
    calls: &[Call],
    edge: impl Fn(usize, usize) -> bool,
) -> (Duration, Vec<String>) {
    longest_with(calls, &vec![Duration::ZERO; calls.len()], edge)
}

/// Longest chain through `edge`, each call weighted by its latency plus `wait[i]`.
pub(crate) fn longest_with(
    calls: &[Call],
    wait: &[Duration],
    edge: impl Fn(usize, usize) -> bool,
) -> (Duration, Vec<String>) {
    let n = calls.len();
    let mut best = vec![Duration::ZERO; n];
    let mut prev: Vec<Option<usize>> = vec![None; n];
    for v in 0..n {
        let mut base = Duration::ZERO;
        for u in 0..n {
            if u != v && calls[u].end <= calls[v].start && best[u] > base && edge(u, v) {
                base = best[u];
                prev[v] = Some(u);
            }
        }
        best[v] = base + calls[v].end.saturating_sub(calls[v].start) + wait[v];
    }
    let Some(mut at) = (0..n).max_by_key(|&i| best[i]) else {
        return (Duration::ZERO, Vec::new());
    };
    let total = best[at];
    let mut path = vec![label(&calls[at])];
    while let Some(p) = prev[at] {
        path.push(label(&calls[p]));
        at = p;
    }
    path.reverse();
    (total, path)
}

/// The calls by start (then end), and for each whether it belongs to the check phase (a read
/// that ended before the first mutation started).
fn in_order(raw: &[Call]) -> (Vec<Call>, Vec<bool>) {
    let mut calls = raw.to_vec();
    calls.sort_by_key(|c| (c.start, c.end));
    let first_mutation = calls
        .iter()
        .filter(|c| c.mutating)
        .map(|c| c.start)
        .min()
        .unwrap_or(Duration::MAX);
    let check: Vec<bool> = calls
        .iter()
        .map(|c| !c.mutating && c.end <= first_mutation)
        .collect();
    (calls, check)
}

/// `settle`: the policy settle time the product ran with (zero when verification is off).
pub(crate) fn analyse(
    raw: &[Call],
    wall: Duration,
    src_account: &str,
    settle: Duration,
) -> Analysis {
    let (calls, check) = in_order(raw);
    let (critical, critical_path) = longest(&calls, |u, v| {
        must_follow(&calls[u], &calls[v], src_account, check[u])
    });
    let waits = verification_waits(&calls, settle);
    let (critical_verified, _) = longest_with(&calls, &waits, |u, v| {
        must_follow(&calls[u], &calls[v], src_account, check[u])
    });
    let (executed, executed_path) = longest(&calls, |_, _| true);
    let sum = calls.iter().map(|c| c.end.saturating_sub(c.start)).sum();
    // union of the call intervals
    let mut busy = Duration::ZERO;
    let mut cur: Option<(Duration, Duration)> = None;
    for c in &calls {
        match cur {
            Some((s, e)) if c.start <= e => cur = Some((s, e.max(c.end))),
            Some((s, e)) => {
                busy += e - s;
                cur = Some((c.start, c.end));
            }
            None => cur = Some((c.start, c.end)),
        }
    }
    if let Some((s, e)) = cur {
        busy += e - s;
    }
    let mut by_verb = BTreeMap::new();
    for c in calls.iter().filter(|c| c.mutating) {
        *by_verb.entry(c.operation.to_owned()).or_insert(0) += 1;
    }
    let timeline = calls
        .iter()
        .map(|c| json!([ms(c.start), ms(c.end), c.operation, c.account, c.resource]))
        .collect();
    Analysis {
        timeline,
        wall,
        calls: calls.len(),
        mutating: calls.iter().filter(|c| c.mutating).count(),
        sum,
        busy,
        executed,
        executed_path,
        critical,
        critical_path,
        critical_verified,
        by_verb,
    }
}

/// The longest necessary chain strictly between the first call matching `from` and the first
/// matching `to` (the time the dependencies force between them), or None if they are unrelated.
pub(crate) fn necessary_between(
    raw: &[Call],
    src_account: &str,
    from: impl Fn(&Call) -> bool,
    to: impl Fn(&Call) -> bool,
) -> Option<Duration> {
    let (calls, check) = in_order(raw);
    let a = calls.iter().position(&from)?;
    let b = calls.iter().position(&to)?;
    let edge = |u: usize, v: usize| {
        calls[u].end <= calls[v].start && must_follow(&calls[u], &calls[v], src_account, check[u])
    };
    // reach[v]: longest chain after `a` ending with v (v's latency included).
    let mut reach: Vec<Option<Duration>> = vec![None; calls.len()];
    reach[a] = Some(Duration::ZERO);
    for v in 0..calls.len() {
        if v == a || v == b {
            continue;
        }
        let best = (0..calls.len())
            .filter(|&u| u != v && edge(u, v))
            .filter_map(|u| reach[u])
            .max();
        reach[v] = best.map(|d| d + calls[v].end.saturating_sub(calls[v].start));
    }
    (0..calls.len())
        .filter(|&u| u != b && edge(u, b))
        .filter_map(|u| reach[u])
        .max()
}

pub(crate) fn verbs(m: &BTreeMap<String, usize>) -> String {
    if m.is_empty() {
        return "none".to_owned();
    }
    m.iter()
        .map(|(k, v)| format!("{k}×{v}"))
        .collect::<Vec<_>>()
        .join(" ")
}

pub(crate) fn mutating_verbs(a: &Answered) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for c in a.outcome.calls.iter().filter(|c| c.mutating) {
        *m.entry(c.operation.to_owned()).or_insert(0) += 1;
    }
    m
}

pub(crate) fn print_analysis(name: &str, a: &Analysis) {
    println!(
        "  {name}: wall {:.1} ms | {} calls ({} mutating), Σ latency {:.1} ms, AWS busy {:.1} ms | executed chain {:.1} ms | critical path {:.1} ms | wall/critical ×{:.2}",
        ms(a.wall),
        a.calls,
        a.mutating,
        ms(a.sum),
        ms(a.busy),
        ms(a.executed),
        ms(a.critical),
        ms(a.wall) / ms(a.critical).max(0.001)
    );
}

pub(crate) fn analysis_json(a: &Analysis) -> Value {
    json!({
        "wall_ms": ms(a.wall), "calls": a.calls, "mutating": a.mutating,
        "sum_latency_ms": ms(a.sum), "busy_ms": ms(a.busy),
        "executed_chain_ms": ms(a.executed), "executed_chain": a.executed_path,
        "critical_path_ms": ms(a.critical), "critical_path_with_settle_ms": ms(a.critical_verified), "critical_path": a.critical_path,
        "mutations_by_verb": a.by_verb, "timeline": a.timeline,
    })
}
