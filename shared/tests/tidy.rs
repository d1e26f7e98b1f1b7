//! House rules, checked over the whole workspace's Rust sources:
//! - every source file opens with a `//!` line saying what it owns;
//! - the server never panics on a path it runs: no `unwrap()` or `expect(` in `server/src`
//!   outside `#[cfg(test)]` modules (benchmark binaries under `src/bin` included);
//! - no source file is longer than 800 lines unless a `// tidy: long because …` comment says
//!   why.

use std::path::{Path, PathBuf};

const MAX_LINES: usize = 800;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("shared/ sits in the workspace")
        .to_path_buf()
}

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().to_string();
        if path.is_dir() {
            if !matches!(name.as_str(), "target" | "node_modules" | "dist" | ".git") {
                sources(&path, out);
            }
        } else if name.ends_with(".rs") {
            out.push(path);
        }
    }
}

fn all_sources() -> Vec<(String, String)> {
    let root = workspace();
    let mut files = Vec::new();
    for krate in ["shared", "server", "app", "e2e", "xtask"] {
        sources(&root.join(krate), &mut files);
    }
    assert!(files.len() > 40, "found only {} sources", files.len());
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("readable source");
            let rel = p.strip_prefix(&root).unwrap_or(&p).display().to_string();
            (rel, text)
        })
        .collect()
}

#[test]
fn every_source_file_says_what_it_owns() {
    let missing: Vec<String> = all_sources()
        .into_iter()
        .filter(|(_, text)| !text.trim_start().starts_with("//!"))
        .map(|(path, _)| path)
        .collect();
    assert!(missing.is_empty(), "no //! line: {missing:#?}");
}

/// The code of a file before its `#[cfg(test)]` module, if it has one.
fn outside_tests(text: &str) -> &str {
    match text.find("#[cfg(test)]") {
        Some(i) => &text[..i],
        None => text,
    }
}

#[test]
fn the_server_has_no_unwrap_or_expect_outside_tests() {
    let mut found = Vec::new();
    for (path, text) in all_sources() {
        if !path.starts_with("server/src") {
            continue;
        }
        for (n, line) in outside_tests(&text).lines().enumerate() {
            let code = line.split("//").next().unwrap_or_default();
            if code.contains(".unwrap()") || code.contains(".expect(") {
                found.push(format!("{path}:{}: {}", n + 1, line.trim()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "the server may not panic here: {found:#?}"
    );
}

#[test]
fn long_files_say_why() {
    let long: Vec<String> = all_sources()
        .into_iter()
        .filter(|(_, text)| {
            text.lines().count() > MAX_LINES && !text.contains("// tidy: long because")
        })
        .map(|(path, text)| format!("{path}: {} lines", text.lines().count()))
        .collect();
    assert!(
        long.is_empty(),
        "over {MAX_LINES} lines with no reason given: {long:#?}"
    );
}

/// The rules above would pass on nothing at all; they must see the files they judge.
#[test]
fn the_rules_see_the_code_they_judge() {
    let files = all_sources();
    for expected in [
        "server/src/sync.rs",
        "shared/src/kit/schema.rs",
        "app/src/lib.rs",
    ] {
        assert!(
            files.iter().any(|(p, _)| p == expected),
            "{expected} not read"
        );
    }
    assert!(outside_tests("a\n#[cfg(test)]\nb.unwrap()").ends_with("a\n"));
}
