//! An async HTTP load generator for `make bench` and the flood tests: `connections` concurrent
//! keep-alive connections driven from two client threads for a fixed time, so the figures
//! measure the server rather than a thread-per-request client.

use std::time::{Duration, Instant};

/// One request shape.
#[derive(Clone, Debug)]
pub struct Shot {
    /// `GET`, `POST`, …
    pub method: reqwest::Method,
    /// Full URL.
    pub url: String,
    /// `Authorization` header value.
    pub auth: Option<String>,
    /// JSON body.
    pub body: Option<String>,
}

impl Shot {
    /// A GET of `url`.
    pub fn get(url: String, auth: Option<String>) -> Shot {
        Shot {
            method: reqwest::Method::GET,
            url,
            auth,
            body: None,
        }
    }

    /// A POST of a JSON `body` to `url`.
    pub fn post(url: String, auth: Option<String>, body: String) -> Shot {
        Shot {
            method: reqwest::Method::POST,
            url,
            auth,
            body: Some(body),
        }
    }
}

/// What one run measured.
#[derive(Clone, Debug, Default)]
pub struct LoadResult {
    /// Answers with the expected status.
    pub ok: u64,
    /// Other answers and transport errors.
    pub errors: u64,
    /// Wall time of the run.
    pub elapsed: Duration,
    /// Latency of every answer, in microseconds, sorted.
    pub latencies_us: Vec<u64>,
}

impl LoadResult {
    /// Answers per second (ok and errors).
    pub fn rps(&self) -> f64 {
        (self.ok + self.errors) as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// The `p`-quantile latency in milliseconds.
    pub fn pct_ms(&self, p: f64) -> f64 {
        if self.latencies_us.is_empty() {
            return f64::NAN;
        }
        let i = ((self.latencies_us.len() as f64 * p) as usize).min(self.latencies_us.len() - 1);
        self.latencies_us[i] as f64 / 1000.0
    }
}

/// Sends `shot` over `connections` concurrent connections for `duration`; answers with
/// `expect` status count as ok.
pub fn run(shot: &Shot, connections: usize, duration: Duration, expect: u16) -> LoadResult {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(async move {
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(connections)
            .timeout(Duration::from_secs(30))
            .build()
            .expect("client");
        let start = Instant::now();
        let deadline = start + duration;
        let mut set = tokio::task::JoinSet::new();
        for _ in 0..connections {
            let client = client.clone();
            let shot = shot.clone();
            set.spawn(async move {
                let mut out = LoadResult::default();
                while Instant::now() < deadline {
                    let t = Instant::now();
                    let mut req = client.request(shot.method.clone(), &shot.url);
                    if let Some(auth) = &shot.auth {
                        req = req.header("Authorization", auth);
                    }
                    if let Some(body) = &shot.body {
                        req = req
                            .header("Content-Type", "application/json")
                            .body(body.clone());
                    }
                    match req.send().await {
                        Ok(r) => {
                            let status = r.status().as_u16();
                            let _ = r.bytes().await;
                            if status == expect {
                                out.ok += 1;
                            } else {
                                out.errors += 1;
                            }
                        }
                        Err(_) => out.errors += 1,
                    }
                    out.latencies_us.push(t.elapsed().as_micros() as u64);
                }
                out
            });
        }
        let mut total = LoadResult::default();
        while let Some(part) = set.join_next().await {
            let part = part.expect("load task");
            total.ok += part.ok;
            total.errors += part.errors;
            total.latencies_us.extend(part.latencies_us);
        }
        total.elapsed = start.elapsed();
        total.latencies_us.sort_unstable();
        total
    })
}
