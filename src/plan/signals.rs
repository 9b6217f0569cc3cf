//! Replication failure signals: the source bucket's event notification for failed (and, with
//! RTC, late) replication, the topic or queue policy statement that lets S3 deliver it, and
//! CloudWatch alarms per rule. Pure: no AWS calls.

use serde_json::{json, Value};

use super::names::fnv64;
use super::{Claim, DestinationPlan, Resolved, StatementId};
use crate::spec::{NotificationArn, NotificationKind, Region, Spec};

/// Always notified: an object failed to replicate.
pub const FAILED_EVENT: &str = "s3:Replication:OperationFailedReplication";
/// Notified when a rule has RTC: an object missed, or replicated after, the 15-minute threshold.
pub const RTC_EVENTS: [&str; 2] = [
    "s3:Replication:OperationMissedThreshold",
    "s3:Replication:OperationReplicatedAfterThreshold",
];
/// CloudWatch's alarm name limit.
const ALARM_NAME_LIMIT: usize = 255;
/// S3 publishes replication metrics under this namespace.
pub const METRICS_NAMESPACE: &str = "AWS/S3";
/// How the alarms treat periods without data points. AWS, "S3 Replication metrics in
/// CloudWatch" (S3 User Guide, metrics-dimensions): "When you set up alarms for your
/// replication metrics, set the Missing data treatment field to Treat missing data as ignore
/// (maintain the alarm state)." S3 publishes `OperationsFailedReplication` only while
/// replication occurs, so `notBreaching` would return a failed-replication alarm to OK once
/// the bucket goes quiet, though the objects that failed are still not replicated (S3 never
/// retries them).
pub const TREAT_MISSING_DATA: &str = "ignore";

/// The event notification this resource adds to the source bucket's configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct NotificationPlan {
    /// Id of our configuration among the bucket's notification configurations.
    pub id: String,
    pub target: NotificationArn,
    pub events: Vec<&'static str>,
    /// Identity of our statement in the topic's or queue's policy.
    pub statement_id: StatementId,
    /// The statement letting S3 deliver this bucket's events.
    pub statement: Value,
}

impl NotificationPlan {
    /// Our configuration as it is stored in the bucket's notification document
    /// (`TopicConfigurations` or `QueueConfigurations`).
    pub fn configuration(&self) -> Value {
        let arn_key = match self.target.kind() {
            NotificationKind::Topic => "TopicArn",
            NotificationKind::Queue => "QueueArn",
        };
        json!({ "Id": self.id, arn_key: self.target.as_str(), "Events": self.events })
    }
}

/// Id of the notification configuration of a source bucket (ids are unique per bucket, and a
/// bucket has one replication configuration, so one failure notification).
pub fn notification_id(r: &Resolved) -> String {
    format!("s3-replication-failures-{}", r.source_bucket)
}

/// The notification `spec` asks for, if any.
pub fn notification(spec: &Spec, r: &Resolved) -> Option<NotificationPlan> {
    let target = spec.failure_notification.clone()?;
    let mut events = vec![FAILED_EVENT];
    if spec.destinations.iter().any(|d| d.replication_time_control) {
        events.extend(RTC_EVENTS);
    }
    Some(NotificationPlan {
        id: notification_id(r),
        statement: publish_statement(r, &target),
        target,
        events,
        statement_id: target_statement_id(r),
    })
}

/// Identity of this source's statement in a topic's or queue's policy: ours when it lets S3
/// deliver for exactly this bucket of this account.
pub fn target_statement_id(r: &Resolved) -> StatementId {
    r.id_claimed_by(Claim::Service {
        source_arn: r.source_bucket_arn(),
        source_account: r.source_account.to_string(),
    })
}

/// Lets S3 publish (topic) or send (queue) this source bucket's events, and only these: the
/// bucket ARN and its account are both required, so a bucket of the same name in another
/// account (after this one is deleted) cannot use the grant.
pub fn publish_statement(r: &Resolved, target: &NotificationArn) -> Value {
    let action = match target.kind() {
        NotificationKind::Topic => "sns:Publish",
        NotificationKind::Queue => "sqs:SendMessage",
    };
    json!({
        "Sid": r.sid(),
        "Effect": "Allow",
        "Principal": { "Service": "s3.amazonaws.com" },
        "Action": action,
        "Resource": target.as_str(),
        "Condition": {
            "ArnLike": { "aws:SourceArn": r.source_bucket_arn() },
            "StringEquals": { "aws:SourceAccount": r.source_account.as_str() }
        }
    })
}

/// The policy SNS gives a new topic (only its owner account may use it): what a topic gets
/// back when our statement was the last one in its policy.
pub fn default_topic_policy(topic_arn: &str, account: &str) -> String {
    json!({
        "Version": "2008-10-17",
        "Id": "__default_policy_ID",
        "Statement": [{
            "Sid": "__default_statement_ID",
            "Effect": "Allow",
            "Principal": { "AWS": "*" },
            "Action": [
                "SNS:GetTopicAttributes", "SNS:SetTopicAttributes", "SNS:AddPermission",
                "SNS:RemovePermission", "SNS:DeleteTopic", "SNS:Subscribe",
                "SNS:ListSubscriptionsByTopic", "SNS:Publish"
            ],
            "Resource": topic_arn,
            "Condition": { "StringEquals": { "AWS:SourceOwner": account } }
        }]
    })
    .to_string()
}

