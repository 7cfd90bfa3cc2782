//! Start-up, serving and shutdown, plus the one-shot subcommands.

use actix_web::HttpServer;
use anyhow::Context;
use idm_ports::usecases::{BreakGlass, Verification};
use idm_ports::AppError;

use crate::config::{redact_url, Settings};
use crate::wiring;

/// `idm-server serve`: migrate, bootstrap, serve until SIGTERM/SIGINT, drain, exit 0.
pub fn run(settings: Settings) -> anyhow::Result<()> {
    let db = wiring::open_database(&settings)?;
    db.migrate().context("running database migrations")?;
    let service = wiring::build(&settings, db.clone())?;
    service.verify_encryption_key()?;
    if let Some(report) = service
        .bootstrapper
        .run(&wiring::bootstrap_settings(&settings))
        .map_err(|e| anyhow::anyhow!("bootstrapping the empty database: {e}"))?
    {
        tracing::info!(admin = %report.admin_login, "bootstrapped an empty database: client 'default' with its Root user");
        if let Some(password) = report.generated_password {
            // Printed once, to the terminal only; it never reaches a log line.
            println!(
                "\n  idm bootstrap: Root user '{}' of client 'default' created.\n  Generated password (shown only now): {}\n",
                report.admin_login, password
            );
        }
    }
    let state = service.state;
    let workers = if settings.workers == 0 {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
    } else {
        settings.workers
    };
    let listen = settings.listen.clone();
    actix_web::rt::System::new().block_on(async move {
        let server = HttpServer::new(move || idm_http::app(state.clone()))
            .workers(workers)
            .shutdown_timeout(settings.shutdown_timeout_seconds)
            .bind(&listen)
            .with_context(|| format!("binding {listen}"))?;
        for addr in server.addrs() {
            tracing::info!(%addr, database = %redact_url(&settings.database_url), "idm-server listening");
        }
        // actix-server stops accepting on SIGTERM/SIGINT and waits for in-flight requests
        // (bounded by the shutdown timeout) before this future resolves.
        server.run().await.context("serving HTTP")?;
        tracing::info!("idm-server stopped");
        Ok::<_, anyhow::Error>(())
    })?;
    drop(db);
    Ok(())
}

/// `idm-server migrate`.
pub fn migrate(settings: &Settings) -> anyhow::Result<()> {
    let db = wiring::open_database(settings)?;
    db.migrate().context("running database migrations")?;
    println!(
        "migrations applied to {}",
        redact_url(&settings.database_url)
    );
    Ok(())
}

/// `idm-server check-config`: the configuration parses, the secrets resolve, the database answers.
pub fn check_config(settings: &Settings) -> anyhow::Result<()> {
    let db = wiring::open_database(settings)?;
    db.migrate().context("running database migrations")?;
    wiring::build(settings, db.clone())?.verify_encryption_key()?;
    idm_ports::repos::HealthCheck::check(&*db)
        .map_err(|e| anyhow::anyhow!("the database does not answer: {e}"))?;
    println!("configuration ok: {settings:?}");
    Ok(())
}

/// `idm-server outbox list`: pending deliveries, opened only with `--reveal`.
pub fn outbox_list(settings: &Settings, limit: u32, reveal: bool) -> anyhow::Result<()> {
    let db = wiring::open_database(settings)?;
    db.migrate().context("running database migrations")?;
    let service = wiring::build(settings, db)?;
    service.verify_encryption_key()?;
    let pending = service
        .outbox
        .pending_deliveries(limit, reveal)
        .map_err(|e| anyhow::anyhow!("reading the outbox: {e}"))?;
    if pending.is_empty() {
        println!("no pending deliveries");
    }
    for p in pending {
        let d = &p.delivery;
        let payload = p.payload.as_deref().unwrap_or("<sealed; use --reveal>");
        println!(
            "{}\t{}\t{}\tuser={}\tcredential={}\t{}",
            d.id,
            d.created.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            d.kind.as_str(),
            d.user_id,
            d.credential_id,
            payload
        );
    }
    Ok(())
}

