//! Performance figures of issue 5, printed as one table.
//!
//! ```text
//! bash scripts/bench.sh            # release build, then every figure (≥ 20 cold starts, repeats)
//! bash scripts/bench.sh --smoke    # every measurement once, quickly (CI)
//! bash scripts/bench.sh --strict   # also exit 1 when a target is missed
//! ```
//!
//! `scripts/bench.sh` builds the product (`cargo build --release --bin bootstrap`), snapshots it to
//! `$BENCH_BOOTSTRAP` and runs this harness with `cargo bench --bench perf`. Process-level
//! figures (init, peak RSS, package size) use that release binary; figures that need the call log
//! (`Outcome.calls`) drive `Provider::handle` in-process through `tests/support` (moto behind the
//! fault proxy, the CloudFormation response receiver) on a current-thread runtime, as `main.rs`
//! does. Every run's answer is checked: delivered, exactly one PUT, SUCCESS (FAILED where the
//! run is meant to fail). An incorrect answer makes the harness exit 1; a missed target only with
//! `--strict`. Without `--bench` (i.e. under `cargo test --all-targets` / nextest) it does
//! nothing, so it stays out of the default test run.
//!
//! # Definitions
//!
//! * **init**: from just before `spawn()` of the release `bootstrap` (no arguments, Lambda
//!   environment, `AWS_LAMBDA_RUNTIME_API` pointing at a fake Runtime API on 127.0.0.1) to the
//!   moment the fake API has read its first `GET /2018-06-01/runtime/invocation/next`. The fake
//!   API then hands out a Delete of a resource that was never created (no AWS call) and checks
//!   the answer, so the runtime loop is exercised end to end.
//! * **critical path** of a Create: the longest chain, weighted by the measured latency
//!   (`end - start` in `Outcome.calls`), through the calls' *necessary* order. Call `v` must
//!   follow call `u` (when `u` ended before `v` started) if:
//!   1. identity/credentials: `u` is GetCallerIdentity and `v` acts in the source account, or `u`
//!      is the AssumeRole of `v`'s (destination) account;
//!   2. check before change (README): `u` is a read of the check phase (a read that ended before
//!      the first mutating call started) and `v` mutates;
//!   3. same object (a bucket; the KMS key of an account+region; the role): GetBucketLocation or
//!      CreateBucket before anything else on the bucket, and in-order on the same aspect
//!      (Get/PutBucketVersioning, …Policy, …Replication, …Encryption); the key lookup
//!      (DescribeKey, ListResourceTags) before CreateKey, DescribeKey before ListResourceTags,
//!      CreateKey before anything else on that key, GetKeyPolicy before PutKeyPolicy,
//!      GetKeyRotationStatus before EnableKeyRotation; GetRole before CreateRole /
//!      UpdateAssumeRolePolicy / TagRole, CreateRole before every later call on the role,
//!      GetRolePolicy before PutRolePolicy;
//!   4. data: CreateRole before PutKeyPolicy and PutBucketPolicy (their principal must exist),
//!      CreateKey before PutRolePolicy (it names the key ARNs) and before PutBucketEncryption in
//!      the same account and region;
//!   5. switch on last: PutBucketReplication after every other mutating call (and after its own
//!      earlier attempts); TagRole after PutBucketReplication (it records what was written).
//!
//!   Everything else may overlap. The **executed chain** is the same longest chain where any
//!   call that ended before another started counts as a predecessor: what the implementation
//!   actually serialised. `wall − executed chain` is time with no AWS call in flight (CPU,
//!   scheduling); `executed chain − critical path` is serialisation the dependencies do not need.
//!   The model identifies a KMS key by account+region, which the scenarios here respect (at
//!   most one key per account and region). Verifying re-reads of a policy after a write, and
//!   waits, are not predecessors of anything. The verdict uses the same path with one wait
//!   added: the configured settle time (`PROVIDER_POLICY_SETTLE_MS`, 400 ms) before each
//!   verifying re-read of a shared policy, because S3 and KMS have no conditional writes and that
//!   re-read is how a concurrent writer's overwrite is caught (without it `tests/concurrency.rs`
//!   loses statements); the calls-only ratio and the ratio with the settle disabled are printed
//!   beside it, and both the settled ratio and the settle-off ratio must be ≤ 1.5.
//! * **peak RSS**: `%M` of GNU `time` (wait4 rusage) around `bootstrap invoke <event>` for a
//!   Create with two destinations (created keys) against moto; the max over the runs.
//! * **package**: `zip -9 -X` of the newest arm64 `bootstrap` found (`.aws-sam/build`, the
//!   cargo-lambda target dirs), else of the x86_64 release snapshot (said in the table).
//! * **scaling**: the same shape (SSE-S3, unversioned existing buckets) with 1 and with 50
//!   destinations over 5 accounts and 3 regions; median wall times. Created keys are not used
//!   here because 50 replica keys overflow IAM's 10 240-character role policy.
//! * **idempotency**: the first world of each scenario gets a second identical Create and a no-op
//!   Update (old = new properties); every mutating call they attempt is counted by verb.
//! * **IAM propagation**: the fault proxy answers the first k PutBucketReplication calls with
//!   S3's `InvalidRequest` "Role … is not valid". PASS when, between CreateRole's end and the
//!   first attempt, no moment longer than 50 ms passes without an AWS call in flight (no sleep
//!   before the first attempt; the dependencies' own minimum is printed), every wait between
//!   attempts lies in the jitter band of `backoff(n)` (0.5–1 × 0.5 s·2^min(n,4)) and the waits
//!   differ, and, with a role that never propagates and a 6 s budget, no attempt starts after
//!   the work deadline and FAILED is answered before the answer deadline.
//! * **what-if** lines rerun a scenario with `PROVIDER_POLICY_SETTLE_MS=0` (read through
//!   `Settings::from_env`, as the product would) to size the policy settle-and-verify wait.
//!
//! The in-process figures use `Harness::start()`'s provider (the product's default settings,
//! 60 s budget). Timings on a shared machine are noisy: the header gives the load average.

