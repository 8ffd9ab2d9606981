//! Writes Datadog Audit Trail events: elements of `data[]` from
//! `GET /api/v2/audit/events`, shaped like the recorded cassettes
//! (`attributes.attributes.{evt, usr, action, http, network, org, auth_method,
//! status}`) and the documented asset events (`asset.type` monitor, role,
//! api_key, ...).

use chrono::DateTime;

use super::catalog::{DdSpelling, REQUEST_PATHS, ROLES, SERVICES, Verb};
use super::ids::{Obj, hex_n, rfc3339_millis};
use super::personas::{ActorProfile, Persona};
use super::{Draft, RenderCtx};

/// The asset an event is about: `(id, name)`.
fn asset(
    ctx: &RenderCtx<'_>,
    actor: &ActorProfile,
    d: &Draft,
    rng: &mut fastrand::Rng,
) -> (String, String) {
    let w = ctx.world;
    use Verb::*;
    match d.verb {
        MonitorCreate | MonitorModify | MonitorDelete => {
            // Each actor mostly looks after a handful of neighbouring monitors.
            let index = (actor.home_monitors.wrapping_add(rng.u32(0..12))) % w.monitors;
            (w.monitor_id(index).to_string(), w.monitor_name(index))
        }
        DashboardCreate | DashboardModify | DashboardDelete => {
            let index = (actor.home_dashboards.wrapping_add(rng.u32(0..6))) % w.dashboards;
            (w.dashboard_id(index), w.dashboard_name(index))
        }
        RoleModify | RoleGrant => {
            let i = rng.usize(0..ROLES.len());
            (w.role_ids[i].clone(), ROLES[i].to_string())
        }
        UserInvite => (
            w.resource_hex(7, d.key, 0)[..24].to_string(),
            format!("new.hire{}@example.com", rng.u32(1..999)),
        ),
        ApiKeyCreate | AppKeyCreate => (
            w.resource_hex(8, d.key, 0),
            format!(
                "{}-key-{}",
                SERVICES[rng.usize(0..SERVICES.len())],
                rng.u32(1..99)
            ),
        ),
        LogsPipelineModify => (
            hex_n(rng, 22),
            format!("{} logs", SERVICES[rng.usize(0..SERVICES.len())]),
        ),
        SyntheticsTestModify => {
            let public_id = format!("{}-{}-{}", hex_n(rng, 3), hex_n(rng, 3), hex_n(rng, 3));
            let name = format!("Browser check {}", SERVICES[rng.usize(0..SERVICES.len())]);
            (public_id, name)
        }
        _ => (String::new(), String::new()),
    }
}

fn message(
    actor: &ActorProfile,
    d: &Draft,
    spelling: &DdSpelling,
    asset_name: &str,
    path: &str,
    status: u16,
    rng: &mut fastrand::Rng,
) -> String {
    let who = &actor.email;
    use Verb::*;
    match d.verb {
        DatadogRequest => {
            let method = if path.contains("query") || path.contains("aggregate") {
                "POST"
            } else {
                "GET"
            };
            format!("{method} request made to {path} by {who} with response {status}")
        }
        DatadogLogin => format!("{who} logged in to the Datadog app"),
        RoleGrant => format!(
            "{who} added user {} to role {asset_name}",
            format_args!("teammate{}@example.com", rng.u32(1..500))
        ),
        RoleModify => format!("{who} modified role {asset_name} (permissions changed)"),
        UserInvite => format!("{who} invited user {asset_name}"),
        ApiKeyCreate => format!("{who} created API key {asset_name}"),
        AppKeyCreate => format!("{who} created application key {asset_name}"),
        // The recorded agent event's text, typo included.
        AgentConfigUpdate => "Agent configuration successfuly updated".to_string(),
        _ => {
            let kind = spelling.asset_type.unwrap_or("asset").replace('_', " ");
            format!("{who} {} {kind} {asset_name}", spelling.action)
        }
    }
}

