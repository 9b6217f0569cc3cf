//! Create/Update: check everything, then create what is missing, then grant, then point the
//! source bucket's replication configuration at it all.

use futures::stream::{self, StreamExt, TryStreamExt};

use super::destination::DestinationFacts;
use super::gate::Gate;
use super::retry::until_propagated;
use super::source::SourceFacts;
use super::statements::{edit_bucket_policy, edit_key_policy_of, Edit, Written};
use super::{
    batch, destination, diff, role, signals, source, ReconcileError, DESTINATION_CONCURRENCY,
};
use crate::aws::{Account, Connector, Membership};
use crate::doctor::covers::{covers, Asker};
use crate::plan::{BucketStatement, KeyRef, KeyStatement, Keys, Plan, Resolved};
use crate::spec::{Destination, Spec};
use crate::time::Deadline;

/// Runs `futs` with at most [`DESTINATION_CONCURRENCY`] at once, keeping their order; stops at
/// the first error.
pub(super) async fn bounded<T, F>(
    futs: impl IntoIterator<Item = F>,
) -> Result<Vec<T>, ReconcileError>
where
    F: std::future::Future<Output = Result<T, ReconcileError>>,
{
    stream::iter(futs)
        .buffered(DESTINATION_CONCURRENCY)
        .try_collect()
        .await
}

/// Connects to the source account; returns its clients and the facts the plan derives names from.
pub async fn resolve_source(
    conn: &Connector,
    spec: &Spec,
) -> Result<(Account, Resolved), ReconcileError> {
    let region = spec
        .source
        .region
        .clone()
        .or_else(|| conn.home_region())
        .ok_or(ReconcileError::NoRegion)?;
    let acct = conn.source(spec.source.role_arn.as_ref(), &region).await?;
    let resolved = Resolved::new(spec, acct.id.clone(), region);
    Ok((acct, resolved))
}

/// Clients for a destination, always through its destination role (also when it is in the source
/// account): the function's own role holds no destination-side permissions.
pub async fn connect_destination(
    conn: &Connector,
    d: &Destination,
) -> Result<Account, ReconcileError> {
    Ok(conn
        .assumed(&d.role_arn(), d.external_id.as_deref(), &d.region)
        .await?)
}

/// Clients for every destination, in order (cached by the connector: a second call is free).
pub async fn connect_destinations(
    conn: &Connector,
    spec: &Spec,
) -> Result<Vec<Account>, ReconcileError> {
    bounded(
        spec.destinations
            .iter()
            .map(|d| connect_destination(conn, d)),
    )
    .await
}

/// What the read-only checks found, on both sides.
#[derive(Debug, Clone)]
pub struct Facts {
    pub source: SourceFacts,
    pub destinations: Vec<DestinationFacts>,
}

impl Facts {
    /// `r` with what the checks found that the plan names besides keys.
    pub fn resolve(&self, mut r: Resolved) -> Resolved {
        r.report_key = self.source.report_key.clone();
        r
    }

    /// The keys the plan names: those that exist, and those Create makes.
    pub fn keys(&self) -> Keys {
        Keys {
            source: self.source.key.clone(),
            destinations: self.destinations.iter().map(|d| d.key.clone()).collect(),
        }
    }
}

/// Step 1 of Create/Update: read-only checks everywhere before changing anything anywhere.
/// Both sides run to the end so that the answer is deterministic: a source problem is
/// reported first.
pub async fn check_all(
    src: &Account,
    spec: &Spec,
    resolved: &Resolved,
    dests: &[Account],
) -> Result<Facts, ReconcileError> {
    let (source, destinations) = futures::join!(
        source::check(src, spec, resolved),
        bounded(
            spec.destinations
                .iter()
                .zip(dests)
                .map(|(d, a)| destination::check(a, d, &spec.source.bucket))
        )
    );
    Ok(Facts {
        source: source?,
        destinations: destinations?,
    })
}

