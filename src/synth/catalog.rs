//! The vocabulary: what actors do, and how each service spells it.
//!
//! Cloudflare verbs carry both spellings (v2 `action.type` + product, v1
//! `action.type` such as `rec_add` / `token_create`) so one Cloudflare action
//! can be written in either log shape. Datadog verbs follow the Audit Trail
//! event catalogue (`@evt.name`, `@action`, `@asset.type`).

/// Which service an action belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Family {
    Cloudflare,
    Datadog,
}

/// Everything a synthetic actor can do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Verb {
    DnsRecordCreate,
    DnsRecordUpdate,
    DnsRecordDelete,
    WafRuleCreate,
    WafRuleUpdate,
    MemberAdd,
    MemberRemove,
    ApiTokenCreate,
    ApiTokenRoll,
    ApiTokenRevoke,
    WorkerDeploy,
    ZoneSettingUpdate,
    CachePurge,
    LoadBalancerPoolUpdate,
    DatadogLogin,
    DatadogRequest,
    MonitorCreate,
    MonitorModify,
    MonitorDelete,
    DashboardCreate,
    DashboardModify,
    DashboardDelete,
    RoleModify,
    RoleGrant,
    UserInvite,
    ApiKeyCreate,
    AppKeyCreate,
    LogsPipelineModify,
    SyntheticsTestModify,
    AgentConfigUpdate,
}

/// How Cloudflare spells a verb.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CfSpelling {
    /// v2 `action.type` (create | update | delete | view).
    pub v2_type: &'static str,
    pub description: &'static str,
    pub product: &'static str,
    pub resource_type: &'static str,
    pub method: &'static str,
    /// v1 `action.type`.
    pub v1_type: &'static str,
    /// v1 `resource.type`.
    pub v1_resource_type: &'static str,
    /// Whether the resource lives in a zone (uri and `zone` object).
    pub zoned: bool,
}

/// How Datadog spells a verb.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DdSpelling {
    pub evt_name: Option<&'static str>,
    pub action: &'static str,
    pub asset_type: Option<&'static str>,
}

impl Verb {
    pub const ALL: [Verb; 30] = [
        Verb::DnsRecordCreate,
        Verb::DnsRecordUpdate,
        Verb::DnsRecordDelete,
        Verb::WafRuleCreate,
        Verb::WafRuleUpdate,
        Verb::MemberAdd,
        Verb::MemberRemove,
        Verb::ApiTokenCreate,
        Verb::ApiTokenRoll,
        Verb::ApiTokenRevoke,
        Verb::WorkerDeploy,
        Verb::ZoneSettingUpdate,
        Verb::CachePurge,
        Verb::LoadBalancerPoolUpdate,
        Verb::DatadogLogin,
        Verb::DatadogRequest,
        Verb::MonitorCreate,
        Verb::MonitorModify,
        Verb::MonitorDelete,
        Verb::DashboardCreate,
        Verb::DashboardModify,
        Verb::DashboardDelete,
        Verb::RoleModify,
        Verb::RoleGrant,
        Verb::UserInvite,
        Verb::ApiKeyCreate,
        Verb::AppKeyCreate,
        Verb::LogsPipelineModify,
        Verb::SyntheticsTestModify,
        Verb::AgentConfigUpdate,
    ];

    pub fn family(self) -> Family {
        if self.cloudflare().is_some() {
            Family::Cloudflare
        } else {
            Family::Datadog
        }
    }