pub(crate) fn render(ctx: &RenderCtx<'_>, actor: &ActorProfile, d: &Draft, id: &str) -> String {
    let mut rng = fastrand::Rng::with_seed(d.detail);
    let spelling = d.verb.datadog().unwrap_or(DdSpelling {
        evt_name: Some("Request"),
        action: "accessed",
        asset_type: None,
    });
    let (asset_id, asset_name) = asset(ctx, actor, d, &mut rng);
    let failed = d.anomaly.is_none() && rng.u32(0..100) < 2;
    let status: u16 = if failed { 403 } else { 200 };
    let (method, path) = request_line(d, &spelling, &asset_id, &mut rng);
    let msg = message(actor, d, &spelling, &asset_name, &path, status, &mut rng);
    let ip = ctx.ip_for(actor, d, &mut rng);
    let time = rfc3339_millis(DateTime::from_timestamp_millis(d.time_ms).unwrap_or_default());
    let automated = matches!(actor.persona, Persona::CiJob | Persona::Integration);
    let mut out = String::with_capacity(1024);
    let mut o = Obj::open(&mut out);
    o.str("id", id).str("type", "audit").obj("attributes", |a| {
        a.str("timestamp", &time)
            .str("service", "datadog")
            .str("message", &msg)
            .str_array("tags", &["source:audit"])
            .obj("attributes", |x| {
                x.obj("evt", |e| {
                    e.opt_str("name", spelling.evt_name).obj("actor", |ac| {
                        let kind = if actor.persona == Persona::Integration {
                            "Other"
                        } else {
                            "USER"
                        };
                        ac.str("type", kind);
                    });
                })
                .str("action", spelling.action);
                if let Some(asset_type) = spelling.asset_type {
                    x.obj("asset", |s| {
                        s.str("type", asset_type)
                            .str("id", &asset_id)
                            .str("name", &asset_name);
                    });
                }
                x.obj("usr", |u| {
                    u.str("email", &actor.email)
                        .str("id", &actor.email)
                        .str("uuid", &actor.datadog_user_uuid);
                });
                if d.verb == Verb::AgentConfigUpdate {
                    let host = format!("agent_hostname:i-0{}", hex_n(&mut rng, 16));
                    x.str_array(
                        "tags",
                        &[&host, "agent_version:7.58.2", "root_config_version:4"],
                    );
                } else {
                    x.obj("http", |h| {
                        h.str("status_code", &status.to_string())
                            .obj("url_details", |u| {
                                u.str("path", &path).str("host", "us1.prod.dog");
                            })
                            .str("method", method)
                            .str("useragent", actor.datadog_user_agent);
                    });
                }
                x.obj("network", |n| {
                    n.obj("client", |c| {
                        c.str("ip", ip);
                    });
                    if d.verb == Verb::DatadogRequest {
                        n.num("bytes_read", i64::from(rng.u32(0..2_000)))
                            .num("bytes_written", i64::from(rng.u32(100..200_000)));
                    }
                })
                .obj("org", |g| {
                    g.str("uuid", &ctx.world.dd_org_uuid);
                })
                .str(
                    "auth_method",
                    if automated {
                        "API + App Key"
                    } else {
                        "SESSION"
                    },
                )
                .str("status", if failed { "warn" } else { "info" });
            });
    });
    o.close();
    out
}

/// The HTTP request behind the event (`http.method`, `url_details.path`).
fn request_line(
    d: &Draft,
    spelling: &DdSpelling,
    asset_id: &str,
    rng: &mut fastrand::Rng,
) -> (&'static str, String) {
    use Verb::*;
    let method = match spelling.action {
        "created" => "POST",
        "modified" => "PUT",
        "deleted" => "DELETE",
        _ => "GET",
    };
    let path = match d.verb {
        DatadogRequest => {
            let (m, p) = REQUEST_PATHS[rng.usize(0..REQUEST_PATHS.len())];
            let path = if p.ends_with('/') {
                format!("{p}{}", rng.u32(1000..99_999))
            } else {
                p.to_string()
            };
            return (m, path);
        }
        DatadogLogin => return ("POST", "/account/login".to_string()),
        MonitorCreate => "/api/v1/monitor".to_string(),
        MonitorModify | MonitorDelete => format!("/api/v1/monitor/{asset_id}"),
        DashboardCreate => "/api/v1/dashboard".to_string(),
        DashboardModify | DashboardDelete => format!("/api/v1/dashboard/{asset_id}"),
        RoleModify => format!("/api/v2/roles/{asset_id}"),
        RoleGrant => return ("POST", format!("/api/v2/roles/{asset_id}/users")),
        UserInvite => "/api/v2/user_invitations".to_string(),
        ApiKeyCreate => "/api/v2/api_keys".to_string(),
        AppKeyCreate => "/api/v2/current_user/application_keys".to_string(),
        LogsPipelineModify => format!("/api/v1/logs/config/pipelines/{asset_id}"),
        SyntheticsTestModify => format!("/api/v1/synthetics/tests/browser/{asset_id}"),
        _ => "/api/v2/agent/config".to_string(),
    };
    (method, path)
}
