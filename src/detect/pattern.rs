//! Wildcard patterns used throughout the rules (`*@example.com`, `burst.*`).
//!
//! `*` matches any run of characters (including none); everything else is
//! literal. Matching ignores ASCII case, because the vocabularies matched
//! (emails, Datadog `evt.name`, Cloudflare action types) are not consistently
//! cased across sources and API versions.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A validated wildcard pattern.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Pattern {
    text: String,
    /// Lower-cased once at load so matching does not allocate per pattern.
    folded: Vec<char>,
}

impl Pattern {
    pub fn new(text: &str) -> Result<Pattern, String> {
        if text.trim().is_empty() {
            return Err("pattern is empty (use \"*\" to match anything)".into());
        }
        if let Some(c) = text.chars().find(|c| c.is_control()) {
            return Err(format!(
                "pattern {text:?} contains the control character U+{:04X}",
                c as u32
            ));
        }
        Ok(Pattern {
            text: text.to_string(),
            folded: text.chars().map(|c| c.to_ascii_lowercase()).collect(),
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether the whole of `candidate` matches (not a substring search).
    pub fn matches(&self, candidate: &str) -> bool {
        let cand: Vec<char> = candidate.chars().map(|c| c.to_ascii_lowercase()).collect();
        wildcard_match(&self.folded, &cand)
    }

    /// Whether this pattern is the catch-all `*`.
    pub fn is_any(&self) -> bool {
        self.folded.iter().all(|&c| c == '*')
    }
}

/// True when any pattern in `patterns` matches `candidate`.
pub fn any_matches(patterns: &[Pattern], candidate: &str) -> bool {
    patterns.iter().any(|p| p.matches(candidate))
}

/// Iterative glob matching with single-star backtracking: linear in practice,
/// O(pattern x candidate) at worst, and no recursion an attacker-chosen
/// candidate could deepen.
fn wildcard_match(pattern: &[char], cand: &[char]) -> bool {
    let (mut p, mut c) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while c < cand.len() {
        match pattern.get(p) {
            Some('*') => {
                star = Some((p, c));
                p += 1;
            }
            Some(&pc) if pc == cand[c] => {
                p += 1;
                c += 1;
            }
            _ => match star {
                Some((sp, sc)) => {
                    p = sp + 1;
                    c = sc + 1;
                    star = Some((sp, sc + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&pc| pc == '*')
}

impl TryFrom<String> for Pattern {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Pattern::new(&s)
    }
}

impl From<Pattern> for String {
    fn from(p: Pattern) -> String {
        p.text
    }
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Pattern {
        Pattern::new(s).unwrap()
    }

    #[test]
    fn literal_patterns_match_whole_string_ignoring_ascii_case() {
        assert!(p("Access Management").matches("access management"));
        assert!(!p("role").matches("role_request"));
        assert!(!p("role").matches("ro"));
    }

    #[test]
    fn stars_match_any_run() {
        assert!(p("*@example.com").matches("Alice@Example.com"));
        assert!(!p("*@example.com").matches("alice@example.com.evil"));
        assert!(p("burst.*").matches("burst.role_grant"));
        assert!(p("burst.*").matches("burst."));
        assert!(p("a*b*c").matches("axxbyyc"));
        assert!(!p("a*b*c").matches("axxbyy"));
        assert!(p("*").matches(""));
        assert!(p("**").is_any());
        assert!(!p("a*").is_any());
    }

    #[test]
    fn empty_and_control_patterns_are_rejected() {
        assert!(Pattern::new("").is_err());
        assert!(Pattern::new("  ").is_err());
        assert!(Pattern::new("a\u{1b}b").is_err());
    }
}
