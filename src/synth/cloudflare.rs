//! Writes Cloudflare audit log entries: v2 (`/logs/audit`, shaped like the
//! API reference example and the `aaaAuditLogsV2` schema) and v1
//! (`/audit_logs`, shaped like the entries Elastic's integration tests replay,
//! including `token_create` with `metadata.token_name` / `token_tag`).

use chrono::DateTime;

use super::catalog::{
    BROAD_PERMISSIONS, CfSpelling, NARROW_PERMISSIONS, SERVICES, SUBDOMAINS, Verb, ZONE_SETTINGS,
};
use super::ids::{Obj, hex_n, hex32, rfc3339_secs, unique128};
use super::personas::{ActorProfile, Persona};
use super::{Draft, RenderCtx};

/// The resource an entry is about, resolved once for both shapes.
struct Target {
    id: String,
    zone: Option<usize>,
    /// Extra path after the collection (`/dns_records/<id>`).
    uri: String,
}

fn target(
    ctx: &RenderCtx<'_>,
    spelling: &CfSpelling,
    actor: &ActorProfile,
    d: &Draft,
    rng: &mut fastrand::Rng,
) -> Target {
    let w = ctx.world;
    let zone = actor.home_zones[rng.usize(0..actor.home_zones.len())] as usize % w.zones.len();
    let zid = &w.zones[zone].id;
    let acc = &w.cf_account_id;
    let fresh = || hex32(unique128(ctx.seed ^ 0xf4e54, d.key));
    use Verb::*;
    let (id, uri) = match d.verb {
        DnsRecordCreate => {
            let id = fresh();
            (id, format!("/zones/{zid}/dns_records"))
        }
        DnsRecordUpdate | DnsRecordDelete => {
            let id = w.resource_hex(1, zone as u64, rng.u64(0..SUBDOMAINS.len() as u64));
            let uri = format!("/zones/{zid}/dns_records/{id}");
            (id, uri)
        }
        WafRuleCreate | WafRuleUpdate => {
            let ruleset = w.resource_hex(2, zone as u64, 0);
            let id = if d.verb == WafRuleCreate {
                fresh()
            } else {
                w.resource_hex(3, zone as u64, rng.u64(0..6))
            };
            let uri = format!("/zones/{zid}/rulesets/{ruleset}/rules/{id}");
            (id, uri)
        }
        MemberAdd => (fresh(), format!("/accounts/{acc}/members")),
        MemberRemove => {
            let id = w.resource_hex(4, rng.u64(0..500), 0);
            let uri = format!("/accounts/{acc}/members/{id}");
            (id, uri)
        }
        ApiTokenCreate => (fresh(), format!("/accounts/{acc}/tokens")),
        ApiTokenRoll | ApiTokenRevoke => {
            let id = w.resource_hex(5, u64::from(actor.index), rng.u64(0..4));
            let suffix = if d.verb == ApiTokenRoll { "/value" } else { "" };
            let uri = format!("/accounts/{acc}/tokens/{id}{suffix}");
            (id, uri)
        }
        WorkerDeploy => {
            let id = format!("{}-worker", SERVICES[rng.usize(0..SERVICES.len())]);
            let uri = format!("/accounts/{acc}/workers/scripts/{id}");
            (id, uri)
        }
        ZoneSettingUpdate => {
            let id = ZONE_SETTINGS[rng.usize(0..ZONE_SETTINGS.len())].to_string();
            let uri = format!("/zones/{zid}/settings/{id}");
            (id, uri)
        }
        CachePurge => (zid.clone(), format!("/zones/{zid}/purge_cache")),
        _ => {
            // LoadBalancerPoolUpdate (Datadog verbs never reach this renderer).
            let id = w.resource_hex(6, u64::from(actor.index), 0);
            let uri = format!("/accounts/{acc}/load_balancers/pools/{id}");
            (id, uri)
        }
    };
    Target {
        id,
        zone: spelling.zoned.then_some(zone),
        uri,
    }
}

