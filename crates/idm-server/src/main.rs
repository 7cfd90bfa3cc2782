//! `idm-server`: the identity service binary and its admin CLI.

mod config;
mod keys;
mod logging;
mod serve;
mod wiring;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// mimalloc returns freed argon2 blocks (19 MiB each) to the OS, so a burst of logins does not
/// leave the process at its peak size.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// A nevisIDM-compatible identity service.
#[derive(Parser)]
#[command(name = "idm-server", version, about)]
struct Cli {
    /// A TOML configuration file (also `IDM_CONFIG`); `IDM_*` environment variables override it.
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the service (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Validate the configuration (and reach the database) and exit non-zero on a problem.
    CheckConfig,
    /// The delivery outbox: parts of generated passwords waiting for out-of-band delivery.
    Outbox {
        #[command(subcommand)]
        command: OutboxCommand,
    },
    /// Break-glass for operators (SPEC §10.5); works with or without the service running.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// The history (SPEC §13): verify its hash chain, export it, prune it.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Check the hash chain; exit non-zero naming the first modified, inserted or deleted event.
    Verify,
    /// Write the events as NDJSON to standard output.
    Export {
        /// Only events at or after this RFC 3339 time.
        #[arg(long)]
        from: Option<String>,
    },
    /// Delete events older than IDM_AUDIT_RETENTION_DAYS (0 = keep everything).
    Prune,
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Set the user's Password credential `active` (reason `unlock`, failures 0).
    Unlock {
        /// `<clientExtId>/<loginId>`
        user: String,
    },
    /// Give the user a new password generated per its policy and print it once.
    ResetPassword {
        /// `<clientExtId>/<loginId>`
        user: String,
    },
}

#[derive(Subcommand)]
enum OutboxCommand {
    /// List pending deliveries, oldest first; payloads stay sealed unless --reveal is given.
    List {
        /// Decrypt and print the payloads (the password parts meant for the users).
        #[arg(long)]
        reveal: bool,
        /// At most this many deliveries.
        #[arg(long, default_value_t = 100)]
        limit: u32,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let settings = match config::Settings::load(cli.config.as_deref()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("idm-server: configuration error: {e:#}");
            return ExitCode::from(2);
        }
    };
    logging::init(settings.log_format, &settings.log_level);
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve::run(settings),
        Command::Migrate => serve::migrate(&settings),
        Command::CheckConfig => serve::check_config(&settings),
        Command::Outbox {
            command: OutboxCommand::List { reveal, limit },
        } => serve::outbox_list(&settings, limit, reveal),
        Command::Admin {
            command: AdminCommand::Unlock { user },
        } => serve::admin_unlock(&settings, &user),
        Command::Admin {
            command: AdminCommand::ResetPassword { user },
        } => serve::admin_reset_password(&settings, &user),
        Command::Audit {
            command: AuditCommand::Verify,
        } => serve::audit_verify(&settings),
        Command::Audit {
            command: AuditCommand::Export { from },
        } => serve::audit_export(&settings, from.as_deref()),
        Command::Audit {
            command: AuditCommand::Prune,
        } => serve::audit_prune(&settings),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("idm-server: {e:#}");
            ExitCode::FAILURE
        }
    }
}
