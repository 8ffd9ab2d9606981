//! A fault-injecting HTTP/1.1 proxy in front of one destination (a
//! simulator or moto): a share of the requests fail as 5xx, resets, hangs
//! past the client's timeout, or 429 with `Retry-After`. Half of the
//! 5xx/reset/hang faults strike *after* the upstream applied the request
//! (the issue was created, the answer is lost), which is what the sinks'
//! idempotency is for. Requests naming a key in the `permanent` set get the
//! service's own 4xx instead, always.
//!
//! Every request is recorded with its arrival time, the key it is about and
//! what was done to it, so the test can check uniqueness and that nothing
//! arrived before a `Retry-After` elapsed.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::fake_server::{Received, read_request};

/// What a request is about, as the destination sees it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Subject {
    /// The idempotency key: Linear issue id, PagerDuty dedup key,
    /// Confluence title, S3 object key. `None` for lookups of shared things
    /// (labels, the space id).
    pub key: Option<String>,
    /// The request creates something when the upstream accepts it.
    pub creates: bool,
}

/// How a destination reads requests and refuses them permanently.
pub struct Destination {
    pub name: &'static str,
    /// `http://127.0.0.1:<port>` of the real (simulated) service.
    pub upstream: String,
    pub subject: fn(&Received) -> Subject,
    /// The service's permanent refusal of a create (status, content type, body).
    pub refusal: fn(&str) -> (u16, &'static str, String),
    /// The service's 429 body (content type, body).
    pub throttled: (&'static str, &'static str),
    /// Whether the upstream's answer (status, body) to a create means it
    /// created something.
    pub created: fn(u16, &[u8]) -> bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FaultKind {
    ServerError,
    Reset,
    /// No answer until the client gives up.
    Hang,
    RateLimited,
}

impl FaultKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FaultKind::ServerError => "5xx",
            FaultKind::Reset => "reset",
            FaultKind::Hang => "timeout",
            FaultKind::RateLimited => "429",
        }
    }
}

/// How often each fault strikes.
#[derive(Debug, Clone)]
pub struct FaultPlan {
    /// Share of requests that fail (permanent refusals not included).
    pub rate: f64,
    /// Relative weights of 5xx, reset, hang, 429.
    pub weights: [(FaultKind, u32); 4],
    /// `Retry-After` seconds, inclusive range.
    pub retry_after_secs: (u64, u64),
    /// After a rate-limit window ends, no new one opens for this long (a
    /// service's limiter trips now and then, not on every other request).
    pub rate_limit_cooldown: Duration,
    pub seed: u64,
}

/// One request as the proxy handled it.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// When its connection was accepted (one request per connection).
    pub arrived: Instant,
    pub subject: Subject,
    pub method: String,
    /// The fault injected, and whether it struck after the upstream applied
    /// the request.
    pub fault: Option<(FaultKind, bool)>,
    /// Answered with the service's permanent 4xx.
    pub refused: bool,
    /// What the upstream answered, when the request reached it.
    pub upstream_status: Option<u16>,
    /// A create the upstream carried out (whether or not its answer got back).
    pub created: bool,
    /// For a 429: when its answer was written and the wait it asked for.
    pub rate_limit: Option<(Instant, Duration)>,
    /// For a 429: when the client closed the connection, having read the
    /// answer (`None`: it had not within a few seconds).
    pub read_by_client: Option<Instant>,
}

struct State {
    rng: fastrand::Rng,
    /// No new 429 before this (the current window plus the cooldown).
    quiet_until: Option<Instant>,
    exchanges: Vec<Exchange>,
}

struct Shared {
    destination: Destination,
    plan: FaultPlan,
    permanent: Mutex<HashSet<String>>,
    state: Mutex<State>,
    /// Creates of one key reach the upstream one at a time, as on the real
    /// services (S3's conditional write is atomic; moto's check-then-put is
    /// not, and a client timeout can leave a slow PUT running beside its retry).
    key_locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    client: reqwest::Client,
}

pub struct FaultProxy {
    pub addr: std::net::SocketAddr,
    shared: Arc<Shared>,
}

/// How long a hang lasts at most (the client gives up long before).
const HANG_CAP: Duration = Duration::from_secs(120);
/// Headers not forwarded either way: they describe one hop.
const HOP_HEADERS: [&str; 6] = [
    "connection",
    "content-length",
    "transfer-encoding",
    "keep-alive",
    "expect",
    "proxy-connection",
];