/// Converges everything to `spec`; returns the plan that now holds.
///
/// 1. Check (read only) and build the whole desired state, keys Create makes named by alias.
/// 2. Create what is missing: source side (versioning, key, role) ∥ each destination; and
///    meanwhile the destination bucket-policy statements, which need the role (their principal)
///    and the bucket to exist, nothing else: their settle-and-verify overlaps key creation.
/// 3. Bind the created keys into the plan, then grant: role policy and key policies.
/// 4. Switch the replication configuration on once every grant is written (while writes to
///    shared policies are still being verified against concurrent writers).
pub async fn apply(
    conn: &Connector,
    spec: &Spec,
    src: &Account,
    resolved: Resolved,
    deadline: Deadline,
) -> Result<Plan, ReconcileError> {
    let dests = connect_destinations(conn, spec).await?;
    let alarm_accounts = signals::alarm_accounts(conn, spec, src).await?;
    let (facts, ()) = futures::try_join!(
        check_all(src, spec, &resolved, &dests),
        signals::check_alarm_topics(&alarm_accounts, spec)
    )?;
    let desired = Plan::build(spec, facts.resolve(resolved), &facts.keys())?;

    let written = Written::new();
    let role_ready = Gate::new();
    let bucket_ready: Vec<Gate> = facts.destinations.iter().map(|_| Gate::new()).collect();
    let source_side = async {
        let role = async {
            let replication_role = role::ensure_role(src, &desired.resolved, &desired.trust_policy);
            futures::try_join!(replication_role, batch::ensure_role(src, &desired))?;
            role_ready.open();
            Ok(())
        };
        let (key, ()) = futures::try_join!(source::prepare(src, spec, &facts.source), role)?;
        Ok::<_, ReconcileError>(key)
    };
    let dest_side = bounded(
        spec.destinations
            .iter()
            .zip(&dests)
            .zip(&facts.destinations)
            .zip(&bucket_ready)
            .map(|(((d, a), f), bucket_exists)| {
                destination::prepare(a, d, &spec.source.bucket, f, bucket_exists)
            }),
    );
    let bucket_grants = async {
        role_ready.wait().await;
        // Those naming a key Create makes wait for it (see `grant`).
        let early = desired
            .bucket_statements
            .iter()
            .filter(|b| !b.names_key_to_create);
        bounded(early.map(|b| async {
            bucket_ready[b.dest_index].wait().await;
            let acct = &dests[b.dest_index];
            let shared = facts.destinations[b.dest_index].shared_key_space;
            grant_bucket(src, acct, &desired.resolved, b, shared, deadline, &written).await
        }))
        .await
        .map(drop)
    };
    let rest = async {
        // Boxed: the SDK's futures are large, and nested joins of them overflow a thread's
        // stack in unoptimised builds.
        let (source_key, dest_keys) =
            futures::try_join!(Box::pin(source_side), Box::pin(dest_side))?;
        let made = Keys {
            source: source_key.map(KeyRef::Existing),
            destinations: dest_keys
                .into_iter()
                .map(|k| k.map(KeyRef::Existing))
                .collect(),
        };
        let plan = desired.bind(spec, &made)?;
        let deferred: Vec<bool> = desired
            .bucket_statements
            .iter()
            .map(|b| b.names_key_to_create)
            .collect();
        let grants = grant(src, &dests, &facts, &deferred, &plan, deadline, &written);
        let all = written.all(grant_count(&plan));
        let switch_on = ensure_replication(src, spec, &plan, deadline, all);
        let signals = signals::ensure(src, &alarm_accounts, &plan, deadline);
        futures::try_join!(Box::pin(grants), Box::pin(switch_on), Box::pin(signals))?;
        Ok(plan)
    };
    let ((), plan) = futures::try_join!(Box::pin(bucket_grants), Box::pin(rest))?;
    Ok(plan)
}

/// Puts one destination bucket statement in place. Unless the bucket's owner allows sharing,
/// one that overlaps another source's statement is refused; but a statement of this same
/// resource for another source (a replacement that CloudFormation has not yet cleaned up:
/// its role records this resource as owner) is not another source's.
async fn grant_bucket(
    src: &Account,
    acct: &Account,
    r: &Resolved,
    b: &BucketStatement,
    shared: bool,
    deadline: Deadline,
    written: &Written,
) -> Result<(), ReconcileError> {
    let bucket = b.bucket.as_str();
    let put = put_bucket_statement(src, acct, r, b, shared, deadline, written).await;
    let live = acct.bucket_policy(bucket);
    unless_owner_grants(put, src, r, &b.statement, "*", live, written).await
}

/// [`grant_bucket`] as the provider writes it.
async fn put_bucket_statement(
    src: &Account,
    acct: &Account,
    r: &Resolved,
    b: &BucketStatement,
    shared: bool,
    deadline: Deadline,
    written: &Written,
) -> Result<(), ReconcileError> {
    let bucket = b.bucket.as_str();
    if shared {
        let edit = Edit::Upsert(&b.statement);
        return edit_bucket_policy(acct, bucket, &b.id, edit, deadline, Some(written)).await;
    }
    let mut tolerated: Vec<String> = Vec::new();
    loop {
        let edit = Edit::UpsertExclusive {
            statement: &b.statement,
            tolerated: &tolerated,
        };
        match edit_bucket_policy(acct, bucket, &b.id, edit, deadline, Some(written)).await {
            Err(ReconcileError::KeySpaceShared {
                principals,
                what,
                others,
            }) if tolerated.is_empty() && !principals.is_empty() => {
                if !role::all_owned_by(src, r, &principals).await? {
                    return Err(ReconcileError::KeySpaceShared {
                        what,
                        others,
                        principals,
                    });
                }
                tolerated = principals;
            }
            other => return other,
        }
    }
}

/// How many edits are marked written before the configuration is switched on: the role policy,
/// the source key's statement (marked also when there is none: see [`grant`]) and every other
/// statement. Counting the source key only when it has a statement let a source without KMS
/// switch replication on before its destination bucket statement was written (or refused).
fn grant_count(plan: &Plan) -> usize {
    2 + plan.bucket_statements.len() + plan.key_statements.len()
}

