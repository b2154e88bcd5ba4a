//! Per-client rate limits: a token bucket per client address, one budget for the public
//! pages and feed, which anyone may call without signing in, and a wider one for the API.
//!
//! A client is its IP address (an IPv6 client its /64, which one host usually holds whole).
//! Behind a reverse proxy listed in `http_limits.trusted_proxies`, it is the address the proxy
//! appends to `X-Forwarded-For`. A refused request gets 429 with `Retry-After`, before any
//! service is called.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::header::{CONTENT_TYPE, RETRY_AFTER};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use liandong_config::HttpLimits;
use tonic::Code;

use crate::error::GatewayError;

/// How fast one client's requests may come: `per_second` on average, `burst` at once.
/// A rate of 0 means no limit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    pub per_second: f64,
    pub burst: f64,
}

impl Rate {
    fn unlimited(&self) -> bool {
        self.per_second <= 0.0
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// One budget's buckets, one per client, kept to at most `max_clients`.
#[derive(Debug)]
pub struct Limiter {
    rate: Rate,
    max_clients: usize,
    buckets: Mutex<HashMap<IpAddr, Bucket>>,
}

impl Limiter {
    pub fn new(rate: Rate, max_clients: usize) -> Limiter {
        Limiter {
            rate,
            max_clients: max_clients.max(1),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one request from `client`'s bucket at `now`, or says how long until one is
    /// allowed.
    pub fn take(&self, client: IpAddr, now: Instant) -> Result<(), Duration> {
        if self.rate.unlimited() {
            return Ok(());
        }
        let Rate { per_second, burst } = self.rate;
        let burst = burst.max(1.0);
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() >= self.max_clients && !buckets.contains_key(&client) {
            // A refilled bucket is the same as none: drop those. Should many clients still be
            // mid-burst (a flood from many addresses), forget them all rather than grow
            // without bound; either way the next clean-up is at least half the map away.
            buckets.retain(|_, b| {
                b.tokens + now.saturating_duration_since(b.at).as_secs_f64() * per_second < burst
            });
            if buckets.len() >= self.max_clients / 2 {
                buckets.clear();
            }
        }
        let b = buckets.entry(client).or_insert(Bucket {
            tokens: burst,
            at: now,
        });
        let refill = now.saturating_duration_since(b.at).as_secs_f64() * per_second;
        b.tokens = (b.tokens + refill).min(burst);
        b.at = now.max(b.at);
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - b.tokens) / per_second))
        }
    }

    /// How many clients have a bucket (for tests). A poisoned lock still holds the buckets as
    /// they were (each change is one map operation), so they are counted, as `take` uses them.
    pub fn clients(&self) -> usize {
        self.buckets.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
}

/// The gateway's two budgets and how it tells clients apart.
#[derive(Debug)]
pub struct RateLimits {
    public: Limiter,
    api: Limiter,
    trusted_proxies: Vec<IpAddr>,
}

impl RateLimits {
    pub fn new(cfg: &HttpLimits) -> RateLimits {
        RateLimits {
            public: Limiter::new(
                Rate {
                    per_second: f64::from(cfg.public_per_second),
                    burst: f64::from(cfg.public_burst),
                },
                cfg.max_clients,
            ),
            api: Limiter::new(
                Rate {
                    per_second: f64::from(cfg.api_per_second),
                    burst: f64::from(cfg.api_burst),
                },
                cfg.max_clients,
            ),
            trusted_proxies: cfg.trusted_proxies.clone(),
        }
    }

    /// The client a request comes from: the peer, or, from a trusted proxy, the last address
    /// of `X-Forwarded-For` (the one the proxy itself saw). Without a peer address (a router
    /// driven in a test) every request is one client.
    pub fn client(&self, peer: Option<SocketAddr>, headers: &HeaderMap) -> IpAddr {
        let peer = peer.map(|p| p.ip().to_canonical());
        let forwarded = || {
            headers
                .get_all("x-forwarded-for")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .filter_map(|a| a.trim().parse::<IpAddr>().ok())
                .next_back()
        };
        let ip = match peer {
            Some(p) if self.trusted_proxies.contains(&p) => forwarded().unwrap_or(p),
            Some(p) => p,
            None => IpAddr::from([0, 0, 0, 0]),
        };
        match ip.to_canonical() {
            IpAddr::V6(v6) => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
            v4 => v4,
        }
    }
}

/// Whether a path is one of the public ones: the pages, their files, the public feed, the
/// health check and the API's description.
pub fn is_public(path: &str) -> bool {
    !path.starts_with("/v1/")
}

/// The middleware: takes a token from the client's bucket of the path's budget, or answers 429.
pub async fn limit(
    State(limits): State<Arc<RateLimits>>,
    request: Request,
    next: Next,
) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    let client = limits.client(peer, request.headers());
    let path = request.uri().path();
    let public = is_public(path);
    let limiter = if public { &limits.public } else { &limits.api };
    match limiter.take(client, Instant::now()) {
        Ok(()) => next.run(request).await,
        Err(wait) => {
            let secs = wait.as_secs_f64().ceil().max(1.0) as u64;
            tracing::info!(%client, path, retry_after = secs, "Too many requests from one client.");
            too_many(path, secs)
        }
    }
}

