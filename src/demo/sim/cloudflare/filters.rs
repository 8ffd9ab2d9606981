//! The audit-log filters (`actor_email=…`, `actor_email.not=…`, v1's
//! `actor.email=…`) and the entry fields they compare.

use serde_json::Value;

use super::super::params::QueryParams;
use super::super::text_at;

/// v2 filter parameters and the entry field each one compares.
pub(super) const V2_FILTERS: [(&str, &str); 20] = [
    ("id", "id"),
    ("account_name", "account.name"),
    ("action_result", "action.result"),
    ("action_type", "action.type"),
    ("actor_context", "actor.context"),
    ("actor_email", "actor.email"),
    ("actor_id", "actor.id"),
    ("actor_ip_address", "actor.ip_address"),
    ("actor_token_id", "actor.token_id"),
    ("actor_token_name", "actor.token_name"),
    ("actor_type", "actor.type"),
    ("raw_cf_ray_id", "raw.cf_ray_id"),
    ("raw_method", "raw.method"),
    ("raw_status_code", "raw.status_code"),
    ("raw_uri", "raw.uri"),
    ("resource_id", "resource.id"),
    ("resource_product", "resource.product"),
    ("resource_type", "resource.type"),
    ("zone_id", "zone.id"),
    ("zone_name", "zone.name"),
];

/// v1 filter parameters and the entry field each one compares.
pub(super) const V1_FILTERS: [(&str, &str); 5] = [
    ("id", "id"),
    ("action.type", "action.type"),
    ("actor.ip", "actor.ip"),
    ("actor.email", "actor.email"),
    ("zone.name", "metadata.zone_name"),
];

/// Filterable field values of one entry, by filter parameter name.
pub(super) type Facets = Vec<(&'static str, String)>;

/// The values `filters` compare, read from one entry.
pub(super) fn facets(value: &Value, filters: &[(&'static str, &str)]) -> Facets {
    filters
        .iter()
        .filter_map(|(param, path)| text_at(value, path).map(|v| (*param, v)))
        .collect()
}

pub(super) fn filter_from(
    q: &QueryParams,
    filters: &[(&'static str, &str)],
) -> Vec<(&'static str, bool, Vec<String>)> {
    let mut out = Vec::new();
    for (param, _) in filters {
        for (negated, key) in [(false, (*param).to_owned()), (true, format!("{param}.not"))] {
            let values: Vec<String> = q.all(&key).iter().map(|v| v.to_lowercase()).collect();
            if !values.is_empty() {
                out.push((*param, negated, values));
            }
        }
    }
    out
}

pub(super) fn matches(facets: &Facets, filters: &[(&'static str, bool, Vec<String>)]) -> bool {
    filters.iter().all(|(param, negated, values)| {
        let field = facets
            .iter()
            .find(|(p, _)| p == param)
            .map(|(_, v)| v.to_lowercase());
        let hit = field.is_some_and(|f| values.contains(&f));
        hit != *negated
    })
}