/// Opens the configured database for an offline command: migrated, key verified.
fn offline_service(settings: &Settings) -> anyhow::Result<wiring::Service> {
    let db = wiring::open_database(settings)?;
    db.migrate().context("running database migrations")?;
    let service = wiring::build(settings, db)?;
    service.verify_encryption_key()?;
    Ok(service)
}

/// `idm-server admin unlock <clientExtId>/<loginId>` (SPEC §10.5).
pub fn admin_unlock(settings: &Settings, user: &str) -> anyhow::Result<()> {
    let service = offline_service(settings)?;
    match service.operator.unlock(user) {
        Ok(BreakGlass::Unlocked { changed: true }) => {
            println!("{user}: Password credential unlocked (state active)");
            Ok(())
        }
        Ok(_) => {
            println!("{user}: Password credential was already active; nothing changed");
            Ok(())
        }
        Err(e) => anyhow::bail!("{user}: {}", operator_error(&e)),
    }
}

/// `idm-server admin reset-password <clientExtId>/<loginId>` (SPEC §10.5): prints the new
/// password once, on standard output only.
pub fn admin_reset_password(settings: &Settings, user: &str) -> anyhow::Result<()> {
    let service = offline_service(settings)?;
    match service.operator.reset_password(user) {
        Ok(BreakGlass::NewPassword(password)) => {
            println!("{user}: new password (shown only now): {password}");
            Ok(())
        }
        Ok(other) => anyhow::bail!("{user}: unexpected outcome {other:?}"),
        Err(e) => anyhow::bail!("{user}: {}", operator_error(&e)),
    }
}

/// A use-case error as an operator reads it: the SPEC message, never internals.
fn operator_error(e: &AppError) -> String {
    match e {
        AppError::Domain(d) => d.to_string(),
        AppError::Unavailable | AppError::Busy => "the database is not available".into(),
        AppError::BadBody(_) | AppError::Internal(_) => format!("failed: {e}"),
    }
}

/// `idm-server audit verify` (SPEC §13).
pub fn audit_verify(settings: &Settings) -> anyhow::Result<()> {
    let service = offline_service(settings)?;
    match service
        .audit
        .verify()
        .map_err(|e| anyhow::anyhow!("{}", operator_error(&e)))?
    {
        Verification::Intact { events } => {
            println!("history intact: {events} events verified");
            Ok(())
        }
        Verification::Broken { seq, reason } => {
            anyhow::bail!("history broken at event {seq}: {reason}")
        }
    }
}

/// `idm-server audit export [--from T]`: NDJSON on standard output.
pub fn audit_export(settings: &Settings, from: Option<&str>) -> anyhow::Result<()> {
    use std::io::Write;
    let from = from
        .map(|t| {
            chrono::DateTime::parse_from_rfc3339(t)
                .map(|t| t.with_timezone(&chrono::Utc))
                .with_context(|| format!("--from '{t}' is not an RFC 3339 time"))
        })
        .transpose()?;
    let service = offline_service(settings)?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let count = service
        .audit
        .export(from, |e| {
            let line = idm_http::event_json(e);
            writeln!(out, "{line}")
        })
        .map_err(|e| anyhow::anyhow!("{}", operator_error(&e)))?;
    out.flush()?;
    tracing::info!(count, "history exported");
    Ok(())
}

/// `idm-server audit prune`: applies `IDM_AUDIT_RETENTION_DAYS`.
pub fn audit_prune(settings: &Settings) -> anyhow::Result<()> {
    let service = offline_service(settings)?;
    let pruned = service
        .audit
        .prune(settings.audit_retention_days)
        .map_err(|e| anyhow::anyhow!("{}", operator_error(&e)))?;
    println!(
        "{pruned} events pruned (retention {} days)",
        settings.audit_retention_days
    );
    Ok(())
}
