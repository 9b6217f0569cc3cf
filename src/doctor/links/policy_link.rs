//! Running one policy link: each [`Probe`] is decided as AWS combines the role's policies with
//! the resource's (bucket or key) policy, and the verdicts become one [`Finding`], with the
//! statements a fix adds, grouped by side, grant and condition.

use serde_json::{json, Value};

use super::checker::Checker;
use super::text::{dedup, dedup_str, loose, with_lints};
use super::{Finding, Status};
use crate::doctor::decide::{self, Document, Side, Verdict};
use crate::doctor::eval::{Context, Decision, Request};
use crate::doctor::lint;

/// One request of a policy link, with what to grant when it is refused.
pub(super) struct Probe {
    pub(super) action: &'static str,
    pub(super) resource: String,
    pub(super) context: Context,
    /// The `Resource` a fix statement in the identity policy names.
    pub(super) grant: String,
    /// The `Condition` a fix statement carries.
    pub(super) condition: Option<Value>,
}

/// Where the resource-side document of a policy link lives.
pub(super) struct Holder<'a> {
    pub(super) account: &'a str,
    pub(super) region: &'a str,
    pub(super) resource: &'a str,
    /// `bucket policy` or `key policy`.
    pub(super) policy: &'static str,
}

/// The resource-side document and how AWS combines it with the role's policies: an S3 bucket
/// policy (possibly none) or a KMS key policy.
pub(super) enum Target<'a> {
    S3(Option<Document<'a>>),
    Kms(Document<'a>),
}

/// One statement a fix adds: on `side`, for `grant` under `condition`, the refused `actions`.
struct MissingGrant {
    side: Side,
    grant: String,
    condition: Option<Value>,
    actions: Vec<&'static str>,
}

/// What the probes of one link came to, in probe order.
#[derive(Default)]
struct Tally {
    /// One line per refused probe (explicit or implicit deny).
    failed: Vec<String>,
    /// One line per probe that cannot be decided.
    undecided: Vec<String>,
    /// The statements that would allow the implicitly denied probes.
    missing: Vec<MissingGrant>,
}

impl Tally {
    /// Adds `action` to the statement for (`side`, `grant`, `condition`), opening it if new.
    fn need(&mut self, side: Side, grant: String, condition: &Option<Value>, action: &'static str) {
        let found = self
            .missing
            .iter_mut()
            .find(|m| m.side == side && m.grant == grant && m.condition == *condition);
        match found {
            Some(m) => {
                if !m.actions.contains(&action) {
                    m.actions.push(action);
                }
            }
            None => self.missing.push(MissingGrant {
                side,
                grant,
                condition: condition.clone(),
                actions: vec![action],
            }),
        }
    }
}

impl Checker<'_> {
    /// Runs the probes of one policy link and turns the verdicts into a finding.
    pub(super) fn policy_link(
        &self,
        link: &str,
        what: &str,
        probes: &[Probe],
        target: Target<'_>,
        holder: Holder<'_>,
    ) -> Finding {
        let names = self.identity_names();
        let identity = self.identity_documents(&names);
        let mut tally = Tally::default();
        for p in probes {
            let verdict = self.decide(p, &identity, &target, &holder);
            record(&mut tally, p, &verdict, &target, &holder);
        }
        let mut f = Finding {
            link: link.to_owned(),
            status: Status::Pass,
            detail: String::new(),
            account: holder.account.to_owned(),
            region: holder.region.to_owned(),
            resource: holder.resource.to_owned(),
            fix: None,
            advisory: None,
        };
        if !tally.failed.is_empty() {
            self.refused(&mut f, what, tally, &names, &target, &holder);
        } else if !tally.undecided.is_empty() {
            f.status = Status::CannotDecide;
            f.detail = format!(
                "whether the role may {what} cannot be decided: {}",
                dedup(tally.undecided).join("; ")
            );
        } else {
            f.detail = allowed_detail(what, probes);
        }
        f
    }

    /// The role's policies as documents, named by `names` (from [`Checker::identity_names`]).
    fn identity_documents<'n>(&'n self, names: &'n [String]) -> Vec<Document<'n>> {
        self.s
            .role
            .policies
            .iter()
            .zip(names)
            .map(|(p, n)| Document::new(n, &p.document))
            .collect()
    }

    /// The verdict on one probe, as AWS combines the role's policies with the target's.
    fn decide(
        &self,
        p: &Probe,
        identity: &[Document<'_>],
        target: &Target<'_>,
        holder: &Holder<'_>,
    ) -> Verdict {
        let req = Request::new(self.principal(), p.action, &p.resource, p.context.clone());
        match target {
            Target::S3(policy) => decide::resource_access(&req, identity, *policy, holder.account),
            Target::Kms(policy) => decide::kms_access(&req, identity, *policy, holder.account),
        }
    }

    /// A failed link's detail (the refusals, the undecided probes, and the lints of the
    /// statements about this link) and its fix (the missing statements, placed).
    fn refused(
        &self,
        f: &mut Finding,
        what: &str,
        tally: Tally,
        names: &[String],
        target: &Target<'_>,
        holder: &Holder<'_>,
    ) {
        let Tally {
            mut failed,
            undecided,
            missing,
        } = tally;
        f.status = Status::Fail;
        let lints = self.relevant_lints(&missing, names, target, holder);
        failed.extend(undecided);
        f.detail = with_lints(
            format!("the role may not {what}: {}", dedup(failed).join("; ")),
            lints,
        );
        if !missing.is_empty() {
            f.fix = Some(Value::Array(
                missing
                    .into_iter()
                    .map(|m| self.placement(m, holder))
                    .collect(),
            ));
        }
    }

    /// Explains a failure with what is wrong in the statements about this link: those naming a
    /// failing action or the resource (even misspelt), or with empty lists.
    fn relevant_lints(
        &self,
        missing: &[MissingGrant],
        names: &[String],
        target: &Target<'_>,
        holder: &Holder<'_>,
    ) -> Vec<String> {
        let failing: Vec<String> = missing
            .iter()
            .flat_map(|m| m.actions.iter().map(|a| loose(a)))
            .collect();
        let needle = loose(
            holder
                .resource
                .rsplit([':', '/'])
                .next()
                .unwrap_or_default(),
        );
        let relevant = |stmt: &Value| {
            let text = loose(&stmt.to_string());
            lint::has_empty_lists(stmt)
                || (!needle.is_empty() && text.contains(&needle))
                || failing.iter().any(|a| text.contains(a))
        };
        let mut lints = Vec::new();
        for (p, n) in self.s.role.policies.iter().zip(names) {
            lints.extend(lint::lint_where(&p.document, n, relevant));
        }
        match target {
            Target::S3(Some(d)) | Target::Kms(d) => {
                lints.extend(lint::lint_where(d.body, d.name, relevant))
            }
            Target::S3(None) => {}
        }
        lints
    }

    /// A statement to add, with where to add it.
    fn placement(&self, m: MissingGrant, holder: &Holder<'_>) -> Value {
        let MissingGrant {
            side,
            grant,
            condition,
            actions,
        } = m;
        let mut statement = json!({"Effect": "Allow"});
        if side == Side::Resource {
            statement["Principal"] = json!({"AWS": self.s.role.arn});
        }
        statement["Action"] = if actions.len() == 1 {
            json!(actions[0])
        } else {
            json!(actions)
        };
        statement["Resource"] = json!(grant);
        if let Some(c) = condition {
            statement["Condition"] = c;
        }
        match side {
            Side::Identity => json!({
                "account": self.role_account(), "region": "global", "resource": self.s.role.arn,
                "policy": "role policy", "statement": statement
            }),
            Side::Resource => json!({
                "account": holder.account, "region": holder.region, "resource": holder.resource,
                "policy": holder.policy, "statement": statement
            }),
        }
    }
}

/// Adds one probe's verdict to the tally.
fn record(tally: &mut Tally, p: &Probe, v: &Verdict, target: &Target<'_>, holder: &Holder<'_>) {
    match v.decision {
        Decision::Allow => {}
        Decision::ExplicitDeny => tally.failed.push(format!(
            "{} on {}: explicitly denied by {}",
            p.action,
            p.resource,
            v.denied_by().join(", ")
        )),
        Decision::ImplicitDeny => {
            tally.failed.push(no_allow_line(p, v, holder));
            for &side in &v.missing {
                let grant = match (side, target) {
                    (Side::Resource, Target::Kms(_)) => "*".to_owned(),
                    _ => p.grant.clone(),
                };
                tally.need(side, grant, &p.condition, p.action);
            }
        }
        Decision::CannotDecide => tally.undecided.push(format!(
            "{} on {}: {}",
            p.action,
            p.resource,
            dedup(v.undecided()).join("; ")
        )),
    }
}

/// An implicitly denied probe: which documents lack an Allow (and which may deny).
fn no_allow_line(p: &Probe, v: &Verdict, holder: &Holder<'_>) -> String {
    let sides: Vec<String> = v
        .missing
        .iter()
        .map(|s| match s {
            Side::Identity => "the role's policies".to_owned(),
            Side::Resource => format!("the {}", holder.policy),
        })
        .collect();
    let mut line = format!(
        "{} on {}: no Allow in {}",
        p.action,
        p.resource,
        sides.join(" nor in ")
    );
    if !v.denied_by().is_empty() {
        line.push_str(&format!(" (and {} may deny)", v.denied_by().join(", ")));
    }
    line
}

/// A passed link's detail: the actions allowed, on which resources.
fn allowed_detail(what: &str, probes: &[Probe]) -> String {
    let mut actions: Vec<&str> = probes.iter().map(|p| p.action).collect();
    actions.dedup();
    let mut resources: Vec<&str> = probes.iter().map(|p| p.resource.as_str()).collect();
    resources.sort();
    resources.dedup();
    format!(
        "the role may {what}: {} on {}",
        dedup_str(actions).join(", "),
        resources.join(", ")
    )
}
