//! A minimal HTTP/1.1 client for the gateway tests: one request per connection, so what the
//! tests send and read is exactly what a browser or curl would.

use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A response: status, content type, body and `Retry-After`.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub content_type: String,
    pub body: String,
    /// The `Retry-After` header, when the response has one.
    pub retry_after: Option<String>,
}

impl Reply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

/// Sends `method path` with `headers` and an optional JSON body; reads the whole response.
pub async fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> anyhow::Result<Reply> {
    let mut stream = TcpStream::connect(addr).await?;
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if let Some(b) = body {
        req.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            b.len()
        ));
    }
    req.push_str("\r\n");
    if let Some(b) = body {
        req.push_str(b);
    }
    stream.write_all(req.as_bytes()).await?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await?;
    let text = String::from_utf8(raw)?;
    let (head, rest) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| anyhow::anyhow!("no header end: {text}"))?;
    let status: u16 = head
        .split_whitespace()
        .nth(1)
        .ok_or_else(|| anyhow::anyhow!("no status line"))?
        .parse()?;
    let header = |name: &str| {
        head.lines().find_map(|l| {
            l.split_once(':')
                .filter(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.trim().to_owned())
        })
    };
    let body = if header("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        dechunk(rest)?
    } else {
        rest.to_owned()
    };
    Ok(Reply {
        status,
        content_type: header("content-type").unwrap_or_default(),
        retry_after: header("retry-after"),
        body,
    })
}

fn dechunk(mut s: &str) -> anyhow::Result<String> {
    let mut out = String::new();
    loop {
        let (size, rest) = s
            .split_once("\r\n")
            .ok_or_else(|| anyhow::anyhow!("bad chunk"))?;
        let n = usize::from_str_radix(size.trim(), 16)?;
        if n == 0 {
            return Ok(out);
        }
        out.push_str(&rest[..n]);
        s = &rest[n + 2..];
    }
}

/// `who` sends `method path` with a JSON body through the gateway at `gw`, signed in with their
/// token; the reply as it came.
pub async fn call_as(
    gw: SocketAddr,
    method: &str,
    path: &str,
    who: &crate::hub::As,
    body: Option<serde_json::Value>,
) -> Reply {
    let bearer = who.bearer();
    let headers: &[(&str, &str)] = &[("authorization", &bearer)];
    let body = body.map(|b| b.to_string());
    request(gw, method, path, headers, body.as_deref())
        .await
        .expect("the gateway answers")
}

/// [`call_as`] that must answer 200; its JSON.
pub async fn ok_as(
    gw: SocketAddr,
    method: &str,
    path: &str,
    who: &crate::hub::As,
    body: Option<serde_json::Value>,
) -> serde_json::Value {
    let r = call_as(gw, method, path, who, body).await;
    assert_eq!(r.status, 200, "{method} {path}: {}", r.body);
    r.json()
}
