//! A scripted HTTP/1.1 server on loopback: each request gets the next
//! scripted reply (an answer, a TCP reset, or silence), or whatever a
//! handler computes from the request, and every request is recorded with
//! its arrival time and body. For fault tests of anything built on
//! `HttpClient`. [`FakeServer::with_handler`] answers with an async function
//! of the request instead (a stateful fake, a validating proxy).

use std::collections::VecDeque;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the server does with the next request it reads.
#[derive(Debug, Clone)]
pub enum Reply {
    Respond {
        status: u16,
        headers: Vec<(String, String)>,
        body: String,
    },
    /// Close the socket with a TCP reset instead of answering.
    Reset,
    /// Keep the socket open and never answer.
    Hang,
    /// Wait, then do the inner reply (a slow server).
    Delayed(Duration, Box<Reply>),
}

pub fn reply(status: u16, headers: &[(&str, &str)], body: &str) -> Reply {
    Reply::Respond {
        status,
        headers: headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect(),
        body: body.to_string(),
    }
}

#[derive(Debug, Clone)]
pub struct Received {
    pub at: Instant,
    /// `GET /path?query HTTP/1.1`
    pub request_line: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Received {
    pub fn method(&self) -> &str {
        self.request_line.split(' ').next().unwrap_or("")
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("a JSON request body")
    }

    /// The request target (`/path?query`).
    pub fn target(&self) -> &str {
        self.request_line.split(' ').nth(1).unwrap_or("")
    }

    pub fn path(&self) -> &str {
        self.target().split('?').next().unwrap_or("")
    }

    /// Every value of query parameter `name`, percent-decoded.
    pub fn query_all(&self, name: &str) -> Vec<String> {
        let Ok(url) = url::Url::parse(&format!("http://fake{}", self.target())) else {
            return Vec::new();
        };
        url.query_pairs()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.into_owned())
            .collect()
    }

    pub fn query(&self, name: &str) -> Option<String> {
        self.query_all(name).into_iter().next()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

pub struct FakeServer {
    pub addr: SocketAddr,
    received: Arc<Mutex<Vec<Received>>>,
}

/// Computes the reply to a request (called once per request, in arrival order).
pub type Handler = Arc<dyn Fn(&Received) -> Reply + Send + Sync>;

pub type ReplyFuture = Pin<Box<dyn Future<Output = Reply> + Send>>;
/// Answers one request asynchronously (it may call another server first).
pub type AsyncHandler = Arc<dyn Fn(Received) -> ReplyFuture + Send + Sync>;

/// How a server computes its replies.
#[derive(Clone)]
enum Answerer {
    Sync(Handler),
    Async(AsyncHandler),
}

impl FakeServer {
    /// Serves `script` one reply per request, in order; a request beyond
    /// the script gets a 500 that names the problem.
    pub async fn start(script: Vec<Reply>) -> FakeServer {
        let script = Mutex::new(VecDeque::from(script));
        FakeServer::serve(move |_| {
            script
                .lock()
                .expect("lock")
                .pop_front()
                .unwrap_or_else(|| reply(500, &[], "fake server: script exhausted"))
        })
        .await
    }

    /// Answers each request with what `handler` returns for it.
    pub async fn serve(handler: impl Fn(&Received) -> Reply + Send + Sync + 'static) -> FakeServer {
        FakeServer::listen(Answerer::Sync(Arc::new(handler))).await
    }

    /// Answers every request with `handler`'s reply.
    pub async fn with_handler(handler: AsyncHandler) -> FakeServer {
        FakeServer::listen(Answerer::Async(handler)).await
    }

    async fn listen(answerer: Answerer) -> FakeServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let received = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&received);
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let log = Arc::clone(&log);
                tokio::spawn(serve_connection(stream, log, answerer.clone()));
            }
        });
        FakeServer { addr, received }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn base(&self) -> String {
        self.url("")
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().expect("lock").clone()
    }

    pub fn count(&self) -> usize {
        self.received.lock().expect("lock").len()
    }
}

async fn serve_connection(
    mut stream: TcpStream,
    log: Arc<Mutex<Vec<Received>>>,
    answerer: Answerer,
) {
    // One request per connection (`Connection: close` on every answer).
    let Some(request) = read_request(&mut stream).await else {
        return;
    };
    let next = match answerer {
        // Logged and answered under one lock, so the handler sees requests
        // in the order of the log.
        Answerer::Sync(handler) => {
            let mut log = log.lock().expect("lock");
            let next = handler(&request);
            log.push(request);
            next
        }
        Answerer::Async(handler) => {
            log.lock().expect("lock").push(request.clone());
            handler(request).await
        }
    };
    answer(stream, next).await;
}

fn answer(
    mut stream: TcpStream,
    reply: Reply,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> {
    Box::pin(async move {
        match reply {
            Reply::Respond {
                status,
                headers,
                body,
            } => {
                let mut head = format!(
                    "HTTP/1.1 {status} Scripted\r\nContent-Length: {}\r\nConnection: close\r\n",
                    body.len()
                );
                for (name, value) in headers {
                    head.push_str(&format!("{name}: {value}\r\n"));
                }
                head.push_str("\r\n");
                let _ = stream.write_all(head.as_bytes()).await;
                let _ = stream.write_all(body.as_bytes()).await;
                let _ = stream.shutdown().await;
            }
            Reply::Reset => {
                let _ = stream.set_zero_linger();
                drop(stream);
            }
            Reply::Hang => {
                tokio::time::sleep(Duration::from_secs(3600)).await;
                drop(stream);
            }
            Reply::Delayed(delay, inner) => {
                tokio::time::sleep(delay).await;
                answer(stream, *inner).await;
            }
        }
    })
}

pub(super) async fn read_request(stream: &mut TcpStream) -> Option<Received> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos;
        }
    };
    let at = Instant::now();
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let mut lines = head.split("\r\n");
    let request_line = lines.next()?.to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect();
    let content_length: usize = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < content_length {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Some(Received {
        at,
        request_line,
        headers,
        body,
    })
}
