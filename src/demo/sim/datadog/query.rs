//! The part of Datadog's search syntax the simulator understands:
//! `*`, `@field:value` (quoted or bare, `*` wildcards), `-@field:value`,
//! free text matched in the message, and implicit or explicit `AND`.

/// The `@field` names a query may use, as paths under `attributes.attributes`.
pub(super) const FIELDS: [&str; 16] = [
    "usr.email",
    "usr.id",
    "usr.uuid",
    "usr.name",
    "evt.name",
    "evt.actor.type",
    "asset.type",
    "asset.id",
    "asset.name",
    "action",
    "network.client.ip",
    "http.method",
    "http.status_code",
    "auth_method",
    "status",
    "org.uuid",
];

/// Searchable values of one event: `FIELDS` (lower-cased) plus the message.
#[derive(Debug, Clone)]
pub(super) struct Facets {
    pub(super) fields: Vec<(&'static str, String)>,
    pub(super) message: String,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Term {
    Field {
        path: &'static str,
        pattern: String,
        negated: bool,
    },
    Text {
        pattern: String,
        negated: bool,
    },
}

/// Splits on whitespace outside double quotes; quotes are kept.
fn tokens(query: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    let mut chars = query.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' if quoted => {
                current.push(c);
                if let Some(next) = chars.next() {
                    current.push(next);
                }
            }
            '"' => {
                quoted = !quoted;
                current.push(c);
            }
            c if c.is_whitespace() && !quoted => {
                if !current.is_empty() {
                    out.push(std::mem::take(&mut current));
                }
            }
            c => current.push(c),
        }
    }
    if quoted {
        return Err("filter[query]: unterminated quote".into());
    }
    if !current.is_empty() {
        out.push(current);
    }
    Ok(out)
}

fn unquote(value: &str) -> String {
    match value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
        Some(inner) => {
            let mut out = String::new();
            let mut chars = inner.chars();
            while let Some(c) = chars.next() {
                if c == '\\' {
                    if let Some(next) = chars.next() {
                        out.push(next);
                    }
                } else {
                    out.push(c);
                }
            }
            out
        }
        None => value.to_owned(),
    }
}

pub(super) fn parse_query(query: &str) -> Result<Vec<Term>, String> {
    let mut terms = Vec::new();
    for token in tokens(query)? {
        if token == "*" || token == "AND" {
            continue;
        }
        if token == "OR" || token.starts_with('(') || token.ends_with(')') {
            return Err(format!(
                "filter[query]: this simulator supports only AND of terms, not {token:?}"
            ));
        }
        let (negated, body) = match token.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, token.as_str()),
        };
        if let Some(field) = body.strip_prefix('@') {
            let Some((name, value)) = field.split_once(':') else {
                return Err(format!(
                    "filter[query]: {token:?} has no value after the field"
                ));
            };
            let Some(path) = FIELDS.iter().find(|f| **f == name) else {
                return Err(format!(
                    "filter[query]: this simulator can search @{} only, not @{name}",
                    FIELDS.join(", @")
                ));
            };
            terms.push(Term::Field {
                path,
                pattern: unquote(value).to_lowercase(),
                negated,
            });
        } else {
            terms.push(Term::Text {
                pattern: unquote(body).to_lowercase(),
                negated,
            });
        }
    }
    Ok(terms)
}

/// `*` matches any run of characters.
fn wildcard(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let mut rest = text;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            match rest.strip_prefix(part) {
                Some(r) => rest = r,
                None => return false,
            }
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            match rest.find(part) {
                Some(at) => rest = &rest[at + part.len()..],
                None => return false,
            }
        }
    }
    true
}

pub(super) fn matches(facets: &Facets, terms: &[Term]) -> bool {
    terms.iter().all(|term| match term {
        Term::Field {
            path,
            pattern,
            negated,
        } => {
            let hit = facets
                .fields
                .iter()
                .any(|(p, v)| p == path && wildcard(pattern, v));
            hit != *negated
        }
        Term::Text { pattern, negated } => {
            let needle = pattern.trim_matches('*');
            facets.message.contains(needle) != *negated
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_parse_fields_text_and_negation() {
        let terms = parse_query(r#"@usr.email:"a b@x.com" -@action:deleted deploy AND *"#).unwrap();
        assert_eq!(terms.len(), 3);
        assert_eq!(
            terms[0],
            Term::Field {
                path: "usr.email",
                pattern: "a b@x.com".into(),
                negated: false
            }
        );
        assert!(matches!(terms[1], Term::Field { negated: true, .. }));
        assert!(parse_query("@usr.email:a OR @usr.email:b").is_err());
        assert!(parse_query("@nope:x").is_err());
        assert!(parse_query("@usr.email:\"open").is_err());
    }

    #[test]
    fn wildcards_match_prefix_suffix_and_middle() {
        assert!(wildcard("mallory*", "mallory.ops@x.com"));
        assert!(wildcard("*@x.com", "mallory.ops@x.com"));
        assert!(wildcard("m*ops*com", "mallory.ops@x.com"));
        assert!(!wildcard("*@y.com", "mallory.ops@x.com"));
        assert!(wildcard("exact", "exact"));
        assert!(!wildcard("exact", "exactly"));
    }
}
