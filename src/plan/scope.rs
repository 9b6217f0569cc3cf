//! Which objects a grant covers: exactly what the rules replicate, so a rule for `logs/` opens
//! `bucket/logs/*` and no more.

/// The object ARNs under `bucket_arn` that rules with these prefixes reach: the whole bucket as
/// soon as one rule has no prefix, else one pattern per distinct prefix, sorted. IAM wildcard
/// and policy-variable characters in a prefix are escaped, so each pattern matches its
/// prefix literally.
pub fn objects<'a>(
    bucket_arn: &str,
    prefixes: impl IntoIterator<Item = Option<&'a str>>,
) -> Vec<String> {
    let mut out = Vec::new();
    for prefix in prefixes {
        match prefix.filter(|p| !p.is_empty()) {
            None => return vec![format!("{bucket_arn}/*")],
            Some(p) => out.push(format!("{bucket_arn}/{}*", escape(p))),
        }
    }
    out.sort();
    out.dedup();
    out
}

/// `*`, `?` and `$` as IAM's literal forms `${*}`, `${?}`, `${$}` (policy version 2012-10-17).
pub fn escape(prefix: &str) -> String {
    let mut out = String::with_capacity(prefix.len());
    for c in prefix.chars() {
        match c {
            '*' | '?' | '$' => {
                out.push_str("${");
                out.push(c);
                out.push('}');
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const B: &str = "arn:aws:s3:::dst";

    #[test]
    fn a_rule_without_prefix_opens_the_whole_bucket() {
        assert_eq!(objects(B, [Some("logs/"), None]), vec![format!("{B}/*")]);
        assert_eq!(objects(B, [Some("")]), vec![format!("{B}/*")]);
    }

    #[test]
    fn prefixes_become_sorted_distinct_patterns() {
        assert_eq!(
            objects(B, [Some("logs/"), Some("a/"), Some("logs/")]),
            vec![format!("{B}/a/*"), format!("{B}/logs/*")]
        );
    }

    #[test]
    fn wildcards_in_a_prefix_match_only_themselves() {
        assert_eq!(escape("a*b?c$d"), "a${*}b${?}c${$}d");
        assert_eq!(objects(B, [Some("x*")]), vec![format!("{B}/x${{*}}*")]);
    }
}