/// The request body the API call carried (v2 `resource.request`).
fn request_body(
    ctx: &RenderCtx<'_>,
    d: &Draft,
    t: &Target,
    broad_token: Option<&str>,
    rng: &mut fastrand::Rng,
    out: &mut String,
) {
    let w = ctx.world;
    let zone_name = t.zone.map_or("example.com", |z| w.zones[z].name.as_str());
    let mut o = Obj::open(out);
    use Verb::*;
    match d.verb {
        DnsRecordCreate | DnsRecordUpdate => {
            let sub = SUBDOMAINS[rng.usize(0..SUBDOMAINS.len())];
            let name = format!("{sub}.{zone_name}");
            let content = format!("203.0.113.{}", rng.u8(1..=254));
            o.str("type", "A")
                .str("name", &name)
                .str("content", &content)
                .num("ttl", if rng.bool() { 1 } else { 300 })
                .bool("proxied", rng.u8(0..4) > 0);
        }
        WafRuleCreate | WafRuleUpdate => {
            let action = ["block", "managed_challenge", "log", "skip"][rng.usize(0..4)];
            let expression = format!(
                "(http.request.uri.path contains \"/{}\" and ip.geoip.asnum in {{{} {}}})",
                SERVICES[rng.usize(0..SERVICES.len())],
                rng.u32(1000..65000),
                rng.u32(1000..65000)
            );
            o.str("action", action)
                .str("expression", &expression)
                .str("description", "Block abusive clients")
                .bool("enabled", true);
        }
        MemberAdd => {
            let invitee = format!("new.hire{}@example.com", rng.u32(1..999));
            o.str("email", &invitee)
                .str_array("roles", &["Administrator Read Only"])
                .str("status", "pending");
        }
        ApiTokenCreate => {
            let acc = &w.cf_account_id;
            let (name, perms, resource) = match broad_token {
                Some(name) => (
                    name.to_string(),
                    &BROAD_PERMISSIONS[..],
                    format!("com.cloudflare.api.account.{acc}"),
                ),
                None => {
                    let zid = t.zone.map_or(&w.zones[0].id, |z| &w.zones[z].id);
                    (
                        format!("read-dns-{}", rng.u32(1..999)),
                        &NARROW_PERMISSIONS[..2],
                        format!("com.cloudflare.api.account.zone.{zid}"),
                    )
                }
            };
            o.str("name", &name).raw("policies", |out| {
                out.push('[');
                let mut p = Obj::open(out);
                p.str("effect", "allow")
                    .raw("permission_groups", |out| {
                        out.push('[');
                        for (i, perm) in perms.iter().enumerate() {
                            if i > 0 {
                                out.push(',');
                            }
                            Obj::open(out).str("name", perm).close();
                        }
                        out.push(']');
                    })
                    .obj("resources", |r| {
                        r.str(&resource, "*");
                    });
                p.close();
                out.push(']');
            });
        }
        WorkerDeploy => {
            o.str("main_module", "index.js")
                .str("compatibility_date", "2024-11-01")
                .str("usage_model", "standard");
        }
        ZoneSettingUpdate => {
            o.str("value", ["on", "strict", "1.2", "medium"][rng.usize(0..4)]);
        }
        CachePurge => {
            let file = format!("https://www.{zone_name}/static/app.{}.js", hex_n(rng, 8));
            o.str_array("files", &[&file]);
        }
        LoadBalancerPoolUpdate => {
            o.raw("origins", |out| {
                out.push('[');
                for i in 0..2 {
                    if i > 0 {
                        out.push(',');
                    }
                    let address = format!("10.{}.{}.{}", rng.u8(0..255), rng.u8(0..255), i + 10);
                    Obj::open(out)
                        .str("name", &format!("origin-{i}"))
                        .str("address", &address)
                        .bool("enabled", rng.u8(0..10) > 0)
                        .num("weight", 1)
                        .close();
                }
                out.push(']');
            });
        }
        _ => {}
    }
    o.close();
}

fn outcome(actor: &ActorProfile, d: &Draft, rng: &mut fastrand::Rng) -> (bool, i64) {
    let failure_pct = match actor.persona {
        Persona::Admin | Persona::Engineer | Persona::Occasional => 2,
        Persona::CiJob | Persona::Integration => 1,
    };
    if d.anomaly.is_none() && rng.u32(0..100) < failure_pct {
        (false, [400, 403, 409][rng.usize(0..3)])
    } else {
        (true, 200)
    }
}

/// Whether this actor authenticates with an API token (else the dashboard).
fn token_of(actor: &ActorProfile) -> Option<(&str, &str)> {
    actor
        .token
        .as_ref()
        .map(|t| (t.id.as_str(), t.name.as_str()))
}