/// 429 with `Retry-After`: the JSON error body on the API and the feeds, a line of text in
/// both languages on the pages.
fn too_many(path: &str, secs: u64) -> Response {
    let mut response = if path.starts_with("/v1/") || path.ends_with(".json") {
        GatewayError::new(
            Code::ResourceExhausted,
            format!("too many requests from this address; try again in {secs} s"),
        )
        .with_status(StatusCode::TOO_MANY_REQUESTS)
        .into_response()
    } else {
        (
            StatusCode::TOO_MANY_REQUESTS,
            [(CONTENT_TYPE, "text/plain; charset=utf-8")],
            format!(
                "请求过于频繁，请 {secs} 秒后再试。\nToo many requests; try again in {secs} s.\n"
            ),
        )
            .into_response()
    };
    response
        .headers_mut()
        .insert(RETRY_AFTER, HeaderValue::from(secs));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 1));
    const B: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 2));

    #[test]
    fn a_burst_then_the_rate() {
        let l = Limiter::new(
            Rate {
                per_second: 2.0,
                burst: 3.0,
            },
            100,
        );
        let t0 = Instant::now();
        for _ in 0..3 {
            assert_eq!(l.take(A, t0), Ok(()));
        }
        let wait = l.take(A, t0).unwrap_err();
        assert_eq!(wait, Duration::from_millis(500));
        // Another client has its own bucket.
        assert_eq!(l.take(B, t0), Ok(()));
        // Half a second later one more request is allowed, and only one.
        let t1 = t0 + Duration::from_millis(500);
        assert_eq!(l.take(A, t1), Ok(()));
        assert!(l.take(A, t1).is_err());
        // After a long pause the bucket holds the burst again, not more.
        let t2 = t1 + Duration::from_secs(60);
        for _ in 0..3 {
            assert_eq!(l.take(A, t2), Ok(()));
        }
        assert!(l.take(A, t2).is_err());
    }

    #[test]
    fn a_rate_of_zero_is_no_limit() {
        let l = Limiter::new(
            Rate {
                per_second: 0.0,
                burst: 0.0,
            },
            10,
        );
        let t0 = Instant::now();
        for _ in 0..1000 {
            assert_eq!(l.take(A, t0), Ok(()));
        }
        assert_eq!(l.clients(), 0);
    }

    #[test]
    fn the_buckets_stay_bounded() {
        let l = Limiter::new(
            Rate {
                per_second: 1.0,
                burst: 5.0,
            },
            100,
        );
        let t0 = Instant::now();
        for i in 0..10_000u32 {
            let ip = IpAddr::V4(std::net::Ipv4Addr::from(0x0a00_0000 + i));
            assert_eq!(l.take(ip, t0), Ok(()));
            assert!(l.clients() <= 100, "{} clients", l.clients());
        }
    }

    fn limits(trusted: &[&str]) -> RateLimits {
        RateLimits::new(&HttpLimits {
            trusted_proxies: trusted.iter().map(|a| a.parse().unwrap()).collect(),
            ..HttpLimits::default()
        })
    }

    #[test]
    fn clients_are_addresses_and_ipv6_hosts_their_64() {
        let l = limits(&[]);
        let h = HeaderMap::new();
        assert_eq!(l.client(Some("192.0.2.1:4000".parse().unwrap()), &h), A);
        assert_eq!(
            l.client(Some("[2001:db8:1:2:3:4:5:6]:4000".parse().unwrap()), &h),
            "2001:db8:1:2::".parse::<IpAddr>().unwrap()
        );
        // An IPv4 client on a dual-stack socket is its IPv4 address.
        assert_eq!(
            l.client(Some("[::ffff:192.0.2.1]:4000".parse().unwrap()), &h),
            A
        );
    }

    #[test]
    fn forwarded_for_counts_only_from_a_trusted_proxy() {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", "203.0.113.9, 192.0.2.2".parse().unwrap());
        let proxy: SocketAddr = "127.0.0.1:5000".parse().unwrap();
        assert_eq!(limits(&["127.0.0.1"]).client(Some(proxy), &h), B);
        assert_eq!(limits(&[]).client(Some(proxy), &h), proxy.ip());
        // A trusted proxy that sent no usable address is the client itself.
        assert_eq!(
            limits(&["127.0.0.1"]).client(Some(proxy), &HeaderMap::new()),
            proxy.ip()
        );
    }

    #[test]
    fn the_pages_and_feed_are_public_and_the_api_is_not() {
        assert!(is_public("/"));
        assert!(is_public("/public/disclosures.json"));
        assert!(is_public("/static/site.css"));
        assert!(!is_public("/v1/cases"));
    }
}
