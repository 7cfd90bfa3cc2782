//! `embed_migrations!` reads `migrations/` at compile time; without this, cargo would not
//! rebuild the crate when only a migration's SQL changes, and the binary would keep the old
//! schema.

fn main() {
    println!("cargo:rerun-if-changed=../../migrations");
}
