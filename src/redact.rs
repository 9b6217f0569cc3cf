//! One place for what must never reach a log or an answer: the query string of a URL (a
//! pre-signed URL's signature, credentials, tokens).

/// Removes anything that looks like a query string (pre-signed signatures, tokens) from text
/// that may be logged or sent back to CloudFormation.
pub fn redact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text.split_inclusive(char::is_whitespace) {
        match word.find('?') {
            Some(i) if word.contains("://") || word.contains("X-Amz-") => {
                out.push_str(&word[..i]);
                out.push_str("?<redacted>");
                if word.ends_with(char::is_whitespace) {
                    out.push(' ');
                }
            }
            _ => out.push_str(word),
        }
    }
    out
}

/// The URL as it may be logged: scheme, host and path only.
pub fn loggable(url: &str) -> String {
    match url.split_once('?') {
        Some((base, _)) => format!("{base}?<redacted>"),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_query_strings() {
        let s = redact("PUT http://127.0.0.1:1/x?X-Amz-Signature=abc failed");
        assert!(!s.contains("abc"), "{s}");
        assert!(s.contains("http://127.0.0.1:1/x?<redacted>"));
    }

    #[test]
    fn signature_never_appears_in_loggable_url() {
        let u = loggable("https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/arn%3A?AWSAccessKeyId=AKIA&Signature=secret");
        assert!(!u.contains("secret") && !u.contains("AKIA"), "{u}");
    }
}
