//! A loopback HTTP proxy in front of moto that injects the failures real AWS has: throttling,
//! 5xx, a reset connection and a response that never comes. One request per connection
//! (`Connection: close` both ways), which the SDK handles like any closed keep-alive.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the proxy does with one request.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Fault {
    /// Pass it to moto.
    Forward,
    /// Answer with this status and AWS JSON error type (JSON protocol: ECR, STS).
    Error(u16, &'static str),
    /// Answer with this status and AWS query-protocol XML error code (IAM).
    XmlError(u16, &'static str),
    /// Forward without the request's `nextToken`, then answer one page of `size` items of
    /// the list `field` (moto does not paginate `DescribeRepositories`; AWS does, by 1,000).
    Paginate {
        /// The JSON list in the response (`repositories`).
        field: &'static str,
        /// Items per page.
        size: usize,
    },
    /// Read the request and close the connection without a byte of answer.
    Reset,
    /// Read the request and never answer.
    Hang,
    /// Answer 200 with a chunked body that does not end (cut by the proxy after 512 MiB, or
    /// when the client goes away).
    Endless,
    /// Answer 200 announcing a body of 10 GB, then send a little of it.
    HugeLength,
    /// Answer 200 with this JSON body (a call moto does not implement, answered as the
    /// service answers it).
    #[allow(dead_code)]
    Answer(&'static str),
    /// Wait this many milliseconds, then pass it to moto (a slow service, so that a test can
    /// kill the client mid-run).
    Delay(u64),
}

/// Decides a request's fault from its `X-Amz-Target`, its body and how many times the same
/// (target, body) was seen before.
pub(crate) type Decide = dyn Fn(&str, &str, usize) -> Fault + Send + Sync;

pub(crate) struct FaultProxy {
    pub(crate) port: u16,
}

impl FaultProxy {
    pub(crate) fn start(upstream: u16, decide: Box<Decide>) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let decide: Arc<Decide> = Arc::from(decide);
        let seen = Arc::new(Mutex::new(HashMap::<String, usize>::new()));
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let decide = Arc::clone(&decide);
                let seen = Arc::clone(&seen);
                std::thread::spawn(move || {
                    let _ = serve(client, upstream, &*decide, &seen);
                });
            }
        });
        FaultProxy { port }
    }

    pub(crate) fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

