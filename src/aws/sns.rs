//! SNS: the policy of the topic replication failures are sent to.

use super::account::{op, optional};
use super::{Account, AwsError, Op};

const GET_ATTRIBUTES: Op = op("sns", "GetTopicAttributes", "sns:GetTopicAttributes", false);
const SET_ATTRIBUTES: Op = op("sns", "SetTopicAttributes", "sns:SetTopicAttributes", true);

impl Account {
    /// The topic's access policy: `None` when the topic does not exist, `Some(None)` when it
    /// has none (SNS gives every topic a default one).
    pub async fn topic_policy(&self, topic_arn: &str) -> Result<Option<Option<String>>, AwsError> {
        let req = self.sns.get_topic_attributes().topic_arn(topic_arn);
        let out = optional(self.call(GET_ATTRIBUTES, topic_arn, req.send()).await)?;
        Ok(out.map(|o| {
            o.attributes()
                .and_then(|a| a.get("Policy"))
                .filter(|p| !p.trim().is_empty())
                .cloned()
        }))
    }

    pub async fn put_topic_policy(&self, topic_arn: &str, policy: &str) -> Result<(), AwsError> {
        let req = self
            .sns
            .set_topic_attributes()
            .topic_arn(topic_arn)
            .attribute_name("Policy")
            .attribute_value(policy);
        self.call(SET_ATTRIBUTES, topic_arn, req.send())
            .await
            .map(drop)
    }
}
