//! Architecture rule (SPEC §13): use cases state changes through `write::Tx::apply`, which
//! journals them; none calls a repository's write method itself. This test reads the use-case
//! sources and fails on a direct write, so a new use case cannot quietly bypass the history.

use std::path::Path;

/// Repository methods that change state; only `src/write.rs` may call them.
const WRITES: &[&str] = &[
    ".insert(",
    ".update(",
    ".delete(",
    ".upsert_grant(",
    ".delete_grant(",
    ".enqueue(",
    ".record_login(",
    ".clear_default(",
];

#[test]
fn use_cases_write_only_through_the_write_path() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/usecases");
    let mut offenders = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("usecases dir") {
        let path = entry.expect("entry").path();
        if path.extension().and_then(|e| e.to_str()) != Some("rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("source");
        // Test modules may set up mocks with these names; only production code counts.
        let production = text.split("#[cfg(test)]").next().unwrap_or_default();
        let lines: Vec<&str> = production
            .lines()
            .map(|l| l.split("//").next().unwrap_or_default())
            .collect();
        for (n, code) in lines.iter().enumerate() {
            // A call chain may span lines: `repos\n    .credentials()\n    .update(…)`.
            let window = lines[n.saturating_sub(3)..=n].join(" ");
            if window.contains("repos") && WRITES.iter().any(|w| code.contains(w)) {
                offenders.push(format!("{}:{}: {}", path.display(), n + 1, code.trim()));
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "direct repository writes outside the write path:\n{}",
        offenders.join("\n")
    );
}

#[test]
fn the_rule_sees_a_direct_write() {
    // The detector itself: a line like this one in a use case would be reported.
    let line = "            repos.credentials().update(&cred, expected)?;";
    assert!(line.contains("repos") && WRITES.iter().any(|w| line.contains(w)));
}
