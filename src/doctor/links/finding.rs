//! What checking one link yields: a [`Finding`] with its [`Status`].

use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Pass,
    Fail,
    CannotDecide,
}

/// One link of the chain.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// Stable name: `trust`, `source.read`, `destination[0].replicate`, …
    pub link: String,
    pub status: Status,
    pub detail: String,
    /// Where the link lives (for a policy link: the resource whose policy decides).
    pub account: String,
    pub region: String,
    pub resource: String,
    /// For a failure: what to change, as a list of placements, each naming account, region and
    /// resource with the policy `statement` to add or the API `call` to make.
    pub fix: Option<Value>,
    /// A pass that could be safer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub advisory: Option<String>,
}