impl FaultProxy {
    pub async fn start(destination: Destination, plan: FaultPlan) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                rng: fastrand::Rng::with_seed(plan.seed),
                quiet_until: None,
                exchanges: Vec::new(),
            }),
            destination,
            plan,
            permanent: Mutex::new(HashSet::new()),
            key_locks: Mutex::new(HashMap::new()),
            client: reqwest::Client::builder()
                .no_proxy()
                .timeout(Duration::from_secs(60))
                .build()
                .expect("proxy client"),
        });
        let serving = Arc::clone(&shared);
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let accepted = Instant::now();
                tokio::spawn(handle(Arc::clone(&serving), stream, accepted));
            }
        });
        FaultProxy { addr, shared }
    }

    pub fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn name(&self) -> &'static str {
        self.shared.destination.name
    }

    /// Creates of these keys are refused with the service's 4xx, every time.
    pub fn refuse_permanently(&self, keys: impl IntoIterator<Item = String>) {
        self.shared.permanent.lock().expect("lock").extend(keys);
    }

    pub fn exchanges(&self) -> Vec<Exchange> {
        self.shared.state.lock().expect("lock").exchanges.clone()
    }
}

/// Decides what happens to a request and records it; returns its index.
/// `accepted` is when its connection was accepted: the earliest the
/// request can be said to have arrived.
fn decide(shared: &Shared, request: &Received, accepted: Instant) -> (usize, Exchange) {
    let subject = (shared.destination.subject)(request);
    let refused = subject.creates
        && subject
            .key
            .as_ref()
            .is_some_and(|k| shared.permanent.lock().expect("lock").contains(k));
    let now = Instant::now();
    let mut state = shared.state.lock().expect("lock");
    let plan = &shared.plan;
    let mut fault = None;
    let mut rate_limit = None;
    if !refused && state.rng.f64() < plan.rate {
        let total: u32 = plan.weights.iter().map(|(_, w)| w).sum();
        let mut pick = state.rng.u32(0..total.max(1));
        let mut kind = FaultKind::ServerError;
        for (k, w) in plan.weights {
            if pick < w {
                kind = k;
                break;
            }
            pick -= w;
        }
        if kind == FaultKind::RateLimited {
            if state.quiet_until.is_some_and(|q| now < q) {
                // The limiter is not tripping now: a plain 5xx instead.
                kind = FaultKind::ServerError;
            } else {
                let secs = state
                    .rng
                    .u64(plan.retry_after_secs.0..=plan.retry_after_secs.1);
                let wait = Duration::from_secs(secs);
                state.quiet_until = Some(now + wait + plan.rate_limit_cooldown);
                rate_limit = Some((now, wait));
            }
        }
        let after = kind != FaultKind::RateLimited && state.rng.bool();
        fault = Some((kind, after));
    }
    let exchange = Exchange {
        arrived: accepted,
        subject,
        method: request.method().to_owned(),
        fault,
        refused,
        upstream_status: None,
        created: false,
        rate_limit,
        read_by_client: None,
    };
    state.exchanges.push(exchange.clone());
    (state.exchanges.len() - 1, exchange)
}

fn update(shared: &Shared, index: usize, change: impl FnOnce(&mut Exchange)) {
    if let Some(exchange) = shared.state.lock().expect("lock").exchanges.get_mut(index) {
        change(exchange);
    }
}

async fn handle(shared: Arc<Shared>, mut stream: TcpStream, accepted: Instant) {
    let Some(request) = read_request(&mut stream).await else {
        return;
    };
    let (index, exchange) = decide(&shared, &request, accepted);
    if exchange.refused {
        let key = exchange.subject.key.as_deref().unwrap_or_default();
        let (status, content_type, body) = (shared.destination.refusal)(key);
        let headers = vec![("Content-Type".to_owned(), content_type.to_owned())];
        write_answer(&mut stream, status, &headers, body.as_bytes(), None).await;
        return;
    }
    match exchange.fault {
        Some((FaultKind::RateLimited, _)) => {
            let wait = exchange.rate_limit.map(|(_, w)| w).unwrap_or_default();
            let (content_type, body) = shared.destination.throttled;
            let headers = vec![
                ("Content-Type".to_owned(), content_type.to_owned()),
                ("Retry-After".to_owned(), wait.as_secs().to_string()),
            ];
            write_answer(&mut stream, 429, &headers, body.as_bytes(), None).await;
            // The wait counts from the moment the answer left.
            let sent = Instant::now();
            update(&shared, index, |e| e.rate_limit = Some((sent, wait)));
            let read = closed_by_client(&mut stream).await;
            update(&shared, index, |e| e.read_by_client = read);
        }
        Some((kind, false)) => fail(stream, kind, index).await,
        Some((kind, true)) => {
            let answer = forward(&shared, &exchange, &request).await;
            if let Some((status, _, body)) = &answer {
                record_answer(&shared, index, &exchange, *status, body);
            }
            fail(stream, kind, index).await;
        }
        None => match forward(&shared, &exchange, &request).await {
            Some((status, headers, body)) => {
                record_answer(&shared, index, &exchange, status, &body);
                let length = (request.method() == "HEAD")
                    .then(|| header(&headers, "content-length"))
                    .flatten();
                write_answer(&mut stream, status, &headers, &body, length.as_deref()).await;
            }
            None => fail(stream, FaultKind::ServerError, index).await,
        },
    }
}