    /// The resource type this verb touches, as the source names it (v2
    /// `resource.type` or Datadog `asset.type`); `None` for verbs on no asset.
    /// "Never touched this type before" checks compare these.
    pub fn resource_type(self) -> Option<&'static str> {
        match (self.cloudflare(), self.datadog()) {
            (Some(cf), _) => Some(cf.resource_type),
            (None, Some(dd)) => dd.asset_type,
            (None, None) => None,
        }
    }

    pub(crate) fn cloudflare(self) -> Option<CfSpelling> {
        let s = |v2_type, description, product, resource_type, method, v1_type, v1_rt, zoned| {
            Some(CfSpelling {
                v2_type,
                description,
                product,
                resource_type,
                method,
                v1_type,
                v1_resource_type: v1_rt,
                zoned,
            })
        };
        use Verb::*;
        match self {
            DnsRecordCreate => s(
                "create",
                "Create DNS record",
                "dns_records",
                "dns.record",
                "POST",
                "rec_add",
                "DNS_record",
                true,
            ),
            DnsRecordUpdate => s(
                "update",
                "Update DNS record",
                "dns_records",
                "dns.record",
                "PATCH",
                "rec_set",
                "DNS_record",
                true,
            ),
            DnsRecordDelete => s(
                "delete",
                "Delete DNS record",
                "dns_records",
                "dns.record",
                "DELETE",
                "rec_del",
                "DNS_record",
                true,
            ),
            WafRuleCreate => s(
                "create",
                "Create WAF custom rule",
                "waf",
                "ruleset.rule",
                "POST",
                "create",
                "firewall_rule",
                true,
            ),
            WafRuleUpdate => s(
                "update",
                "Update WAF custom rule",
                "waf",
                "ruleset.rule",
                "PATCH",
                "update",
                "firewall_rule",
                true,
            ),
            MemberAdd => s(
                "create",
                "Add Member",
                "members",
                "account.member",
                "POST",
                "add",
                "member",
                false,
            ),
            MemberRemove => s(
                "delete",
                "Remove Member",
                "members",
                "account.member",
                "DELETE",
                "delete",
                "member",
                false,
            ),
            ApiTokenCreate => s(
                "create",
                "Create API token",
                "api_tokens",
                "account.token",
                "POST",
                "token_create",
                "account",
                false,
            ),
            ApiTokenRoll => s(
                "update",
                "Roll API token",
                "api_tokens",
                "account.token",
                "PUT",
                "token_roll",
                "account",
                false,
            ),
            ApiTokenRevoke => s(
                "delete",
                "Revoke API token",
                "api_tokens",
                "account.token",
                "DELETE",
                "token_revoke",
                "account",
                false,
            ),
            WorkerDeploy => s(
                "update",
                "Upload Worker script",
                "workers",
                "workers.script",
                "PUT",
                "update",
                "script",
                false,
            ),
            ZoneSettingUpdate => s(
                "update",
                "Change zone setting",
                "zone_settings",
                "zone.setting",
                "PATCH",
                "update",
                "zone",
                true,
            ),
            CachePurge => s(
                "create",
                "Purge cache",
                "cache",
                "cache.purge",
                "POST",
                "purge",
                "zone",
                true,
            ),
            LoadBalancerPoolUpdate => s(
                "update",
                "Update load balancer pool",
                "load_balancers",
                "load_balancer.pool",
                "PATCH",
                "update",
                "load_balancer_pool",
                false,
            ),
            _ => None,
        }
    }

    pub(crate) fn datadog(self) -> Option<DdSpelling> {
        let s = |evt_name, action, asset_type| {
            Some(DdSpelling {
                evt_name,
                action,
                asset_type,
            })
        };
        use Verb::*;
        match self {
            DatadogLogin => s(Some("Authentication"), "login", None),
            DatadogRequest => s(Some("Request"), "accessed", None),
            MonitorCreate => s(Some("Monitor"), "created", Some("monitor")),
            MonitorModify => s(Some("Monitor"), "modified", Some("monitor")),
            MonitorDelete => s(Some("Monitor"), "deleted", Some("monitor")),
            DashboardCreate => s(Some("Dashboard"), "created", Some("dashboard")),
            DashboardModify => s(Some("Dashboard"), "modified", Some("dashboard")),
            DashboardDelete => s(Some("Dashboard"), "deleted", Some("dashboard")),
            RoleModify | RoleGrant => s(Some("Access Management"), "modified", Some("role")),
            UserInvite => s(Some("Access Management"), "created", Some("user")),
            ApiKeyCreate => s(Some("Authentication"), "created", Some("api_key")),
            AppKeyCreate => s(Some("Authentication"), "created", Some("application_key")),
            LogsPipelineModify => s(Some("Log Management"), "modified", Some("logs_pipeline")),
            SyntheticsTestModify => s(
                Some("Synthetics Monitoring"),
                "modified",
                Some("synthetics_test"),
            ),
            // Shaped like the recorded agent event: no evt.name, no asset.
            AgentConfigUpdate => s(None, "update_config", None),
            _ => None,
        }
    }
}

