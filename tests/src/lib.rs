//! Test kit for black-box tests: starts the real `idm-server` binary on a free port with a
//! fresh database (SQLite file or throwaway PostgreSQL) and hands back an HTTP client.

#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod load;

use std::io::Read;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use reqwest::blocking::{Client, Response};
use reqwest::header::HeaderMap;
use serde_json::Value;

pub use serde_json::json;

/// The storage backends every black-box test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite file.
    Sqlite,
    /// The throwaway PostgreSQL of `idm_adapters_diesel::testdb` (or `IDM_TEST_DATABASE_URL`).
    Postgres,
}

/// The bootstrap admin's password in tests.
pub const ADMIN_PASSWORD: &str = "Admin-Test-Pa55word";
/// Fixed secrets so PostgreSQL instances can start.
pub const JWT_SECRET: &str = "test-jwt-secret-of-at-least-32-bytes-long!";
/// A 32-byte Base64 key.
pub const ENCRYPTION_KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

/// The path of the server binary: `IDM_SERVER_BIN`, or `target/debug/idm-server`.
pub fn server_binary() -> PathBuf {
    if let Ok(p) = std::env::var("IDM_SERVER_BIN") {
        return PathBuf::from(p);
    }
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    target.join("debug/idm-server")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A response, read whole.
#[derive(Debug)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// Headers.
    pub headers: HeaderMap,
    /// Raw body text.
    pub text: String,
}

impl Reply {
    fn from(resp: Response) -> Reply {
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = resp.text().unwrap_or_default();
        Reply {
            status,
            headers,
            text,
        }
    }

    /// The body as JSON (`Null` when it is not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or(Value::Null)
    }

    /// A header as text.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }

    /// Asserts the SPEC error envelope with exactly one error of `code` and `message`.
    #[track_caller]
    pub fn assert_error(&self, status: u16, code: &str, message: &str) {
        assert_eq!(self.status, status, "status; body: {}", self.text);
        let body = self.json();
        assert_eq!(body["errors"][0]["code"], code, "code; body: {}", self.text);
        assert_eq!(
            body["errors"][0]["message"], message,
            "message; body: {}",
            self.text
        );
        assert_eq!(
            body["errors"].as_array().map(Vec::len),
            Some(1),
            "{}",
            self.text
        );
    }
}

/// Options of a test server.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Extra environment variables.
    pub env: Vec<(String, String)>,
    /// Leave `IDM_BOOTSTRAP_ADMIN_PASSWORD` unset so the server generates one.
    pub generated_admin_password: bool,
    /// Reuse this database URL instead of a fresh one.
    pub database_url: Option<String>,
}

/// A running server process.
pub struct TestServer {
    child: Option<Child>,
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// The database URL it uses.
    pub database_url: String,
    /// The backend.
    pub backend: Backend,
    log_path: PathBuf,
    stdout_path: PathBuf,
    _dir: tempfile::TempDir,
    http: Client,
}

impl TestServer {
    /// Starts a server on `backend` with a fresh database; `None` when PostgreSQL cannot be had
    /// outside CI (the harness prints why; under `CI=true` it panics instead).
    pub fn start(backend: Backend) -> Option<TestServer> {
        Self::start_with(backend, Options::default())
    }

    /// Starts a server with options.
    pub fn start_with(backend: Backend, opts: Options) -> Option<TestServer> {
        let dir = tempfile::tempdir().unwrap();
        let database_url = match (&opts.database_url, backend) {
            (Some(url), _) => url.clone(),
            (None, Backend::Sqlite) => {
                format!("sqlite://{}", dir.path().join("idm.sqlite3").display())
            }
            (None, Backend::Postgres) => idm_adapters_diesel::testdb::fresh_postgres_url()?,
        };
        let port = free_port();
        let log_path = dir.path().join("server.log");
        let stdout_path = dir.path().join("server.out");
        let mut cmd = Command::new(server_binary());
        cmd.arg("serve")
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("IDM_LISTEN", format!("127.0.0.1:{port}"))
            .env("IDM_DATABASE_URL", &database_url)
            .env("IDM_JWT_SECRET", JWT_SECRET)
            .env("IDM_ENCRYPTION_KEY", ENCRYPTION_KEY)
            .env("IDM_ARGON2_MEMORY_KIB", "256")
            .env("IDM_ARGON2_ITERATIONS", "1")
            .env("IDM_LOG_FORMAT", "json")
            .env("IDM_LOG_LEVEL", "debug")
            .env("IDM_DB_POOL_TIMEOUT_MS", "2000")
            .env("IDM_WORKERS", "2")
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&stdout_path).unwrap())
            .stderr(std::fs::File::create(&log_path).unwrap());
        if !opts.generated_admin_password {
            cmd.env("IDM_BOOTSTRAP_ADMIN_PASSWORD", ADMIN_PASSWORD);
        }
        for (k, v) in &opts.env {
            cmd.env(k, v);
        }
        let child = cmd.spawn().unwrap_or_else(|e| {
            panic!(
                "cannot start {} ({e}); run `cargo build -p idm-server` first",
                server_binary().display()
            )
        });
        let server = TestServer {
            child: Some(child),
            base: format!("http://127.0.0.1:{port}"),
            database_url,
            backend,
            log_path,
            stdout_path,
            _dir: dir,
            http: Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
        };
        server.wait_ready();
        Some(server)
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(r) = self.http.get(format!("{}/health/live", self.base)).send() {
                if r.status().as_u16() == 200 {
                    return;
                }
            }
            if Instant::now() > deadline {
                panic!("server did not start; log:\n{}", self.logs());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The server process's ID (to read its resident memory).
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Resident memory of the server process in KiB (Linux `VmRSS`).
    pub fn resident_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()?)).ok()?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
    }

    /// The value of one sample of `/metrics` (exact series text, e.g.
    /// `idm_password_verifications_total{outcome="failure"}`); 0 when absent.
    pub fn metric(&self, series: &str) -> f64 {
        let text = self.anonymous().get("/metrics").text;
        text.lines()
            .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0.0)
    }

    /// Everything the server logged so far.
    pub fn logs(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// Everything the server printed to stdout so far.
    pub fn stdout(&self) -> String {
        std::fs::read_to_string(&self.stdout_path).unwrap_or_default()
    }

    /// A request builder for `path` (relative to the base), authenticated as the admin.
    pub fn admin(&self) -> Caller<'_> {
        self.as_user("default/admin", ADMIN_PASSWORD)
    }

    /// A caller with explicit Basic credentials.
    pub fn as_user(&self, user: &str, password: &str) -> Caller<'_> {
        Caller {
            server: self,
            auth: Some(format!(
                "Basic {}",
                STANDARD.encode(format!("{user}:{password}"))
            )),
        }
    }

    /// A caller without credentials.
    pub fn anonymous(&self) -> Caller<'_> {
        Caller {
            server: self,
            auth: None,
        }
    }

    /// Sends SIGTERM and waits for the exit status.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        let mut child = self.child.take().unwrap();
        send_sigterm(child.id());
        wait_timeout(&mut child, Duration::from_secs(30))
    }

    /// The HTTP client (for raw requests).
    pub fn http(&self) -> &Client {
        &self.http
    }
}