pub(crate) fn render_v2(ctx: &RenderCtx<'_>, actor: &ActorProfile, d: &Draft, id: &str) -> String {
    let mut rng = fastrand::Rng::with_seed(d.detail);
    let Some(spelling) = d.verb.cloudflare() else {
        return String::new();
    };
    let w = ctx.world;
    let t = target(ctx, &spelling, actor, d, &mut rng);
    let (ok, status) = outcome(actor, d, &mut rng);
    let ip = ctx.ip_for(actor, d, &mut rng);
    let broad = ctx.broad_token_name(d);
    let time = DateTime::from_timestamp_millis(d.time_ms).unwrap_or_default();
    let mut out = String::with_capacity(1024);
    let mut o = Obj::open(&mut out);
    o.str("id", id)
        .obj("account", |a| {
            a.str("id", &w.cf_account_id).str("name", w.cf_account_name);
        })
        .obj("action", |a| {
            a.str("description", spelling.description)
                .str("result", if ok { "success" } else { "failure" })
                .str("time", &rfc3339_secs(time))
                .str("type", spelling.v2_type);
        })
        .obj("actor", |a| {
            a.str("id", &actor.cloudflare_user_id);
            match token_of(actor) {
                Some((tid, tname)) => {
                    a.str("context", "api_token")
                        .str("email", &actor.email)
                        .str("ip_address", ip)
                        .str("token_id", tid)
                        .str("token_name", tname);
                }
                None => {
                    a.str("context", "dash")
                        .str("email", &actor.email)
                        .str("ip_address", ip);
                }
            }
            a.str("type", "user");
        })
        .obj("raw", |r| {
            r.str("cf_ray_id", &hex_n(&mut rng, 16))
                .str("method", spelling.method)
                .num("status_code", status)
                .str("uri", &t.uri)
                .str("user_agent", actor.user_agent);
        })
        .obj("resource", |r| {
            r.str("id", &t.id)
                .str("product", spelling.product)
                .raw("request", |out| {
                    request_body(ctx, d, &t, broad, &mut rng, out)
                })
                .raw("response", |out| {
                    let mut resp = Obj::open(out);
                    if ok && d.verb == Verb::ApiTokenCreate {
                        // The token value is a secret and is never logged; id and status are.
                        resp.str("id", &t.id).str("status", "active");
                    } else if ok && spelling.v2_type == "create" {
                        resp.str("id", &t.id);
                    }
                    resp.close();
                })
                .obj("scope", |_| {})
                .str("type", spelling.resource_type);
        });
    if let Some(z) = t.zone {
        o.obj("zone", |z_| {
            z_.str("id", &w.zones[z].id).str("name", &w.zones[z].name);
        });
    }
    o.close();
    out
}

pub(crate) fn render_v1(ctx: &RenderCtx<'_>, actor: &ActorProfile, d: &Draft, id: &str) -> String {
    let mut rng = fastrand::Rng::with_seed(d.detail);
    let Some(spelling) = d.verb.cloudflare() else {
        return String::new();
    };
    let w = ctx.world;
    let t = target(ctx, &spelling, actor, d, &mut rng);
    let (ok, _status) = outcome(actor, d, &mut rng);
    let ip = ctx.ip_for(actor, d, &mut rng);
    let broad = ctx.broad_token_name(d);
    let time = DateTime::from_timestamp_millis(d.time_ms).unwrap_or_default();
    let zone_name = t.zone.map(|z| w.zones[z].name.as_str());
    let token_verb = matches!(
        d.verb,
        Verb::ApiTokenCreate | Verb::ApiTokenRoll | Verb::ApiTokenRevoke
    );
    let mut out = String::with_capacity(800);
    let mut o = Obj::open(&mut out);
    o.obj("action", |a| {
        a.bool("result", ok).str("type", spelling.v1_type);
    })
    .obj("actor", |a| {
        a.str("email", &actor.email)
            .str("id", &actor.cloudflare_user_id)
            .str("ip", ip)
            .str("type", "user");
    })
    .str("id", id)
    .str(
        "interface",
        if actor.token.is_some() { "API" } else { "UI" },
    )
    .obj("metadata", |m| {
        if token_verb {
            let name = match (broad, d.verb) {
                (Some(name), _) => name.to_string(),
                (None, Verb::ApiTokenCreate) => format!("read-dns-{}", rng.u32(1..999)),
                (None, _) => format!("deploy-{}", rng.u32(1..99)),
            };
            m.str("token_name", &name).str("token_tag", &t.id);
            if d.verb == Verb::ApiTokenRoll {
                m.str("new_token_hash", &hex_n(&mut rng, 64))
                    .str("old_token_hash", &hex_n(&mut rng, 64));
            }
            if d.verb == Verb::ApiTokenRevoke {
                m.str("new_token_status", "deleted")
                    .str("old_token_status", "active");
            }
        } else if let Some(zn) = zone_name {
            m.str("zone_name", zn);
        }
    })
    .str("newValue", "");
    if !token_verb && d.verb != Verb::DnsRecordDelete && d.verb != Verb::MemberRemove {
        o.raw("newValueJson", |out| {
            request_body(ctx, d, &t, broad, &mut rng, out);
        });
    }
    o.str("oldValue", "")
        .obj("owner", |ow| {
            ow.str("id", &actor.cloudflare_user_id);
        })
        .obj("resource", |r| {
            // v1 token entries name the account as the resource (as the fixtures do).
            let rid = if token_verb {
                actor.cloudflare_user_id.as_str()
            } else {
                t.id.as_str()
            };
            r.str("id", rid).str("type", spelling.v1_resource_type);
        })
        .str("when", &rfc3339_secs(time));
    o.close();
    out
}