/// Names used to make resources look lived-in. Plain ASCII without quotes.
pub(crate) const SUBDOMAINS: [&str; 16] = [
    "www", "api", "shop", "mail", "status", "cdn", "auth", "admin", "blog", "docs", "app",
    "staging", "grafana", "vpn", "assets", "pay",
];

pub(crate) const ZONE_WORDS: [&str; 20] = [
    "acme",
    "northwind",
    "contoso",
    "globex",
    "initech",
    "umbrella",
    "hooli",
    "stark",
    "wayne",
    "tyrell",
    "soylent",
    "vandelay",
    "wonka",
    "oceanic",
    "cyberdyne",
    "aperture",
    "monarch",
    "gringotts",
    "nakatomi",
    "duff",
];

pub(crate) const TLDS: [&str; 5] = ["com", "io", "net", "dev", "co.uk"];

pub(crate) const SERVICES: [&str; 16] = [
    "checkout",
    "payments",
    "search",
    "auth",
    "cart",
    "catalog",
    "inventory",
    "shipping",
    "notifications",
    "gateway",
    "billing",
    "reports",
    "ingest",
    "profile",
    "media",
    "ledger",
];

pub(crate) const MONITOR_KINDS: [&str; 8] = [
    "High 5xx rate on",
    "p99 latency above SLO for",
    "Error budget burn for",
    "Disk usage high on",
    "Pod restarts in",
    "Queue depth growing in",
    "CPU saturation on",
    "No traffic to",
];

pub(crate) const DASHBOARD_KINDS: [&str; 5] = [
    "Overview",
    "SLOs",
    "On-call triage",
    "Capacity",
    "Release health",
];

pub(crate) const ROLES: [&str; 5] = [
    "Datadog Admin Role",
    "Datadog Standard Role",
    "Datadog Read Only Role",
    "SRE On-call",
    "Billing Viewer",
];

pub(crate) const ZONE_SETTINGS: [&str; 8] = [
    "ssl",
    "min_tls_version",
    "always_use_https",
    "security_level",
    "cache_level",
    "browser_cache_ttl",
    "http3",
    "waf",
];

/// Permission groups a narrow (everyday) token gets.
pub(crate) const NARROW_PERMISSIONS: [&str; 4] =
    ["DNS Read", "DNS Write", "Zone Read", "Cache Purge"];

/// Permission groups of a token that can do almost anything.
pub(crate) const BROAD_PERMISSIONS: [&str; 6] = [
    "Zone Write",
    "DNS Write",
    "Firewall Services Write",
    "Workers Scripts Write",
    "Account Settings Write",
    "API Tokens Write",
];

/// Datadog API paths a person browsing the UI hits.
pub(crate) const REQUEST_PATHS: [(&str, &str); 8] = [
    ("GET", "/api/v1/dashboard/"),
    ("GET", "/api/v1/monitor/"),
    ("POST", "/api/v2/query/timeseries"),
    ("GET", "/api/v2/logs/events"),
    ("POST", "/api/v2/logs/analytics/aggregate"),
    ("GET", "/api/v1/slo"),
    ("GET", "/api/v2/incidents"),
    ("GET", "/api/v1/synthetics/tests"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_verb_has_exactly_one_spelling() {
        for v in Verb::ALL {
            assert!(
                v.cloudflare().is_some() != v.datadog().is_some(),
                "{v:?} must belong to one family"
            );
        }
    }
}