fn send_sigterm(pid: u32) {
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(pid.to_string())
        .status();
}

fn wait_timeout(child: &mut Child, limit: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            return child.wait().unwrap();
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            send_sigterm(child.id());
            let _ = wait_timeout(&mut child, Duration::from_secs(10));
            let mut s = String::new();
            if let Some(mut out) = child.stdout.take() {
                let _ = out.read_to_string(&mut s);
            }
        }
    }
}

/// Builds and sends requests as one caller.
pub struct Caller<'a> {
    server: &'a TestServer,
    auth: Option<String>,
}

impl Caller<'_> {
    fn url(&self, path: &str) -> String {
        format!("{}{}", self.server.base, path)
    }

    /// Sends a request with an optional raw body and content type.
    pub fn send(
        &self,
        method: &str,
        path: &str,
        body: Option<(&str, Vec<u8>)>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self.server.http.request(method, self.url(path));
        if let Some(auth) = &self.auth {
            req = req.header("Authorization", auth);
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some((content_type, bytes)) = body {
            if !content_type.is_empty() {
                req = req.header("Content-Type", content_type);
            }
            req = req.body(bytes);
        }
        Reply::from(req.send().unwrap())
    }

    /// GET.
    pub fn get(&self, path: &str) -> Reply {
        self.send("GET", path, None, &[])
    }

    /// DELETE.
    pub fn delete(&self, path: &str) -> Reply {
        self.send("DELETE", path, None, &[])
    }

    /// POST a JSON value.
    pub fn post(&self, path: &str, body: &Value) -> Reply {
        self.send(
            "POST",
            path,
            Some(("application/json", body.to_string().into_bytes())),
            &[],
        )
    }

    /// PATCH a JSON value.
    pub fn patch(&self, path: &str, body: &Value) -> Reply {
        self.send(
            "PATCH",
            path,
            Some(("application/json", body.to_string().into_bytes())),
            &[],
        )
    }
}

/// Runs a black-box case on SQLite and on PostgreSQL, as two tests.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $( #[test] fn $name() { if let Some(s) = $crate::TestServer::start($crate::Backend::Sqlite) { super::$name(&s) } } )*
        }
        mod postgres {
            $( #[test] fn $name() { if let Some(s) = $crate::TestServer::start($crate::Backend::Postgres) { super::$name(&s) } } )*
        }
    };
}

/// Runs `idm-server <args>` offline against `database_url` with the kit's secrets (the CLI
/// tests): success, standard output, standard error. `env` adds variables.
pub fn cli(database_url: &str, args: &[&str], env: &[(&str, &str)]) -> (bool, String, String) {
    let mut cmd = Command::new(server_binary());
    cmd.args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("IDM_DATABASE_URL", database_url)
        .env("IDM_JWT_SECRET", JWT_SECRET)
        .env("IDM_ENCRYPTION_KEY", ENCRYPTION_KEY)
        .env("IDM_ARGON2_MEMORY_KIB", "256")
        .env("IDM_ARGON2_ITERATIONS", "1")
        .env("IDM_LOG_LEVEL", "warn");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("the server binary runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs one SQL statement on a server's database behind its back (`sqlite3` or `psql`), as an
/// attacker or a careless operator would.
pub fn sql(s: &TestServer, statement: &str) {
    let out = if let Some(path) = s.database_url.strip_prefix("sqlite://") {
        Command::new("sqlite3").args([path, statement]).output()
    } else {
        Command::new("psql")
            .args([
                s.database_url.as_str(),
                "-v",
                "ON_ERROR_STOP=1",
                "-c",
                statement,
            ])
            .output()
    }
    .expect("the database shell runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