/// The grants that need the keys Create made: the role policy, the key statements, and the
/// bucket statements that pin a key made now.
async fn grant(
    src: &Account,
    dests: &[Account],
    facts: &Facts,
    deferred: &[bool],
    plan: &Plan,
    deadline: Deadline,
    written: &Written,
) -> Result<(), ReconcileError> {
    let source_key = async {
        if let Some(k) = &plan.source_key_statement {
            upsert_key_statement(src, src, &plan.resolved, k, deadline, written).await?;
        } else {
            written.mark();
        }
        Ok(())
    };
    let keys = bounded(plan.key_statements.iter().map(|k| {
        upsert_key_statement(
            src,
            &dests[k.dest_index],
            &plan.resolved,
            k,
            deadline,
            written,
        )
    }));
    let role_policy = async {
        role::ensure_role_policy(src, plan).await?;
        written.mark();
        Ok(())
    };
    let buckets = bounded(
        plan.bucket_statements
            .iter()
            .zip(deferred)
            .filter(|(_, deferred)| **deferred)
            .map(|(b, _)| {
                let (acct, shared) = (
                    &dests[b.dest_index],
                    facts.destinations[b.dest_index].shared_key_space,
                );
                grant_bucket(src, acct, &plan.resolved, b, shared, deadline, written)
            }),
    );
    futures::try_join!(
        role_policy,
        source_key,
        keys,
        buckets,
        batch::ensure_policy(src, plan)
    )?;
    Ok(())
}

/// Puts one planned key statement in place (shared unless the key is the resource's own), or
/// finds it granted by the key's owner.
async fn upsert_key_statement(
    src: &Account,
    acct: &Account,
    r: &Resolved,
    k: &KeyStatement,
    deadline: Deadline,
    written: &Written,
) -> Result<(), ReconcileError> {
    let put = edit_key_policy_of(
        acct,
        &k.key_arn,
        &k.id,
        Edit::Upsert(&k.statement),
        deadline,
        !k.exclusive,
        Some(written),
    )
    .await;
    let live = async { acct.key_policy(&k.key_arn).await.map(Some) };
    unless_owner_grants(put, src, r, &k.statement, &k.key_arn, live, written).await
}

/// A statement the provider may not write (a ReadOnly destination, a key its owner has not
/// opted in) is in place all the same when the owner's policy already grants everything it
/// would (see [`crate::doctor::covers`]): then nothing needs writing. Otherwise the refusal
/// stands, naming the statement to add.
async fn unless_owner_grants(
    put: Result<(), ReconcileError>,
    src: &Account,
    r: &Resolved,
    statement: &serde_json::Value,
    star: &str,
    live: impl std::future::Future<Output = Result<Option<String>, crate::aws::AwsError>>,
    written: &Written,
) -> Result<(), ReconcileError> {
    let Err(refused @ ReconcileError::GrantNotWritable { .. }) = put else {
        return put;
    };
    let Some(policy) = live.await?.and_then(|p| serde_json::from_str(&p).ok()) else {
        return Err(refused);
    };
    let organization = match src.organization().await? {
        Membership::Member(id) => Some(Some(id)),
        Membership::None => Some(None),
        Membership::Unknown(_) => None,
    };
    let asker = Asker {
        role_arn: r.role_arn.as_str(),
        organization: organization.as_ref().map(|o| o.as_deref()),
        star,
    };
    match covers(&policy, statement, &asker) {
        Ok(()) => {
            tracing::info!(statement = %statement, "not written: the owner's policy already grants everything it would");
            written.mark();
            Ok(())
        }
        Err(why) => {
            tracing::info!(
                why,
                "the owner's policy does not grant what the statement would"
            );
            Err(refused)
        }
    }
}

/// Writes the replication configuration unless the live one has the planned rules and was
/// written from the same desired document (its digest is recorded on the role). Reads at once;
/// writes only after `grants_written`. Retries while the new role is not yet usable by S3.
pub(super) async fn ensure_replication(
    src: &Account,
    spec: &Spec,
    plan: &Plan,
    deadline: Deadline,
    grants_written: impl std::future::Future<Output = ()>,
) -> Result<(), ReconcileError> {
    let bucket = spec.source.bucket.as_str();
    let role_name = &plan.resolved.role_name;
    let digest = plan.replication.digest();
    let live = src.replication(bucket).await?;
    // The digest is read only when the rules match (a changed configuration needs no read).
    let recorded = match &live {
        Some(l) if diff::same_rules(l, &plan.replication) => {
            role::recorded_digest(src, role_name).await?
        }
        _ => None,
    };
    if !diff::replication(live.as_ref(), &plan.replication, recorded.as_deref()).changes() {
        return Ok(());
    }
    grants_written.await;
    let document = plan.replication.to_s3_json();
    until_propagated(deadline, "PutBucketReplication", || {
        src.put_replication(bucket, &document)
    })
    .await?;
    role::record_digest(src, role_name, &digest).await
}