/// One CloudWatch alarm this resource keeps on a rule's replication metric.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alarm {
    pub name: String,
    /// Where the alarm is (in the source account): the region S3 publishes its metric in.
    pub region: Region,
    pub description: String,
    pub metric: String,
    /// `Sum` (failed operations) or `Maximum` (latency).
    pub statistic: String,
    /// Alarm when the statistic is greater than this.
    pub threshold: i64,
    pub period_seconds: i32,
    pub evaluation_periods: i32,
    /// `SourceBucket`, `DestinationBucket`, `RuleId`, in that order.
    pub dimensions: Vec<(String, String)>,
    /// The topic of its region ([`Spec::alarm_topic`]), if any.
    pub actions: Vec<String>,
}

impl Alarm {
    /// The alarm as PutMetricAlarm's parameters, for `plan` to print.
    pub fn to_json(&self) -> Value {
        let dims: Vec<Value> = self
            .dimensions
            .iter()
            .map(|(n, v)| json!({"Name": n, "Value": v}))
            .collect();
        json!({
            "AlarmName": self.name,
            "AlarmDescription": self.description,
            "Namespace": METRICS_NAMESPACE,
            "MetricName": self.metric,
            "Dimensions": dims,
            "Statistic": self.statistic,
            "Period": self.period_seconds,
            "EvaluationPeriods": self.evaluation_periods,
            "Threshold": self.threshold,
            "ComparisonOperator": "GreaterThanThreshold",
            "TreatMissingData": TREAT_MISSING_DATA,
            "Region": self.region.as_str(),
            "AlarmActions": self.actions,
        })
    }
}

/// Prefix of every alarm name of a source bucket: bucket names have no `/`, so no other
/// bucket's alarms share it.
pub fn alarm_prefix(r: &Resolved) -> String {
    alarm_prefix_of(r.source_bucket.as_str())
}

/// [`alarm_prefix`] of the source bucket `bucket` (for readers that have only its name).
pub fn alarm_prefix_of(bucket: &str) -> String {
    format!("s3-replication/{bucket}/")
}

/// `<prefix><rule id>/<what>`, or, past CloudWatch's 255 characters, the rule id's hash.
fn alarm_name(r: &Resolved, rule_id: &str, what: &str) -> String {
    let name = format!("{}{rule_id}/{what}", alarm_prefix(r));
    if name.len() <= ALARM_NAME_LIMIT {
        return name;
    }
    format!("{}rule-{:016x}/{what}", alarm_prefix(r), fnv64(rule_id))
}

/// Where S3 publishes a replication metric (S3 User Guide, "Monitoring progress with
/// replication metrics").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Published {
    /// "This metric is published in the Region of the source bucket."
    SourceRegion,
    /// "This metric is published in the Region of the destination bucket."
    DestinationRegion,
}

/// One kind of alarm every rule (or every rule with RTC) gets.
struct AlarmKind {
    suffix: &'static str,
    what: &'static str,
    metric: &'static str,
    statistic: &'static str,
    threshold: i64,
    rtc_only: bool,
    published: Published,
}

const ALARM_KINDS: [AlarmKind; 2] = [
    AlarmKind {
        suffix: "failed-replication",
        what: "Objects failed to replicate",
        metric: "OperationsFailedReplication",
        statistic: "Sum",
        threshold: 0,
        rtc_only: false,
        published: Published::SourceRegion,
    },
    // RTC's own threshold: 15 minutes.
    AlarmKind {
        suffix: "replication-latency",
        what: "Replication took over 15 minutes",
        metric: "ReplicationLatency",
        statistic: "Maximum",
        threshold: 900,
        rtc_only: true,
        published: Published::DestinationRegion,
    },
];

/// The alarms `spec` asks for: per rule, failed operations (> 0 in 5 minutes) in the source
/// region and, with RTC, latency (> 900 s) in the destination's region, each acting on the
/// topic of its region.
pub fn alarms(spec: &Spec, r: &Resolved, dests: &[DestinationPlan]) -> Vec<Alarm> {
    if !spec.alarms {
        return Vec::new();
    }
    let mut out = Vec::new();
    for (d, p) in spec.destinations.iter().zip(dests) {
        let dimensions = vec![
            ("SourceBucket".to_owned(), r.source_bucket.to_string()),
            ("DestinationBucket".to_owned(), p.bucket.to_string()),
            ("RuleId".to_owned(), d.rule_id.clone()),
        ];
        let about = format!(
            "s3://{} to s3://{} (rule {}); managed by Custom::S3Replication {}",
            r.source_bucket, p.bucket, d.rule_id, r.physical_id
        );
        let kinds = ALARM_KINDS
            .iter()
            .filter(|k| !k.rtc_only || d.replication_time_control);
        out.extend(kinds.map(|k| {
            let region = match k.published {
                Published::SourceRegion => r.source_region.clone(),
                Published::DestinationRegion => p.region.clone(),
            };
            Alarm {
                name: alarm_name(r, &d.rule_id, k.suffix),
                description: format!("{} from {about}", k.what),
                metric: k.metric.to_owned(),
                statistic: k.statistic.to_owned(),
                threshold: k.threshold,
                period_seconds: 300,
                evaluation_periods: 1,
                dimensions: dimensions.clone(),
                actions: spec
                    .alarm_topic(&region)
                    .map(|t| vec![t.as_str().to_owned()])
                    .unwrap_or_default(),
                region,
            }
        }));
    }
    out
}
