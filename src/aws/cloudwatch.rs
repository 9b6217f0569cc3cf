//! CloudWatch: the alarms this provider keeps on replication metrics.

use aws_sdk_cloudwatch::types::{ComparisonOperator, Dimension, MetricAlarm, Statistic};

use super::account::op;
use super::{Account, AwsError, Op};
use crate::plan::signals::{METRICS_NAMESPACE, TREAT_MISSING_DATA};
use crate::plan::Alarm;

const DESCRIBE: Op = op(
    "cloudwatch",
    "DescribeAlarms",
    "cloudwatch:DescribeAlarms",
    false,
);
const PUT: Op = op(
    "cloudwatch",
    "PutMetricAlarm",
    "cloudwatch:PutMetricAlarm",
    true,
);
const DELETE: Op = op(
    "cloudwatch",
    "DeleteAlarms",
    "cloudwatch:DeleteAlarms",
    true,
);
const STATISTICS: Op = op(
    "cloudwatch",
    "GetMetricStatistics",
    "cloudwatch:GetMetricStatistics",
    false,
);
/// DeleteAlarms takes at most this many names.
const DELETE_BATCH: usize = 100;

impl Account {
    /// Every metric alarm of this region whose name starts with `prefix`, as the plan
    /// describes alarms.
    pub async fn alarms_with_prefix(&self, prefix: &str) -> Result<Vec<Alarm>, AwsError> {
        let mut alarms = Vec::new();
        let mut token = None;
        loop {
            let req = self
                .cloudwatch
                .describe_alarms()
                .alarm_name_prefix(prefix)
                .set_next_token(token);
            let out = self.call(DESCRIBE, prefix, req.send()).await?;
            alarms.extend(
                out.metric_alarms()
                    .iter()
                    .map(|a| from_sdk(a, &self.region)),
            );
            token = out.next_token;
            if token.is_none() {
                return Ok(alarms);
            }
        }
    }

    /// Creates the alarm, or replaces the one of the same name (in this account's region: the
    /// caller picks the account of `alarm.region`).
    pub async fn put_alarm(&self, alarm: &Alarm) -> Result<(), AwsError> {
        let dims = alarm
            .dimensions
            .iter()
            .map(|(n, v)| Dimension::builder().name(n).value(v).build());
        let req = self
            .cloudwatch
            .put_metric_alarm()
            .alarm_name(&alarm.name)
            .alarm_description(&alarm.description)
            .namespace(METRICS_NAMESPACE)
            .metric_name(&alarm.metric)
            .set_dimensions(Some(dims.collect()))
            .statistic(Statistic::from(alarm.statistic.as_str()))
            .period(alarm.period_seconds)
            .evaluation_periods(alarm.evaluation_periods)
            .threshold(alarm.threshold as f64)
            .comparison_operator(ComparisonOperator::GreaterThanThreshold)
            .treat_missing_data(TREAT_MISSING_DATA)
            .set_alarm_actions(Some(alarm.actions.clone()));
        self.call(PUT, &alarm.name, req.send()).await.map(drop)
    }

    /// The sum of a replication metric of one rule (`dimensions`: `SourceBucket`,
    /// `DestinationBucket`, `RuleId`) over the `days` before now, from daily data points.
    /// CloudWatch keeps one-hour data points for 455 days and five-minute ones for 63 days
    /// (GetMetricStatistics), so a sum over days up to 63 loses nothing.
    pub async fn metric_sum(
        &self,
        metric: &str,
        dimensions: &[(String, String)],
        days: u32,
    ) -> Result<f64, AwsError> {
        use aws_sdk_cloudwatch::primitives::DateTime;
        let end = std::time::SystemTime::now();
        let start = end - std::time::Duration::from_secs(u64::from(days) * 86_400);
        let dims = dimensions
            .iter()
            .map(|(n, v)| Dimension::builder().name(n).value(v).build());
        let req = self
            .cloudwatch
            .get_metric_statistics()
            .namespace(METRICS_NAMESPACE)
            .metric_name(metric)
            .set_dimensions(Some(dims.collect()))
            .start_time(DateTime::from(start))
            .end_time(DateTime::from(end))
            .period(86_400)
            .statistics(Statistic::Sum);
        let out = self.call(STATISTICS, metric, req.send()).await?;
        Ok(out.datapoints().iter().filter_map(|d| d.sum()).sum())
    }

    /// Deletes these alarms. CloudWatch deletes none of a batch that names one it does not
    /// know (`NotFound`).
    pub async fn delete_alarms(&self, names: &[String]) -> Result<(), AwsError> {
        for batch in names.chunks(DELETE_BATCH) {
            let req = self
                .cloudwatch
                .delete_alarms()
                .set_alarm_names(Some(batch.to_vec()));
            self.call(DELETE, &batch.join(","), req.send()).await?;
        }
        Ok(())
    }
}

/// A live alarm in the plan's terms; what the plan does not set is left out, so a live alarm
/// equals its planned one exactly when PutMetricAlarm would change nothing the plan controls.
fn from_sdk(a: &MetricAlarm, region: &crate::spec::Region) -> Alarm {
    let owned = |s: Option<&str>| s.unwrap_or_default().to_owned();
    let mut alarm = Alarm {
        name: owned(a.alarm_name()),
        region: region.clone(),
        description: owned(a.alarm_description()),
        metric: owned(a.metric_name()),
        statistic: owned(a.statistic().map(Statistic::as_str)),
        threshold: a.threshold().unwrap_or_default() as i64,
        period_seconds: a.period().unwrap_or_default(),
        evaluation_periods: a.evaluation_periods().unwrap_or_default(),
        dimensions: a
            .dimensions()
            .iter()
            .map(|d| (owned(d.name()), owned(d.value())))
            .collect(),
        actions: a.alarm_actions().to_vec(),
    };
    let comparison = a.comparison_operator().map(ComparisonOperator::as_str);
    let namespace = a.namespace().unwrap_or_default();
    let missing = a.treat_missing_data().unwrap_or("missing");
    if comparison != Some("GreaterThanThreshold")
        || namespace != METRICS_NAMESPACE
        || missing != TREAT_MISSING_DATA
        || a.threshold().is_some_and(|t| t.fract() != 0.0)
    {
        // Not what the plan writes: make it differ so it is rewritten.
        alarm
            .description
            .push_str(" (changed outside the provider)");
    }
    alarm
}