#[path = "../tests/support/mod.rs"]
mod support;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::process::{ExitCode, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_config::{BehaviorVersion, Region};
use aws_credential_types::Credentials;
use futures::{FutureExt, StreamExt};
use s3_replication_provider::aws::Call;
use s3_replication_provider::doctor::{render_text, Status};
use s3_replication_provider::handler::{Provider, Settings};
use s3_replication_provider::plan::names::NOTHING_CREATED_PREFIX;
use s3_replication_provider::time::Budget;
use serde_json::{json, Value};
use support::harness::{Answered, Harness, HOME_REGION};
use support::proxy::{Answer, Rule};
use support::{cfn_event, unique, uuid, Receiver, DEFAULT_ACCOUNT};

const SRC: &str = DEFAULT_ACCOUNT;
const DEST_ACCOUNTS: [&str; 5] = [
    "222222222222",
    "333333333333",
    "444444444444",
    "555555555555",
    "666666666666",
];
const DEST_REGIONS: [&str; 3] = ["us-west-2", "ap-southeast-2", "eu-central-1"];

// ---------------------------------------------------------------------------------------------
// options, report
// ---------------------------------------------------------------------------------------------

struct Opts {
    smoke: bool,
    strict: bool,
    bootstrap: PathBuf,
    bootstrap_origin: String,
    out: PathBuf,
}

impl Opts {
    fn runs(&self, full: usize) -> usize {
        if self.smoke {
            1
        } else {
            full
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Verdict {
    Pass,
    Fail,
    Error,
}

impl Verdict {
    fn of(ok: bool) -> Self {
        if ok {
            Verdict::Pass
        } else {
            Verdict::Fail
        }
    }
    fn word(self) -> &'static str {
        match self {
            Verdict::Pass => "PASS",
            Verdict::Fail => "FAIL",
            Verdict::Error => "ERROR",
        }
    }
}

struct Row {
    figure: String,
    measured: String,
    target: String,
    verdict: Verdict,
}

#[derive(Default)]
struct Report {
    rows: Vec<Row>,
    /// Answers that were wrong (not delivered, not exactly one PUT, wrong status) or runs that
    /// could not complete.
    incorrect: Vec<String>,
    details: BTreeMap<String, Value>,
}

impl Report {
    fn row(&mut self, figure: &str, measured: String, target: &str, verdict: Verdict) {
        self.rows.push(Row {
            figure: figure.to_owned(),
            measured,
            target: target.to_owned(),
            verdict,
        });
    }
    fn error(&mut self, figure: &str, target: &str, why: String) {
        println!("  ERROR: {why}");
        self.incorrect.push(format!("{figure}: {why}"));
        self.row(
            figure,
            format!("error: {}", clip(&why, 90)),
            target,
            Verdict::Error,
        );
    }
}

fn clip(s: &str, n: usize) -> String {
    let one_line = s.replace('\n', " ");
    if one_line.chars().count() <= n {
        one_line
    } else {
        format!("{}…", one_line.chars().take(n).collect::<String>())
    }
}

fn panic_text(p: Box<dyn std::any::Any + Send>) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic".to_owned())
}

impl Report {
    fn absorb(&mut self, part: Report) {
        self.rows.extend(part.rows);
        self.incorrect.extend(part.incorrect);
        self.details.extend(part.details);
    }
}

/// Runs one measurement into its own [`Report`]; a panic (e.g. a harness assertion on an
/// answer) or an error becomes an ERROR row and counts as an incorrect run.
macro_rules! measure {
    ($report:expr, $figure:expr, $target:expr, |$part:ident| $fut:expr) => {{
        println!("\n## {}", $figure);
        let mut $part = Report::default();
        let result = match AssertUnwindSafe($fut).catch_unwind().await {
            Ok(r) => r,
            Err(p) => Err(panic_text(p)),
        };
        $report.absorb($part);
        if let Err(e) = result {
            $report.error($figure, $target, e);
        }
    }};
}

// ---------------------------------------------------------------------------------------------
// statistics
// ---------------------------------------------------------------------------------------------

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let n = s.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 {
        s[n / 2]
    } else {
        (s[n / 2 - 1] + s[n / 2]) / 2.0
    }
}

/// Nearest-rank percentile.
fn percentile(v: &[f64], p: f64) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    if s.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * s.len() as f64).ceil().max(1.0) as usize;
    s[rank.min(s.len()) - 1]
}

