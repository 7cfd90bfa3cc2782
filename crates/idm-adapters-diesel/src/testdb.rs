//! Throwaway databases for tests: a fresh SQLite file, or a fresh database on a PostgreSQL
//! server that the test process starts on first use (or the one `IDM_TEST_DATABASE_URL` names).
//!
//! The server is one per test binary: `initdb` into a temporary directory (as the `postgres`
//! OS user when running as root), `pg_ctl start` on 127.0.0.1 and a free port, and a small
//! shell watchdog that stops it with `pg_ctl stop -m immediate` and removes the directory once
//! the test process has exited. Every [`fresh_postgres_url`] call creates a new empty database.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};

/// Where the PostgreSQL server to create test databases on is reachable.
#[derive(Debug)]
struct Server {
    /// URL of the maintenance database (`postgres`), used to `CREATE DATABASE`.
    admin_url: String,
    /// `scheme://user[:password]@host:port`, without the database part.
    base: String,
    /// Query string of the URL, kept for every fresh database (`?sslmode=…`).
    query: String,
}

static SERVER: OnceLock<Result<Server, String>> = OnceLock::new();
static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A new, empty SQLite database file in a fresh temporary directory; keep the directory alive
/// as long as the database is used.
pub fn fresh_sqlite_url() -> (tempfile::TempDir, String) {
    let dir = match tempfile::Builder::new().prefix("idm-sqlite-").tempdir() {
        Ok(dir) => dir,
        Err(e) => panic!("cannot create a temporary directory for SQLite: {e}"),
    };
    let url = format!("sqlite://{}", dir.path().join("idm.sqlite3").display());
    (dir, url)
}

/// The URL of a new, empty PostgreSQL database, or `None` (with the reason on stderr) when no
/// server can be had. Under `CI=true` a missing server panics instead: there a PostgreSQL test
/// must fail, never skip.
pub fn fresh_postgres_url() -> Option<String> {
    let server = SERVER.get_or_init(|| match std::env::var("IDM_TEST_DATABASE_URL") {
        Ok(url) if !url.trim().is_empty() => external_server(url.trim()),
        _ => start_server(),
    });
    let outcome = server
        .as_ref()
        .map_err(String::clone)
        .and_then(create_database);
    match outcome {
        Ok(url) => Some(url),
        Err(why) if is_ci() => panic!("PostgreSQL tests cannot run under CI: {why}"),
        Err(why) => {
            eprintln!("skipping PostgreSQL test: {why}");
            None
        }
    }
}

fn is_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v.eq_ignore_ascii_case("true") || v == "1")
}

fn create_database(server: &Server) -> Result<String, String> {
    let name = format!(
        "idm_test_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or_default()
    );
    let mut conn = PgConnection::establish(&server.admin_url)
        .map_err(|e| format!("cannot connect to the test server: {e}"))?;
    conn.batch_execute(&format!("CREATE DATABASE {name}"))
        .map_err(|e| format!("cannot create a test database: {e}"))?;
    Ok(format!("{}/{name}{}", server.base, server.query))
}

/// Splits a user-supplied URL into the server part and query; creates databases beside its one.
fn external_server(url: &str) -> Result<Server, String> {
    let (without_query, query) = match url.split_once('?') {
        Some((u, q)) => (u, format!("?{q}")),
        None => (url, String::new()),
    };
    let Some((scheme, rest)) = without_query.split_once("://") else {
        return Err("IDM_TEST_DATABASE_URL is not a postgres:// URL".into());
    };
    let authority = rest.split('/').next().unwrap_or_default();
    let base = format!("{scheme}://{authority}");
    Ok(Server {
        admin_url: url.to_owned(),
        base,
        query,
    })
}

/// Finds a PostgreSQL binary on PATH or in the Debian location.
fn binary(name: &str) -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH")
        .map(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join(name))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    on_path
        .into_iter()
        .chain(
            [15, 16, 17, 14].map(|v| PathBuf::from(format!("/usr/lib/postgresql/{v}/bin/{name}"))),
        )
        .find(|p| p.is_file())
}

fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// A command that runs `program` as the `postgres` OS user when we are root (PostgreSQL
/// refuses to run as root), as ourselves otherwise.
fn as_server_user(root: bool, program: &Path) -> Command {
    if root {
        let mut cmd = Command::new("runuser");
        cmd.args(["-u", "postgres", "--"]).arg(program);
        cmd
    } else {
        Command::new(program)
    }
}

fn run(mut cmd: Command, what: &str) -> Result<(), String> {
    let status = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map_err(|e| format!("cannot run {what}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{what} failed ({status})"))
    }
}

fn start_server() -> Result<Server, String> {
    let initdb = binary("initdb")
        .ok_or("initdb not found (install PostgreSQL or set IDM_TEST_DATABASE_URL)")?;
    let pg_ctl = binary("pg_ctl")
        .ok_or("pg_ctl not found (install PostgreSQL or set IDM_TEST_DATABASE_URL)")?;
    let root = running_as_root();
    let dir = tempfile::Builder::new()
        .prefix("idm-pg-")
        .tempdir()
        .map_err(|e| format!("cannot create a temporary directory: {e}"))?
        .keep();
    if root {
        let mut chown = Command::new("chown");
        chown.arg("-R").arg("postgres:").arg(&dir);
        run(
            chown,
            "chown of the PostgreSQL directory to the postgres user",
        )?;
    }
    let data = dir.join("data");
    let log = dir.join("server.log");

    let mut cmd = as_server_user(root, &initdb);
    cmd.arg("-D")
        .arg(&data)
        .args(["-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"]);
    cmd.env("LC_ALL", "C");
    run(cmd, "initdb")?;

    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free port: {e}"))?;
    let options = format!(
        "-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories={} -c fsync=off \
         -c synchronous_commit=off -c full_page_writes=off -c max_connections=200",
        dir.display()
    );
    let mut cmd = as_server_user(root, &pg_ctl);
    cmd.arg("-D")
        .arg(&data)
        .arg("-l")
        .arg(&log)
        .arg("-o")
        .arg(&options)
        .args(["-w", "-t", "60", "start"]);
    if let Err(e) = run(cmd, "pg_ctl start") {
        let tail = std::fs::read_to_string(&log).unwrap_or_default();
        let tail: String = tail.lines().rev().take(5).collect::<Vec<_>>().join(" | ");
        return Err(format!("{e}: {tail}"));
    }
    spawn_watchdog(root, &pg_ctl, &data, &dir);

    let base = format!("postgres://postgres@127.0.0.1:{port}");
    Ok(Server {
        admin_url: format!("{base}/postgres"),
        base,
        query: String::new(),
    })
}

/// Stops the server and removes its directory once this test process has exited (statics
/// are never dropped, so nothing inside the process could do it).
fn spawn_watchdog(root: bool, pg_ctl: &Path, data: &Path, dir: &Path) {
    let stop = format!(
        "{}'{}' -D '{}' stop -m immediate",
        if root { "runuser -u postgres -- " } else { "" },
        pg_ctl.display(),
        data.display()
    );
    let script = format!(
        "while kill -0 {pid} 2>/dev/null; do sleep 1; done; {stop} >/dev/null 2>&1; rm -rf '{dir}'",
        pid = std::process::id(),
        dir = dir.display()
    );
    let spawned = Command::new("sh")
        .arg("-c")
        .arg(script)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    if let Err(e) = spawned {
        eprintln!(
            "cannot start the PostgreSQL watchdog; stop the server in {} by hand: {e}",
            dir.display()
        );
    }
}

/// Runs `sql` on the test server's maintenance database, for tests that simulate outages
/// (e.g. `ALTER DATABASE … ALLOW_CONNECTIONS false` and terminating its backends).
pub fn admin_execute(sql: &str) -> Result<(), String> {
    let server = SERVER
        .get()
        .ok_or("no test server started yet")?
        .as_ref()
        .map_err(String::clone)?;
    let mut conn = PgConnection::establish(&server.admin_url)
        .map_err(|e| format!("cannot connect to the test server: {e}"))?;
    conn.batch_execute(sql)
        .map_err(|e| format!("admin SQL failed: {e}"))
}