fn serve(
    mut client: TcpStream,
    upstream: u16,
    decide: &Decide,
    seen: &Mutex<HashMap<String, usize>>,
) -> std::io::Result<()> {
    client.set_nodelay(true)?;
    let (head, body) = read_request(&mut client)?;
    let head_text = String::from_utf8_lossy(&head).to_string();
    let target = header(&head_text, "x-amz-target").unwrap_or_default();
    let body_text = String::from_utf8_lossy(&body).to_string();
    let attempt = {
        let mut seen = seen.lock().unwrap();
        let n = seen.entry(format!("{target}\n{body_text}")).or_insert(0);
        *n += 1;
        *n - 1
    };
    match decide(&target, &body_text, attempt) {
        Fault::Delay(ms) => {
            std::thread::sleep(Duration::from_millis(ms));
            let answer = forward(upstream, &head_text, &body)?;
            client.write_all(&answer)?;
        }
        Fault::Forward => {
            let answer = forward(upstream, &head_text, &body)?;
            client.write_all(&answer)?;
        }
        Fault::Paginate { field, size } => {
            let mut request: serde_json::Value =
                serde_json::from_slice(&body).unwrap_or_else(|_| serde_json::json!({}));
            let offset: usize = request
                .as_object_mut()
                .and_then(|o| o.remove("nextToken"))
                .and_then(|t| t.as_str().and_then(|t| t.parse().ok()))
                .unwrap_or(0);
            let body = serde_json::to_vec(&request).unwrap();
            let head_text = with_content_length(&head_text, body.len());
            let answer = forward(upstream, &head_text, &body)?;
            let split = answer.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
            let mut page: serde_json::Value = serde_json::from_slice(&answer[split..]).unwrap();
            let all = page[field].as_array().cloned().unwrap_or_default();
            let end = (offset + size).min(all.len());
            page[field] = serde_json::Value::Array(all[offset.min(end)..end].to_vec());
            if end < all.len() {
                page["nextToken"] = serde_json::Value::String(end.to_string());
            }
            let payload = serde_json::to_vec(&page).unwrap();
            let head =
                with_content_length(&String::from_utf8_lossy(&answer[..split]), payload.len());
            client.write_all(head.as_bytes())?;
            client.write_all(&payload)?;
        }
        Fault::Error(status, kind) => {
            let payload = format!(r#"{{"__type":"{kind}","message":"injected {kind}"}}"#);
            let answer = format!(
                "HTTP/1.1 {status} Injected\r\nContent-Type: application/x-amz-json-1.1\r\n\
                 x-amzn-ErrorType: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{payload}",
                payload.len()
            );
            client.write_all(answer.as_bytes())?;
        }
        Fault::Answer(payload) => {
            let answer = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.1\r\n\
                 Content-Length: {}\r\nConnection: close\r\n\r\n{payload}",
                payload.len()
            );
            client.write_all(answer.as_bytes())?;
        }
        Fault::XmlError(status, code) => {
            let payload = format!(
                "<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code>\
                 <Message>injected {code}</Message></Error><RequestId>1</RequestId></ErrorResponse>"
            );
            let answer = format!(
                "HTTP/1.1 {status} Injected\r\nContent-Type: text/xml\r\n\
                 Content-Length: {}\r\nConnection: close\r\n\r\n{payload}",
                payload.len()
            );
            client.write_all(answer.as_bytes())?;
        }
        Fault::Reset => {}
        Fault::Hang => std::thread::sleep(Duration::from_secs(600)),
        Fault::Endless => {
            client.write_all(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.1\r\n\
                  Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
            )?;
            let chunk = vec![b' '; 1 << 20];
            let framed = [
                format!("{:x}\r\n", chunk.len()).into_bytes(),
                chunk,
                b"\r\n".to_vec(),
            ]
            .concat();
            // Bounded: the client stops reading at its limit and closes; 512 MiB at most.
            for _ in 0..512 {
                if client.write_all(&framed).is_err() {
                    break;
                }
            }
        }
        Fault::HugeLength => {
            client.write_all(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.1\r\n\
                  Content-Length: 10000000000\r\nConnection: close\r\n\r\n{}",
            )?;
        }
    }
    client.shutdown(Shutdown::Both)
}

/// Sends one request to moto with `Connection: close` and returns the whole answer.
fn forward(upstream: u16, head_text: &str, body: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut up = TcpStream::connect(("127.0.0.1", upstream))?;
    up.set_nodelay(true)?;
    let mut out = String::new();
    for l in head_text
        .split("\r\n")
        .filter(|l| !l.is_empty() && !l.to_ascii_lowercase().starts_with("connection:"))
    {
        out.push_str(l);
        out.push_str("\r\n");
    }
    out.push_str("Connection: close\r\n\r\n");
    up.write_all(out.as_bytes())?;
    up.write_all(body)?;
    let mut answer = Vec::new();
    up.read_to_end(&mut answer)?;
    Ok(answer)
}

/// A request or response head with its `Content-Length` set to `len` (and nothing chunked).
fn with_content_length(head: &str, len: usize) -> String {
    let mut out = String::new();
    for l in head.split("\r\n").filter(|l| {
        let l = l.to_ascii_lowercase();
        !l.is_empty() && !l.starts_with("content-length:") && !l.starts_with("transfer-encoding:")
    }) {
        out.push_str(l);
        out.push_str("\r\n");
    }
    out.push_str(&format!("Content-Length: {len}\r\n\r\n"));
    out
}

fn read_request(s: &mut TcpStream) -> std::io::Result<(Vec<u8>, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = s.read(&mut chunk)?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = buf[..end].to_vec();
    let len: usize = header(&String::from_utf8_lossy(&head), "content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[end..].to_vec();
    while body.len() < len {
        let n = s.read(&mut chunk)?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Ok((head, body))
}

fn header(head: &str, name: &str) -> Option<String> {
    head.split("\r\n").find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim()
            .eq_ignore_ascii_case(name)
            .then(|| v.trim().to_string())
    })
}
