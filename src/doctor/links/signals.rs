//! The failure signals: may S3 deliver the source bucket's replication events to the topic or
//! queue its notification names (its policy, evaluated for `s3.amazonaws.com` acting for this
//! bucket), does every rule publish the metrics those events need, and does every rule have
//! its alarm (when the provider's alarms are in use).

use serde_json::json;

use super::checker::{Checker, S3_SERVICE};
use super::text::with_lints;
use super::{DestinationBucket, FailureNotification, Finding, Status};
use crate::doctor::eval::{evaluate, Decision, PolicyKind, Principal, Request};
use crate::doctor::lint;

/// What S3 calls on each kind of destination.
fn publish_action(target: &str) -> &'static str {
    if target.split(':').nth(2) == Some("sqs") {
        "sqs:SendMessage"
    } else {
        "sns:Publish"
    }
}

impl Checker<'_> {
    /// `notification[i].publish`: the topic's or queue's policy lets S3 deliver this bucket's
    /// events (only the resource policy decides for a service principal).
    pub(super) fn publish(&self, i: usize, n: &FailureNotification) -> Finding {
        let s = self.s;
        let src_arn = self.bucket_arn(&s.source.bucket);
        let action = publish_action(&n.target);
        let statement = json!({
            "Effect": "Allow",
            "Principal": {"Service": S3_SERVICE},
            "Action": action,
            "Resource": n.target,
            "Condition": {
                "ArnLike": {"aws:SourceArn": src_arn},
                "StringEquals": {"aws:SourceAccount": s.source.account}
            }
        });
        let mut f = Finding {
            link: format!("notification[{i}].publish"),
            status: Status::Pass,
            detail: String::new(),
            account: crate::doctor::eval::arn_account(&n.target)
                .unwrap_or_default()
                .to_owned(),
            region: crate::doctor::eval::arn_region(&n.target)
                .unwrap_or_default()
                .to_owned(),
            resource: n.target.clone(),
            fix: None,
            advisory: None,
        };
        if !n.exists {
            f.status = Status::Fail;
            f.detail = format!(
                "notification {} names {}, which does not exist: S3 cannot deliver replication events",
                n.id, n.target
            );
            return f;
        }
        let empty = json!({"Statement": []});
        let name = "access policy";
        let policy = n.policy.as_ref().unwrap_or(&empty);
        let req = Request::new(
            Principal::service(S3_SERVICE),
            action,
            &n.target,
            self.service_context(&s.source.account, &src_arn),
        );
        let e = evaluate(policy, name, PolicyKind::Resource, &req);
        match Decision::from_parts(e.deny, e.allow()) {
            Decision::Allow => {
                f.detail = format!(
                    "S3 may send the replication events of {src_arn} to {} (allowed by {})",
                    n.target,
                    e.allowed_by.join(", ")
                );
            }
            Decision::ExplicitDeny => {
                f.status = Status::Fail;
                f.detail = format!(
                    "S3 may not send replication events to {}: explicitly denied by {}",
                    n.target,
                    e.denied_by.join(", ")
                );
            }
            Decision::ImplicitDeny => {
                f.status = Status::Fail;
                f.detail = with_lints(
                    format!(
                        "no statement of the policy of {} lets s3.amazonaws.com call {action} for {src_arn}",
                        n.target
                    ),
                    lint::lint(policy, name),
                );
                f.fix = Some(json!([{
                    "account": f.account, "region": f.region, "resource": n.target,
                    "policy": name, "statement": statement
                }]));
            }
            Decision::CannotDecide => {
                f.status = Status::CannotDecide;
                f.detail = format!(
                    "whether S3 may send replication events to {} cannot be decided: {}",
                    n.target,
                    e.undecided.join("; ")
                );
            }
        }
        f
    }

    /// `notification[i].metrics`: S3 sends replication events only for rules with metrics.
    pub(super) fn events_sent(&self, i: usize, n: &FailureNotification) -> Finding {
        let s = self.s;
        let silent: Vec<&str> = s
            .destinations
            .iter()
            .filter(|d| !d.metrics)
            .map(|d| d.rule_id.as_str())
            .collect();
        let arn = self.bucket_arn(&s.source.bucket);
        Finding {
            link: format!("notification[{i}].metrics"),
            status: if silent.is_empty() {
                Status::Pass
            } else {
                Status::Fail
            },
            detail: if silent.is_empty() {
                format!(
                    "every rule publishes replication metrics, so {} receives their events",
                    n.target
                )
            } else {
                format!(
                    "rules {} have replication metrics off: S3 sends {} no replication events for them",
                    silent.join(", "),
                    n.target
                )
            },
            account: s.source.account.clone(),
            region: s.source.region.clone(),
            resource: arn.clone(),
            fix: (!silent.is_empty()).then(|| {
                json!([{"account": s.source.account, "region": s.source.region, "resource": arn,
                    "call": "s3:PutReplicationConfiguration",
                    "request": {"Rules": silent, "Destination": {"Metrics": {"Status": "Enabled"}}}}])
            }),
            advisory: None,
        }
    }

    /// `destination[i].alarm`: the rule has an alarm on its failed replications.
    pub(super) fn alarm(&self, p: &str, d: &DestinationBucket) -> Finding {
        let s = self.s;
        let found = s
            .signals
            .alarms
            .iter()
            .find(|a| a.rule_id == d.rule_id && a.metric == "OperationsFailedReplication");
        let arn = self.bucket_arn(&s.source.bucket);
        Finding {
            link: format!("{p}.alarm"),
            status: if found.is_some() {
                Status::Pass
            } else {
                Status::Fail
            },
            detail: match found {
                Some(a) => format!("alarm {} watches failed replication of rule {}", a.name, d.rule_id),
                None => format!(
                    "rule {} has no alarm on OperationsFailedReplication while the source's other rules have one",
                    d.rule_id
                ),
            },
            account: s.source.account.clone(),
            region: s.source.region.clone(),
            resource: arn,
            fix: found.is_none().then(|| {
                json!([{"account": s.source.account, "region": s.source.region,
                    "call": "cloudwatch:PutMetricAlarm",
                    "request": {"Namespace": "AWS/S3", "MetricName": "OperationsFailedReplication",
                        "Dimensions": [
                            {"Name": "SourceBucket", "Value": s.source.bucket},
                            {"Name": "DestinationBucket", "Value": d.bucket},
                            {"Name": "RuleId", "Value": d.rule_id}],
                        "Statistic": "Sum", "Period": 300, "EvaluationPeriods": 1,
                        "Threshold": 0, "ComparisonOperator": "GreaterThanThreshold"}}])
            }),
            advisory: None,
        }
    }
}