fn record_answer(shared: &Shared, index: usize, exchange: &Exchange, status: u16, body: &[u8]) {
    let created = exchange.subject.creates && (shared.destination.created)(status, body);
    update(shared, index, |e| {
        e.upstream_status = Some(status);
        e.created = created;
    });
}

fn header(headers: &[(String, String)], name: &str) -> Option<String> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.clone())
}

/// The request sent on to the upstream: `(status, headers, body)`, or
/// `None` when the upstream could not be reached.
async fn forward(
    shared: &Shared,
    exchange: &Exchange,
    request: &Received,
) -> Option<(u16, Vec<(String, String)>, Vec<u8>)> {
    let lock = match (&exchange.subject.key, exchange.subject.creates) {
        (Some(key), true) => Some(Arc::clone(
            shared
                .key_locks
                .lock()
                .expect("lock")
                .entry(key.clone())
                .or_default(),
        )),
        _ => None,
    };
    let _serial = match &lock {
        Some(lock) => Some(lock.lock().await),
        None => None,
    };
    let method = reqwest::Method::from_bytes(request.method().as_bytes()).ok()?;
    let url = format!("{}{}", shared.destination.upstream, request.target());
    let mut builder = shared.client.request(method, url);
    for (name, value) in &request.headers {
        if !HOP_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
            builder = builder.header(name.as_str(), value.as_str());
        }
    }
    let response = builder.body(request.body.clone()).send().await.ok()?;
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .filter(|(n, _)| !HOP_HEADERS.contains(&n.as_str()) || n.as_str() == "content-length")
        .map(|(n, v)| {
            (
                n.to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let body = response.bytes().await.ok()?.to_vec();
    Some((status, headers, body))
}

async fn write_answer(
    stream: &mut TcpStream,
    status: u16,
    headers: &[(String, String)],
    body: &[u8],
    head_length: Option<&str>,
) {
    let length = head_length.map_or_else(|| body.len().to_string(), str::to_owned);
    let mut head =
        format!("HTTP/1.1 {status} Proxied\r\nContent-Length: {length}\r\nConnection: close\r\n");
    for (name, value) in headers {
        if !name.eq_ignore_ascii_case("content-length") && !name.eq_ignore_ascii_case("connection")
        {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
    }
    head.push_str("\r\n");
    let _ = stream.write_all(head.as_bytes()).await;
    let _ = stream.write_all(body).await;
    let _ = stream.flush().await;
    let _ = stream.shutdown().await;
}

/// When the client closes its side (it has read the whole answer, which
/// said `Connection: close`); `None` if it has not within a few seconds.
async fn closed_by_client(stream: &mut TcpStream) -> Option<Instant> {
    let mut buf = [0u8; 512];
    let wait_for_eof = async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return Instant::now(),
                Ok(_) => {}
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(5), wait_for_eof)
        .await
        .ok()
}

/// `index` varies the 5xx between 500, 502 and 503.
async fn fail(mut stream: TcpStream, kind: FaultKind, index: usize) {
    match kind {
        FaultKind::ServerError | FaultKind::RateLimited => {
            let body = b"upstream unavailable (injected)";
            let headers = vec![("Content-Type".to_owned(), "text/plain".to_owned())];
            let status = [500, 502, 503][index % 3];
            write_answer(&mut stream, status, &headers, body, None).await;
        }
        FaultKind::Reset => {
            let _ = stream.set_zero_linger();
            drop(stream);
        }
        FaultKind::Hang => {
            // Silent until the client closes its end (its timeout), so
            // hung sockets do not pile up for the rest of the run.
            let mut sink = [0u8; 1024];
            let _ = tokio::time::timeout(HANG_CAP, async {
                while matches!(stream.read(&mut sink).await, Ok(n) if n > 0) {}
            })
            .await;
        }
    }
}