fn list_ms(v: &[f64]) -> String {
    v.iter()
        .map(|x| format!("{x:.1}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn list_int(v: &[f64]) -> String {
    v.iter()
        .map(|x| format!("{x:.0}"))
        .collect::<Vec<_>>()
        .join(", ")
}

// ---------------------------------------------------------------------------------------------
// call-log analysis: critical path (see the module docs)
// ---------------------------------------------------------------------------------------------

#[derive(Clone, PartialEq, Eq, Debug)]
enum Obj {
    Bucket(String),
    Key(String, String),
    Role(String),
    Identity,
    Credentials(String),
}

fn object(c: &Call) -> Obj {
    match c.service {
        "s3" => Obj::Bucket(c.resource.clone()),
        "kms" => Obj::Key(c.account.clone(), c.region.clone()),
        "iam" => Obj::Role(c.resource.clone()),
        _ if c.operation == "AssumeRole" => Obj::Credentials(c.account.clone()),
        _ => Obj::Identity,
    }
}

/// `BucketVersioning` for Get/PutBucketVersioning, etc.
fn aspect(op: &str) -> &str {
    for p in ["Get", "Put", "Delete"] {
        if let Some(rest) = op.strip_prefix(p) {
            return rest;
        }
    }
    op
}

/// Whether `v` must wait for `u` (rules 1–5 of the module docs); `u` ended before `v` started.
fn must_follow(u: &Call, v: &Call, src_account: &str, check_read: bool) -> bool {
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

struct Analysis {
    wall: Duration,
    calls: usize,
    mutating: usize,
    sum: Duration,
    busy: Duration,
    executed: Duration,
    executed_path: Vec<String>,
    critical: Duration,
    critical_path: Vec<String>,
    /// The critical path with the settle wait before each verifying policy read.
    critical_verified: Duration,
    by_verb: BTreeMap<String, usize>,
    /// Every call, by start: `[start ms, end ms, operation, account, resource]` (perf.json only).
    timeline: Vec<Value>,
}

fn label(c: &Call) -> String {
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
fn verification_waits(calls: &[Call], settle: Duration) -> Vec<Duration> {
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

fn longest(calls: &[Call], edge: impl Fn(usize, usize) -> bool) -> (Duration, Vec<String>) {
    longest_with(calls, &vec![Duration::ZERO; calls.len()], edge)
}

/// Longest chain through `edge`, each call weighted by its latency plus `wait[i]`.
fn longest_with(
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

/// `settle`: the policy settle time the product ran with (zero when verification is off).
fn analyse(raw: &[Call], wall: Duration, src_account: &str, settle: Duration) -> Analysis {
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
fn necessary_between(
    raw: &[Call],
    src_account: &str,
    from: impl Fn(&Call) -> bool,
    to: impl Fn(&Call) -> bool,
) -> Option<Duration> {
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

fn verbs(m: &BTreeMap<String, usize>) -> String {
    if m.is_empty() {
        return "none".to_owned();
    }
    m.iter()
        .map(|(k, v)| format!("{k}×{v}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn mutating_verbs(a: &Answered) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for c in a.outcome.calls.iter().filter(|c| c.mutating) {
        *m.entry(c.operation.to_owned()).or_insert(0) += 1;
    }
    m
}

fn print_analysis(name: &str, a: &Analysis) {
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

fn analysis_json(a: &Analysis) -> Value {
    json!({
        "wall_ms": ms(a.wall), "calls": a.calls, "mutating": a.mutating,
        "sum_latency_ms": ms(a.sum), "busy_ms": ms(a.busy),
        "executed_chain_ms": ms(a.executed), "executed_chain": a.executed_path,
        "critical_path_ms": ms(a.critical), "critical_path_with_settle_ms": ms(a.critical_verified), "critical_path": a.critical_path,
        "mutations_by_verb": a.by_verb, "timeline": a.timeline,
    })
}

// ---------------------------------------------------------------------------------------------
// worlds (buckets in moto) and the in-process Create
// ---------------------------------------------------------------------------------------------

/// Source (unversioned, SSE-S3 → `SourceKmsKeyArn: Create`) and one destination in another
/// account and region, both keys created: the README's example shape.
async fn world_kms(h: &Harness, n: usize) -> Value {
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
async fn world_plain(h: &Harness, n: usize) -> Value {
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
async fn timed(
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

// ---------------------------------------------------------------------------------------------
// fake Lambda Runtime API
// ---------------------------------------------------------------------------------------------

struct Hit {
    run: u64,
    at: Instant,
    method: String,
    path: String,
    body: Vec<u8>,
}

#[derive(Default)]
struct RtState {
    run: u64,
    /// (request id, event) to hand out on the run's first `next`.
    event: Option<(String, String)>,
    hits: Vec<Hit>,
}

struct FakeRuntime {
    port: u16,
    state: Arc<Mutex<RtState>>,
}

impl FakeRuntime {
    fn start() -> FakeRuntime {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind fake runtime API");
        let port = listener.local_addr().expect("runtime API address").port();
        let state: Arc<Mutex<RtState>> = Arc::default();
        let s = state.clone();
        std::thread::Builder::new()
            .name("fake-runtime-api".into())
            .spawn(move || {
                for stream in listener.incoming().flatten() {
                    let s = s.clone();
                    let _ = std::thread::Builder::new()
                        .name("fake-runtime-conn".into())
                        .spawn(move || {
                            let _ = serve_runtime(stream, &s);
                        });
                }
            })
            .expect("spawn fake runtime API");
        FakeRuntime { port, state }
    }

    fn arm(&self, run: u64, request_id: &str, event: &Value) {
        let mut st = self.state.lock().unwrap();
        st.run = run;
        st.event = Some((request_id.to_owned(), event.to_string()));
    }

    /// How far run `run` got.
    fn progress(&self, run: u64) -> Progress {
        let st = self.state.lock().unwrap();
        let mine: Vec<&Hit> = st.hits.iter().filter(|h| h.run == run).collect();
        let nexts: Vec<&&Hit> = mine
            .iter()
            .filter(|h| h.method == "GET" && h.path.ends_with("/invocation/next"))
            .collect();
        let response = mine
            .iter()
            .find(|h| h.method == "POST" && h.path.contains("/invocation/"))
            .map(|h| (h.at, h.body.clone()));
        Progress {
            first_poll: nexts.first().map(|h| h.at),
            response,
            polling_again: nexts.len() >= 2,
        }
    }
}

/// What the fake Runtime API saw of one run.
struct Progress {
    /// When the first `GET …/invocation/next` was read.
    first_poll: Option<Instant>,
    /// When the function's result was POSTed, and its body.
    response: Option<(Instant, Vec<u8>)>,
    /// A second `next` arrived: the loop went back to polling.
    polling_again: bool,
}

fn serve_runtime(stream: TcpStream, state: &Mutex<RtState>) -> std::io::Result<()> {
    let mut write = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        if line.trim().is_empty() {
            continue;
        }
        let at = Instant::now();
        let mut parts = line.split_whitespace();
        let method = parts.next().unwrap_or_default().to_owned();
        let path = parts.next().unwrap_or_default().to_owned();
        let mut len = 0usize;
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h)? == 0 || h.trim().is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                if k.trim().eq_ignore_ascii_case("content-length") {
                    len = v.trim().parse().unwrap_or(0);
                }
            }
        }
        let mut body = vec![0; len];
        reader.read_exact(&mut body)?;
        let serve = {
            let mut st = state.lock().unwrap();
            let run = st.run;
            st.hits.push(Hit {
                run,
                at,
                method: method.clone(),
                path: path.clone(),
                body,
            });
            if method == "GET" && path.ends_with("/invocation/next") {
                st.event.take()
            } else {
                None
            }
        };
        if method == "GET" && path.ends_with("/invocation/next") {
            let Some((id, event)) = serve else {
                // Later polls are held open until the process is killed.
                let mut sink = [0u8; 256];
                while reader.get_mut().read(&mut sink)? > 0 {}
                return Ok(());
            };
            let deadline = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default()
                .as_millis()
                + 60_000;
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nLambda-Runtime-Aws-Request-Id: {id}\r\nLambda-Runtime-Deadline-Ms: {deadline}\r\nLambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:{HOME_REGION}:{SRC}:function:s3-replication-provider\r\nLambda-Runtime-Trace-Id: Root=1-00000000-000000000000000000000000;Sampled=0\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                event.len()
            );
            write.write_all(head.as_bytes())?;
            write.write_all(event.as_bytes())?;
        } else {
            let body = br#"{"status":"OK"}"#;
            let head = format!(
                "HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            write.write_all(head.as_bytes())?;
            write.write_all(body)?;
        }
        write.flush()?;
        return Ok(());
    }
}

/// The environment Lambda gives a `provided.al2023` function (nothing else is inherited).
fn lambda_env(runtime_port: u16) -> Vec<(String, String)> {
    [
        ("PATH", "/usr/local/bin:/usr/bin/:/bin:/opt/bin"),
        ("LANG", "en_US.UTF-8"),
        ("TZ", ":UTC"),
        ("LAMBDA_TASK_ROOT", "/var/task"),
        ("LAMBDA_RUNTIME_DIR", "/var/runtime"),
        ("_HANDLER", "bootstrap"),
        ("AWS_REGION", HOME_REGION),
        ("AWS_DEFAULT_REGION", HOME_REGION),
        ("AWS_LAMBDA_FUNCTION_NAME", "s3-replication-provider"),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256"),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
        ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand"),
        (
            "AWS_LAMBDA_LOG_GROUP_NAME",
            "/aws/lambda/s3-replication-provider",
        ),
        (
            "AWS_LAMBDA_LOG_STREAM_NAME",
            "2026/01/01/[$LATEST]0123456789abcdef",
        ),
        ("AWS_ACCESS_KEY_ID", "ASIAEXAMPLEEXAMPLE00"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_SESSION_TOKEN", "testing"),
        // The answer goes to the harness's local receiver.
        (
            "PROVIDER_ALLOWED_RESPONSE_URL_PREFIXES",
            support::LOCAL_RESPONSE_URLS,
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .chain([(
        "AWS_LAMBDA_RUNTIME_API".to_owned(),
        format!("127.0.0.1:{runtime_port}"),
    )])
    .collect()
}

/// One cold start: (process start → first poll, process start → answer posted).
async fn cold_start(
    opts: &Opts,
    rt: &FakeRuntime,
    rx: &Receiver,
    run: u64,
    extra_env: &[(String, String)],
) -> Result<(Duration, Duration), String> {
    let response_id = uuid();
    let request_id = uuid();
    let physical = format!("{NOTHING_CREATED_PREFIX}Replication:{}", uuid());
    let event = cfn_event(
        "Delete",
        &rx.url(&response_id),
        json!({"SourceBucket": "init-bench", "Destinations": []}),
        Some(&physical),
        None,
    );
    rt.arm(run, &request_id, &event);
    let log = opts.out.join("init-stderr.log");
    let stderr = std::fs::File::create(&log).map_err(|e| e.to_string())?;
    let t0 = Instant::now();
    let mut child = tokio::process::Command::new(&opts.bootstrap)
        .env_clear()
        .envs(lambda_env(rt.port))
        .envs(extra_env.iter().cloned())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr)
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("spawn {}: {e}", opts.bootstrap.display()))?;
    let limit = t0 + Duration::from_secs(15);
    let result = loop {
        let Progress {
            first_poll: first,
            response,
            polling_again,
        } = rt.progress(run);
        if let (Some(first), Some((answered, body)), true) = (first, &response, polling_again) {
            break Ok((first - t0, *answered - t0, body.clone()));
        }
        if let Ok(Some(status)) = child.try_wait() {
            break Err(format!(
                "bootstrap exited with {status} (first poll seen: {}); stderr: {}",
                first.is_some(),
                clip(&std::fs::read_to_string(&log).unwrap_or_default(), 400)
            ));
        }
        if Instant::now() > limit {
            break Err(format!(
                "no first poll / answer within 15 s (first poll seen: {})",
                first.is_some()
            ));
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    };
    let _ = child.start_kill();
    let _ = child.wait().await;
    let (first, answered, body) = result?;
    // The function's own result, and the one answer to CloudFormation.
    let result: Value =
        serde_json::from_slice(&body).map_err(|e| format!("runtime result: {e}"))?;
    if result["Status"] != "SUCCESS" || result["Delivered"] != true {
        return Err(format!("function result {result}"));
    }
    let puts = rx.responses_for(&response_id);
    if puts.len() != 1 || puts[0]["Status"] != "SUCCESS" {
        return Err(format!("expected one SUCCESS PUT, got {puts:?}"));
    }
    Ok((first, answered))
}

/// `bootstrap invoke <missing file>`: process start, tracing and the Tokio runtime, then exit 2
/// before any SDK configuration — the floor under init.
async fn bare_start(opts: &Opts, rt: &FakeRuntime) -> Result<Duration, String> {
    let t0 = Instant::now();
    let status = tokio::process::Command::new(&opts.bootstrap)
        .arg("invoke")
        .arg("/nonexistent/event.json")
        .env_clear()
        .envs(lambda_env(rt.port))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .await
        .map_err(|e| e.to_string())?;
    let took = t0.elapsed();
    if status.code() != Some(2) {
        return Err(format!("bootstrap invoke <missing> exited {status}"));
    }
    Ok(took)
}

/// A named set of extra environment variables.
type Variant = (&'static str, Vec<(String, String)>);

/// Trust-store variants for the init diagnostic (rustls-native-certs honours `SSL_CERT_FILE`
/// and `SSL_CERT_DIR`): the system bundle file without the hashed per-certificate directory
/// (the layout of Lambda's Amazon Linux 2023), and a single root certificate (≈ no store).
fn trust_store_variants(out: &Path) -> Result<Vec<Variant>, String> {
    let dir = Path::new("/etc/ssl/certs");
    let pem = [dir.join("Amazon_Root_CA_1.pem")]
        .into_iter()
        .chain(
            std::fs::read_dir(dir)
                .map_err(|e| e.to_string())?
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "pem")),
        )
        .find(|p| p.is_file())
        .ok_or("no PEM certificate under /etc/ssl/certs")?;
    let one = out.join("one-root.pem");
    std::fs::copy(&pem, &one).map_err(|e| e.to_string())?;
    let empty = out.join("empty-cert-dir");
    std::fs::create_dir_all(&empty).map_err(|e| e.to_string())?;
    let var = |k: &str, v: &Path| (k.to_owned(), v.display().to_string());
    let mut variants = Vec::new();
    let bundle = dir.join("ca-certificates.crt");
    if bundle.is_file() {
        variants.push((
            "bundle file only (SSL_CERT_DIR empty; like Amazon Linux 2023)",
            vec![var("SSL_CERT_FILE", &bundle), var("SSL_CERT_DIR", &empty)],
        ));
    }
    variants.push((
        "one root certificate (≈ no trust store to load)",
        vec![var("SSL_CERT_FILE", &one), var("SSL_CERT_DIR", &empty)],
    ));
    Ok(variants)
}

async fn bench_init(opts: &Opts, report: &mut Report) -> Result<(), String> {
    let figure = "init (process start → first poll of the Runtime API)";
    let rt = FakeRuntime::start();
    let rx = Receiver::start().await;
    let variants = trust_store_variants(&opts.out)?;
    // One warm-up so the binary is in the page cache like a provisioned sandbox's.
    cold_start(opts, &rt, &rx, 0, &[]).await?;
    let n = opts.runs(30);
    let (mut first, mut answered, mut bare) = (Vec::new(), Vec::new(), Vec::new());
    let mut by_variant: Vec<Vec<f64>> = vec![Vec::new(); variants.len()];
    let mut run = 0;
    for _ in 0..n {
        run += 1;
        let (f, a) = cold_start(opts, &rt, &rx, run, &[]).await?;
        first.push(ms(f));
        answered.push(ms(a));
        bare.push(ms(bare_start(opts, &rt).await?));
        for (i, (_, env)) in variants.iter().enumerate() {
            run += 1;
            by_variant[i].push(ms(cold_start(opts, &rt, &rx, run, env).await?.0));
        }
    }
    let (med, p90) = (median(&first), percentile(&first, 90.0));
    println!("  {n} cold starts, first poll (ms): {}", list_ms(&first));
    println!(
        "  first poll: median {med:.1} ms, p90 {p90:.1} ms, min {:.1}, max {:.1}",
        percentile(&first, 0.0),
        percentile(&first, 100.0)
    );
    println!(
        "  first invocation (Delete of a never-created resource, no AWS call) answered: median {:.1} ms after process start",
        median(&answered)
    );
    println!(
        "  floor: `bootstrap invoke <missing file>` (exec + tracing + Tokio runtime, no SDK config, exit): median {:.1} ms",
        median(&bare)
    );
    for ((name, _), v) in variants.iter().zip(&by_variant) {
        println!(
            "  trust store = {name}: first poll median {:.1} ms ({:+.1} ms)",
            median(v),
            median(v) - med
        );
    }
    println!(
        "  → the system root store is loaded twice before the first poll: aws_config::load() builds the default credentials chain, whose web-identity provider creates an STS client, whose HTTPS connector loads it; then reqwest::ClientBuilder::build() in Provider::new loads it again through rustls-platform-verifier"
    );
    let small = by_variant.last().cloned().unwrap_or_default();
    report.details.insert(
        "init".into(),
        json!({"runs": n, "first_poll_ms": first, "answered_ms": answered, "bare_start_ms": bare,
               "trust_store_variants": variants.iter().zip(&by_variant)
                   .map(|((name, _), v)| json!({"variant": name, "first_poll_ms": v})).collect::<Vec<_>>(),
               "median_ms": med, "p90_ms": p90}),
    );
    let measured = if n > 1 {
        format!(
            "median {med:.1} ms, p90 {p90:.1} ms (n={n}; {:.1} ms without the root-store loads)",
            median(&small)
        )
    } else {
        format!(
            "{med:.1} ms (n=1, smoke; {:.1} ms without the root-store loads)",
            median(&small)
        )
    };
    report.row(
        figure,
        measured,
        "≤ 20 ms (median)",
        Verdict::of(med <= 20.0),
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// peak RSS
// ---------------------------------------------------------------------------------------------

async fn bench_rss(opts: &Opts, h: &Harness, report: &mut Report) -> Result<(), String> {
    let figure = "peak RSS, Create with 2 destinations (`bootstrap invoke`)";
    let time_bin = Path::new("/usr/bin/time");
    if !time_bin.exists() {
        return Err(
            "/usr/bin/time (Debian package `time`) is missing; scripts/bench.sh installs it".into(),
        );
    }
    let n = opts.runs(3);
    let mut peaks = Vec::new();
    for i in 0..n {
        let props = world_kms(h, 2).await;
        let response_id = uuid();
        let event = cfn_event("Create", &h.rx.url(&response_id), props, None, None);
        let event_path = opts.out.join("rss-event.json");
        let time_out = opts.out.join("rss-time.txt");
        std::fs::write(&event_path, event.to_string()).map_err(|e| e.to_string())?;
        let mut cmd = tokio::process::Command::new(time_bin);
        cmd.arg("-f")
            .arg("%M %e")
            .arg("-o")
            .arg(&time_out)
            .arg(&opts.bootstrap)
            .arg("invoke")
            .arg(&event_path)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .envs(h.emu.provider_env(HOME_REGION))
            .stdin(Stdio::null())
            .kill_on_drop(true);
        let out = tokio::time::timeout(Duration::from_secs(120), cmd.output())
            .await
            .map_err(|_| "bootstrap invoke did not finish in 120 s".to_string())?
            .map_err(|e| e.to_string())?;
        let printed: Value = serde_json::from_str(String::from_utf8_lossy(&out.stdout).trim())
            .map_err(|e| {
                format!(
                    "invoke printed no JSON ({e}): {}",
                    String::from_utf8_lossy(&out.stderr)
                )
            })?;
        let puts = h.rx.responses_for(&response_id);
        if !out.status.success()
            || printed["Status"] != "SUCCESS"
            || puts.len() != 1
            || puts[0] != printed
        {
            return Err(format!(
                "run {i}: exit {}, printed {printed}, {} PUT(s); stderr: {}",
                out.status,
                puts.len(),
                clip(&String::from_utf8_lossy(&out.stderr), 300)
            ));
        }
        let text = std::fs::read_to_string(&time_out).map_err(|e| e.to_string())?;
        let line = text.lines().last().unwrap_or_default();
        let kb: f64 = line
            .split_whitespace()
            .next()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("cannot read /usr/bin/time output {text:?}"))?;
        let secs = line.split_whitespace().nth(1).unwrap_or("?");
        println!(
            "  run {}: max RSS {:.1} MB, {secs} s, answer SUCCESS (one PUT)",
            i + 1,
            kb / 1024.0
        );
        peaks.push(kb / 1024.0);
    }
    let peak = peaks.iter().copied().fold(0.0, f64::max);
    report
        .details
        .insert("rss".into(), json!({"runs": n, "max_rss_mb": peaks}));
    report.row(
        figure,
        format!("{peak:.1} MB (max of {n})"),
        "≤ 32 MB",
        Verdict::of(peak <= 32.0),
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// deployment package
// ---------------------------------------------------------------------------------------------

fn elf_machine(path: &Path) -> Option<&'static str> {
    let mut head = [0u8; 20];
    std::fs::File::open(path).ok()?.read_exact(&mut head).ok()?;
    if &head[..4] != b"\x7fELF" {
        return None;
    }
    Some(match u16::from_le_bytes([head[18], head[19]]) {
        0xB7 => "arm64",
        0x3E => "x86_64",
        _ => "other",
    })
}

fn bench_package(opts: &Opts, report: &mut Report) -> Result<(), String> {
    let figure = "deployment package (zip -9 of bootstrap)";
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    // Where `sam build` (.ci/sam.sh: .aws-sam/build, cargo-lambda with its own target dir) and
    // plain cross builds put an arm64 bootstrap; the newest arm64 one wins.
    let tools = std::env::var_os("S3RP_TOOLS_DIR")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("XDG_CACHE_HOME")
                .map(|c| PathBuf::from(c).join("s3-replication-provider-tools"))
        })
        .or_else(|| {
            std::env::var_os("HOME")
                .map(|h| PathBuf::from(h).join(".cache/s3-replication-provider-tools"))
        })
        .unwrap_or_default();
    let lambda_target = std::env::var_os("S3RP_LAMBDA_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| tools.join("target-lambda"));
    let mut candidates = vec![
        root.join(".aws-sam/build/ProviderFunction/bootstrap"),
        root.join("sam/source-account/.aws-sam/build/ProviderFunction/bootstrap"),
    ];
    for t in [&target, &lambda_target] {
        candidates.push(t.join("lambda/bootstrap/bootstrap"));
        candidates.push(t.join("aarch64-unknown-linux-gnu/release/bootstrap"));
        candidates.push(t.join("aarch64-unknown-linux-musl/release/bootstrap"));
    }
    let modified = |p: &PathBuf| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    let arm = candidates
        .iter()
        .filter(|p| elf_machine(p) == Some("arm64"))
        .max_by_key(|p| modified(p));
    let (bin, arch, note) = match arm {
        Some(p) => {
            let age = std::fs::metadata(p)
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .map(|d| format!("{} min old", d.as_secs() / 60))
                .unwrap_or_default();
            (p.clone(), "arm64", format!("{} ({age})", p.display()))
        }
        None => {
            let arch = elf_machine(&opts.bootstrap).unwrap_or("?");
            (
                opts.bootstrap.clone(),
                arch,
                format!(
                    "no arm64 bootstrap found (looked at {}): measured the {arch} release bootstrap instead",
                    candidates
                        .iter()
                        .map(|p| p.strip_prefix(root).unwrap_or(p).display().to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
        }
    };
    let zip = opts.out.join(format!("bootstrap-{arch}.zip"));
    let _ = std::fs::remove_file(&zip);
    let status = std::process::Command::new("zip")
        .args(["-9", "-X", "-j", "-q"])
        .arg(&zip)
        .arg(&bin)
        .status()
        .map_err(|e| format!("zip: {e} (install the `zip` package; scripts/bench.sh does)"))?;
    if !status.success() {
        return Err(format!("zip exited {status}"));
    }
    let zipped = std::fs::metadata(&zip).map_err(|e| e.to_string())?.len() as f64 / 1e6;
    let raw = std::fs::metadata(&bin).map_err(|e| e.to_string())?.len() as f64 / 1e6;
    println!("  {note}");
    println!(
        "  {arch} bootstrap {raw:.2} MB, zipped {zipped:.2} MB ({})",
        zip.display()
    );
    report.details.insert(
        "package".into(),
        json!({"binary": bin, "arch": arch, "binary_mb": raw, "zip_mb": zipped}),
    );
    let suffix = if arch == "arm64" {
        String::new()
    } else {
        format!(" — {arch}, no arm64 build found")
    };
    report.row(
        figure,
        format!("{zipped:.2} MB zipped ({raw:.2} MB raw){suffix}"),
        "≤ 8 MB (arm64)",
        Verdict::of(zipped <= 8.0),
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Create: critical path, scaling, idempotency
// ---------------------------------------------------------------------------------------------

struct ScenarioRuns {
    analyses: Vec<Analysis>,
    /// Mutating calls of the repeated Create and of the no-op Update on the first world.
    repeat: BTreeMap<String, usize>,
    noop_update: BTreeMap<String, usize>,
}

async fn scenario(
    h: &Harness,
    name: &str,
    runs: usize,
    world: impl AsyncFn(&Harness) -> Value,
) -> Result<ScenarioRuns, String> {
    let mut analyses = Vec::new();
    let mut repeat = None;
    let mut noop = None;
    for i in 0..runs {
        let props = world(h).await;
        let (a, wall) = timed(h, "Create", &props, None).await?;
        let an = analyse(
            &a.outcome.calls,
            wall,
            SRC,
            Settings::from_env().policy_settle,
        );
        print_analysis(&format!("{name} run {}", i + 1), &an);
        if i == 0 {
            println!("    mutations: {}", verbs(&an.by_verb));
            println!("    executed chain: {}", an.executed_path.join(" → "));
            println!("    critical path:  {}", an.critical_path.join(" → "));
            let (again, _) = timed(h, "Create", &props, None).await?;
            if again.response["Data"] != a.response["Data"]
                || again.physical_id() != a.physical_id()
            {
                return Err("the repeated Create answered different data".into());
            }
            let (upd, _) = timed(h, "Update", &props, Some(a.physical_id())).await?;
            if upd.physical_id() != a.physical_id() {
                return Err("the no-op Update changed the physical id".into());
            }
            repeat = Some(mutating_verbs(&again));
            noop = Some(mutating_verbs(&upd));
            println!(
                "    repeated Create: {} calls, mutating: {} | no-op Update: {} calls, mutating: {}",
                again.outcome.calls.len(),
                verbs(repeat.as_ref().unwrap()),
                upd.outcome.calls.len(),
                verbs(noop.as_ref().unwrap())
            );
        }
        analyses.push(an);
    }
    Ok(ScenarioRuns {
        analyses,
        repeat: repeat.unwrap_or_default(),
        noop_update: noop.unwrap_or_default(),
    })
}

/// moto's own speed: mean latency of GetBucketLocation one at a time, and throughput with 32 in
/// flight (moto is one Python process; the GIL serialises request handling).
async fn moto_speed(h: &Harness) -> (f64, f64) {
    let b = unique("cal");
    h.emu.create_bucket(SRC, HOME_REGION, &b, false).await;
    let s3 = h.emu.s3(SRC, HOME_REGION).await;
    let one = |s3: aws_sdk_s3::Client, b: String| async move {
        let _ = s3.get_bucket_location().bucket(b).send().await;
    };
    let t = Instant::now();
    for _ in 0..40 {
        one(s3.clone(), b.clone()).await;
    }
    let sequential = ms(t.elapsed()) / 40.0;
    let t = Instant::now();
    futures::stream::iter(0..320)
        .map(|_| one(s3.clone(), b.clone()))
        .buffer_unordered(32)
        .collect::<Vec<()>>()
        .await;
    let per_second = 320.0 / t.elapsed().as_secs_f64();
    (sequential, per_second)
}

/// Settings as the product reads them from its environment, with `vars` set (the in-process
/// equivalent of running `bootstrap` with those variables).
fn settings_with_env(vars: &[(&str, &str)]) -> Settings {
    for (k, v) in vars {
        std::env::set_var(k, v);
    }
    let settings = Settings {
        response_urls: support::local_settings().response_urls,
        ..Settings::from_env()
    };
    for (k, _) in vars {
        std::env::remove_var(k);
    }
    settings
}

/// A provider like the harness's (same endpoint through the proxy, same credentials) with other
/// settings.
async fn provider_with(h: &Harness, settings: Settings) -> Provider {
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
async fn create_with(
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

/// Median wall time of `runs` Creates on fresh worlds with the policy settle disabled
/// (`PROVIDER_POLICY_SETTLE_MS=0`).
async fn without_settle(
    h: &Harness,
    runs: usize,
    world: impl AsyncFn(&Harness) -> Value,
) -> Result<(f64, f64), String> {
    let provider = provider_with(
        h,
        settings_with_env(&[
            ("PROVIDER_POLICY_SETTLE_MS", "0"),
            ("PROVIDER_TIME_BUDGET_SECONDS", "60"),
        ]),
    )
    .await;
    let (mut walls, mut ratios) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        let props = world(h).await;
        let (calls, wall) = create_with(&provider, h, &props).await?;
        let a = analyse(&calls, wall, SRC, Duration::ZERO);
        walls.push(ms(wall));
        ratios.push(ms(wall) / ms(a.critical));
    }
    Ok((median(&walls), median(&ratios)))
}

async fn bench_creates(opts: &Opts, h: &Harness, report: &mut Report) -> Result<(), String> {
    let (moto_latency, moto_rps) = moto_speed(h).await;
    println!(
        "  moto: GetBucketLocation {moto_latency:.1} ms one at a time; {moto_rps:.0} requests/s with 32 in flight"
    );
    // 1 destination, created keys: critical path.
    let kms = scenario(
        h,
        "Create 1 dest (KMS)",
        opts.runs(5),
        async |h: &Harness| world_kms(h, 1).await,
    )
    .await?;
    let ratios: Vec<f64> = kms
        .analyses
        .iter()
        .map(|a| ms(a.wall) / ms(a.critical))
        .collect();
    let walls: Vec<f64> = kms.analyses.iter().map(|a| ms(a.wall)).collect();
    let crit: Vec<f64> = kms.analyses.iter().map(|a| ms(a.critical)).collect();
    let exec: Vec<f64> = kms.analyses.iter().map(|a| ms(a.executed)).collect();
    let r = median(&ratios);
    let verified: Vec<f64> = kms
        .analyses
        .iter()
        .map(|a| ms(a.critical_verified))
        .collect();
    let rv = median(
        &kms.analyses
            .iter()
            .map(|a| ms(a.wall) / ms(a.critical_verified))
            .collect::<Vec<_>>(),
    );
    println!(
        "  median: wall {:.1} ms, executed chain {:.1} ms, critical path {:.1} ms, wall/critical ×{r:.2}; with the settle wait before verifying reads: critical path {:.1} ms, ×{rv:.2}",
        median(&walls),
        median(&exec),
        median(&crit),
        median(&verified)
    );
    let (nw, nr) =
        without_settle(h, opts.runs(5), async |h: &Harness| world_kms(h, 1).await).await?;
    println!(
        "  what-if PROVIDER_POLICY_SETTLE_MS=0 (no settle-and-verify wait after policy writes): wall {nw:.1} ms, wall/critical ×{nr:.2}"
    );
    report.details.insert(
        "create_1_kms_settle_0".into(),
        json!({"wall_ms": nw, "wall_over_critical": nr}),
    );
    report.details.insert(
        "create_1_kms".into(),
        json!(kms.analyses.iter().map(analysis_json).collect::<Vec<_>>()),
    );
    report.row(
        "Create, 1 destination (created keys), vs its critical path",
        format!(
            "wall {:.0} ms vs {:.0} ms (critical path {:.0} ms + the settle wait before the verifying policy read): ×{rv:.2}; calls only: ×{r:.2}; with PROVIDER_POLICY_SETTLE_MS=0: ×{nr:.2} (executed chain {:.0} ms, n={})",
            median(&walls),
            median(&verified),
            median(&crit),
            median(&exec),
            ratios.len()
        ),
        "≤ 1.5 × critical path",
        Verdict::of(rv <= 1.5 && nr <= 1.5),
    );

    // Scaling: 1 vs 50 destinations of the same shape (SSE-S3).
    let one = scenario(
        h,
        "Create 1 dest (SSE-S3)",
        opts.runs(5),
        async |h: &Harness| world_plain(h, 1).await,
    )
    .await?;
    let fifty = scenario(
        h,
        "Create 50 dest (SSE-S3)",
        opts.runs(3),
        async |h: &Harness| world_plain(h, 50).await,
    )
    .await?;
    let w1 = median(&one.analyses.iter().map(|a| ms(a.wall)).collect::<Vec<_>>());
    let w50 = median(
        &fifty
            .analyses
            .iter()
            .map(|a| ms(a.wall))
            .collect::<Vec<_>>(),
    );
    let c50 = median(
        &fifty
            .analyses
            .iter()
            .map(|a| ms(a.critical))
            .collect::<Vec<_>>(),
    );
    let e50 = median(
        &fifty
            .analyses
            .iter()
            .map(|a| ms(a.executed))
            .collect::<Vec<_>>(),
    );
    let b50 = median(
        &fifty
            .analyses
            .iter()
            .map(|a| ms(a.busy))
            .collect::<Vec<_>>(),
    );
    let s50 = median(&fifty.analyses.iter().map(|a| ms(a.sum)).collect::<Vec<_>>());
    let lat1 = one
        .analyses
        .iter()
        .map(|a| ms(a.sum) / a.calls as f64)
        .collect::<Vec<_>>();
    let lat50 = fifty
        .analyses
        .iter()
        .map(|a| ms(a.sum) / a.calls as f64)
        .collect::<Vec<_>>();
    println!(
        "  50 destinations: wall {w50:.0} ms, executed chain {e50:.0} ms, critical path {c50:.0} ms, AWS busy {b50:.0} ms, Σ latency {s50:.0} ms (mean concurrency {:.1})",
        s50 / w50
    );
    let c1 = median(
        &one.analyses
            .iter()
            .map(|a| ms(a.critical))
            .collect::<Vec<_>>(),
    );
    let n50 = median(
        &fifty
            .analyses
            .iter()
            .map(|a| a.calls as f64)
            .collect::<Vec<_>>(),
    );
    let floor = n50 / moto_rps * 1000.0;
    println!(
        "  mean call latency: 1 dest {:.1} ms, 50 dest {:.1} ms (moto is one Python process: concurrent calls queue)",
        median(&lat1),
        median(&lat50)
    );
    println!(
        "  emulator estimate: {n50:.0} calls at moto's {moto_rps:.0} req/s ≈ {floor:.0} ms of emulator time however well the calls overlap (≈ ×{:.1} the 1-destination wall); dependency model: critical path 50 dest {c50:.0} ms vs 1 dest {c1:.0} ms (×{:.1})",
        floor / w1,
        c50 / c1
    );
    let (nw1, _) =
        without_settle(h, opts.runs(3), async |h: &Harness| world_plain(h, 1).await).await?;
    let (nw50, _) = without_settle(h, opts.runs(2), async |h: &Harness| {
        world_plain(h, 50).await
    })
    .await?;
    println!(
        "  what-if PROVIDER_POLICY_SETTLE_MS=0: 1 dest {nw1:.0} ms, 50 dest {nw50:.0} ms (×{:.1})",
        nw50 / nw1
    );
    report.details.insert(
        "create_plain_settle_0".into(),
        json!({"wall_1_ms": nw1, "wall_50_ms": nw50}),
    );
    report.details.insert(
        "moto".into(),
        json!({"get_bucket_location_ms": moto_latency, "requests_per_s_32": moto_rps,
               "estimate_50_dest_ms": floor}),
    );
    report.details.insert(
        "create_1_plain".into(),
        json!(one.analyses.iter().map(analysis_json).collect::<Vec<_>>()),
    );
    report.details.insert(
        "create_50_plain".into(),
        json!(fifty.analyses.iter().map(analysis_json).collect::<Vec<_>>()),
    );
    let ratio = w50 / w1;
    report.row(
        "Create, 50 destinations (5 accounts, 3 regions) vs 1",
        format!(
            "{w50:.0} ms vs {w1:.0} ms: ×{ratio:.1} (executed chain {e50:.0} ms, critical path {c50:.0} ms, moto ≈ {floor:.0} ms; n={}/{}; ×{:.1} with PROVIDER_POLICY_SETTLE_MS=0)",
            fifty.analyses.len(),
            one.analyses.len(),
            nw50 / nw1
        ),
        "≤ 3 × Create with 1",
        Verdict::of(ratio <= 3.0),
    );

    // Idempotency.
    let cases = [("1 dest KMS", &kms), ("1 dest", &one), ("50 dest", &fifty)];
    let total: usize = cases
        .iter()
        .map(|(_, s)| s.repeat.values().sum::<usize>() + s.noop_update.values().sum::<usize>())
        .sum();
    let measured = cases
        .iter()
        .map(|(n, s)| {
            format!(
                "{n}: {}/{}",
                s.repeat.values().sum::<usize>(),
                s.noop_update.values().sum::<usize>()
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    let mut extra = String::new();
    for (n, s) in cases {
        if !s.repeat.is_empty() || !s.noop_update.is_empty() {
            extra.push_str(&format!(
                " [{n}: Create {} / Update {}]",
                verbs(&s.repeat),
                verbs(&s.noop_update)
            ));
        }
    }
    report.row(
        "repeated Create / no-op Update: mutating calls",
        format!("{measured} (Create/Update){extra}"),
        "0",
        Verdict::of(total == 0),
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// IAM propagation
// ---------------------------------------------------------------------------------------------

fn role_not_valid(src: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>InvalidRequest</Code><Message>Role arn:aws:iam::{SRC}:role/s3-replication/s3-replication-{src} is not valid</Message><RequestId>fault</RequestId><HostId>fault</HostId></Error>"
    )
}

fn put_replication_of(bucket: String) -> impl Fn(&support::proxy::Seen) -> bool + Send + Sync {
    move |s| s.method == "PUT" && s.target.contains("replication") && s.target.contains(&bucket)
}

/// The cap of `backoff(n)` in src/reconcile/retry.rs: 0.5 s × 2^min(n, 4).
fn backoff_cap(n: usize) -> f64 {
    500.0 * f64::from(1u32 << n.min(4))
}

async fn bench_propagation(opts: &Opts, h: &Harness, report: &mut Report) -> Result<(), String> {
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

// ---------------------------------------------------------------------------------------------
// main
// ---------------------------------------------------------------------------------------------

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

fn revision() -> String {
    std::process::Command::new("git")
        .args([
            "-C",
            env!("CARGO_MANIFEST_DIR"),
            "describe",
            "--always",
            "--dirty",
        ])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_else(|| "?".into())
}

fn print_table(report: &Report, opts: &Opts, load_before: &str) {
    println!();
    println!(
        "# Performance ({} mode; revision {}; {} CPUs, load average {load_before} before, {} after)",
        if opts.smoke { "smoke" } else { "full" },
        revision(),
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        load_average()
    );
    println!("bootstrap: {}", opts.bootstrap_origin);
    if cfg!(debug_assertions) {
        println!("in-process figures (Create latency, propagation): an unoptimised build of the harness (BENCH_PROFILE=dev); only the answers are meaningful");
    }
    println!();
    println!("| figure | measured | target | result |");
    println!("|---|---|---|---|");
    for r in &report.rows {
        println!(
            "| {} | {} | {} | {} |",
            r.figure,
            r.measured,
            r.target,
            r.verdict.word()
        );
    }
    let correct = if report.incorrect.is_empty() {
        "every answer checked: delivered once, expected status".to_owned()
    } else {
        format!("INCORRECT RUNS: {}", report.incorrect.join("; "))
    };
    println!("\n{correct}");
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--list") {
        // libtest/nextest listing: this target has no tests.
        return ExitCode::SUCCESS;
    }
    if !args.iter().any(|a| a == "--bench") {
        println!("perf: skipped outside `cargo bench` (run `bash scripts/bench.sh [--smoke]`)");
        return ExitCode::SUCCESS;
    }
    let env_flag = |k: &str| std::env::var(k).is_ok_and(|v| !v.is_empty() && v != "0");
    let (bootstrap, bootstrap_origin) = match std::env::var_os("BENCH_BOOTSTRAP") {
        Some(p) => (PathBuf::from(&p), format!("{} (release)", PathBuf::from(p).display())),
        None => (
            PathBuf::from(env!("CARGO_BIN_EXE_bootstrap")),
            format!(
                "{} (built by cargo bench with dev-dependency features; run scripts/bench.sh for the product build)",
                env!("CARGO_BIN_EXE_bootstrap")
            ),
        ),
    };
    let opts = Opts {
        smoke: args.iter().any(|a| a == "--smoke") || env_flag("BENCH_SMOKE"),
        strict: args.iter().any(|a| a == "--strict") || env_flag("BENCH_STRICT"),
        bootstrap,
        bootstrap_origin,
        out: Path::new(env!("CARGO_TARGET_TMPDIR")).join("bench"),
    };
    if let Err(e) = std::fs::create_dir_all(&opts.out) {
        eprintln!("cannot create {}: {e}", opts.out.display());
        return ExitCode::FAILURE;
    }
    if !opts.bootstrap.exists() {
        eprintln!("no bootstrap at {}", opts.bootstrap.display());
        return ExitCode::FAILURE;
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let mut report = Report::default();
    let load_before = load_average();
    runtime.block_on(async {
        let opts = &opts;
        let r = &mut report;
        measure!(r, "init", "≤ 20 ms", |part| bench_init(opts, &mut part));
        measure!(r, "deployment package", "≤ 8 MB", |part| async {
            bench_package(opts, &mut part)
        });
        println!("\n(starting moto)");
        let h = Harness::start().await;
        measure!(r, "peak RSS", "≤ 32 MB", |part| bench_rss(
            opts, &h, &mut part
        ));
        measure!(r, "Create", "see figures", |part| bench_creates(
            opts, &h, &mut part
        ));
        measure!(r, "IAM propagation", "no fixed sleep", |part| {
            bench_propagation(opts, &h, &mut part)
        });
        drop(h);
    });
    print_table(&report, &opts, &load_before);
    let json_rows: Vec<Value> = report
        .rows
        .iter()
        .map(|r| json!({"figure": r.figure, "measured": r.measured, "target": r.target, "result": r.verdict.word()}))
        .collect();
    let doc = json!({"mode": if opts.smoke {"smoke"} else {"full"}, "bootstrap": opts.bootstrap_origin,
                     "rows": json_rows, "details": report.details, "incorrect": report.incorrect});
    let path = opts.out.join("perf.json");
    if std::fs::write(
        &path,
        serde_json::to_string_pretty(&doc).unwrap_or_default(),
    )
    .is_ok()
    {
        println!("details: {}", path.display());
    }
    let missed = report.rows.iter().any(|r| r.verdict == Verdict::Fail);
    if !report.incorrect.is_empty() || (opts.strict && missed) {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
