//! `cargo run -p xtask -- bundle`: builds the browser app into `dist/`.
//!
//! 1. `cargo build -p lianxin-app --profile wasm --target wasm32-unknown-unknown` (same
//!    target/) with `--cfg erase_components` (Leptos erases each view's type: the wasm is
//!    ~7 % smaller, see ARCHITECTURE.md "Measured");
//! 2. JavaScript bindings with the wasm-bindgen library pinned to the app's exact version
//!    (no downloaded tool; Debian's wasm-opt is deliberately not used, see FACTS.md);
//! 3. the static files of `app/static/` copied beside them; the wasm, its glue, `boot.js` and
//!    `style.css` renamed after their content (`style-0123456789abcdef.css`) and the names
//!    written into `index.html`, `boot.js`, the glue and the service worker's list;
//! 4. a gzip and a brotli copy of every file, which the server sends to browsers that accept
//!    them (brotli first).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};

fn main() -> anyhow::Result<()> {
    let task = std::env::args().nth(1).unwrap_or_default();
    match task.as_str() {
        "bundle" => bundle(),
        _ => bail!("usage: cargo run -p xtask -- bundle"),
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

fn bundle() -> anyhow::Result<()> {
    let root = root();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    // For the wasm target only (with --target, host builds such as proc macros do not see
    // RUSTFLAGS); kept beside any flags already set.
    let rustflags = match std::env::var("RUSTFLAGS") {
        Ok(flags) if !flags.trim().is_empty() => format!("{flags} --cfg erase_components"),
        _ => "--cfg erase_components".to_string(),
    };
    let status = Command::new(&cargo)
        .current_dir(&root)
        .env("RUSTFLAGS", rustflags)
        .args([
            "build",
            "-p",
            "lianxin-app",
            "--profile",
            "wasm",
            "--target",
            "wasm32-unknown-unknown",
        ])
        .status()
        .context("running cargo")?;
    if !status.success() {
        bail!("the app did not build");
    }
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| root.join("target"));
    let wasm = target.join("wasm32-unknown-unknown/wasm/lianxin_app.wasm");
    let dist = root.join("dist");
    let _ = std::fs::remove_dir_all(&dist);
    std::fs::create_dir_all(dist.join("pkg"))?;
    wasm_bindgen_cli_support::Bindgen::new()
        .input_path(&wasm)
        .web(true)?
        .typescript(false)
        .omit_default_module_path(false)
        // Kept only to profile (`LIANXIN_KEEP_NAMES=1`, see e2e/examples/app_bench.rs).
        .remove_name_section(std::env::var_os("LIANXIN_KEEP_NAMES").is_none())
        .generate(dist.join("pkg"))
        .map_err(|e| anyhow::anyhow!("wasm-bindgen: {e}"))?;
    // Content-hashed names for what changes with a build (the wasm, its glue, the boot script,
    // the style sheet): served as immutable, and a new version's service worker copies the
    // files whose names it already holds from the old cache instead of downloading them.
    // index.html, sw.js, the manifest and the icon keep their names (small, revalidated).
    let wasm_name = hashed(&dist.join("pkg"), "lianxin_app_bg.wasm", |b| b)?;
    let glue_name = hashed(&dist.join("pkg"), "lianxin_app.js", |text| {
        replace_once(text, "'lianxin_app_bg.wasm'", &format!("'{wasm_name}'"))
    })?;
    let statics = root.join("app/static");
    let copy = |name: &str| -> anyhow::Result<()> {
        std::fs::copy(statics.join(name), dist.join(name))
            .with_context(|| format!("copying {name}"))?;
        Ok(())
    };
    for name in [
        "boot.js",
        "style.css",
        "index.html",
        "manifest.webmanifest",
        "icon.svg",
    ] {
        copy(name)?;
    }
    let boot_name = hashed(&dist, "boot.js", |text| {
        replace_once(text, "/pkg/lianxin_app.js", &format!("/pkg/{glue_name}"))
    })?;
    let style_name = hashed(&dist, "style.css", |b| b)?;
    let index = std::fs::read(dist.join("index.html"))?;
    let index = replace_once(index, "\"/style.css\"", &format!("\"/{style_name}\""));
    let index = replace_once(index, "\"/boot.js\"", &format!("\"/{boot_name}\""));
    std::fs::write(dist.join("index.html"), &index)?;
    let shell = [
        "/".to_string(),
        "/index.html".into(),
        format!("/{boot_name}"),
        format!("/{style_name}"),
        "/manifest.webmanifest".into(),
        "/icon.svg".into(),
        format!("/pkg/{glue_name}"),
        format!("/pkg/{wasm_name}"),
    ];
    // The shell's version: a hash of every file in it, so a new build is a new cache (and an
    // unchanged build is not).
    let mut all = Vec::new();
    for path in &shell[1..] {
        all.extend(std::fs::read(dist.join(&path[1..]))?);
    }
    let version = content_hash(&all);
    let list = shell
        .iter()
        .map(|p| format!("\"{p}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let sw = std::fs::read_to_string(statics.join("sw.js"))?;
    if !sw.contains("\"__SHELL__\"") || !sw.contains("__VERSION__") {
        bail!("app/static/sw.js lost its __SHELL__ or __VERSION__ placeholder");
    }
    let sw = sw
        .replace("\"__SHELL__\"", &list)
        .replace("__VERSION__", &version);
    std::fs::write(dist.join("sw.js"), sw)?;
    println!("app shell version {version}");
    let mut report = Vec::new();
    compress_all(&dist, &mut report)?;
    for (path, raw, gz, br) in report {
        println!("{path:<40} {raw:>9} bytes, gzip {gz:>8}, brotli {br:>8}");
    }
    Ok(())
}

fn compress_all(dir: &Path, report: &mut Vec<(String, usize, usize, usize)>) -> anyhow::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            compress_all(&path, report)?;
            continue;
        }
        if path.extension().is_some_and(|e| e == "gz" || e == "br") {
            continue;
        }
        let bytes = std::fs::read(&path)?;
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        std::io::Write::write_all(&mut encoder, &bytes)?;
        let gz = encoder.finish()?;
        let mut gz_path = path.clone().into_os_string();
        gz_path.push(".gz");
        std::fs::write(&gz_path, &gz)?;
        // Brotli (quality 11, 4 MiB window) for browsers that accept it: smaller than gzip.
        let mut br = Vec::new();
        {
            let mut writer = brotli::CompressorWriter::new(&mut br, 64 * 1024, 11, 22);
            std::io::Write::write_all(&mut writer, &bytes)?;
        }
        let mut br_path = path.clone().into_os_string();
        br_path.push(".br");
        std::fs::write(&br_path, &br)?;
        report.push((path.display().to_string(), bytes.len(), gz.len(), br.len()));
    }
    Ok(())
}

/// The first 16 hex digits of the SHA-256 of `bytes`: a file's content in its name.
fn content_hash(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(&sha2::Sha256::digest(bytes)[..8])
}

/// Rewrites `dir/name` with `edit`, then renames it `stem-HASH.ext` after its content;
/// returns the new name.
fn hashed(dir: &Path, name: &str, edit: impl FnOnce(Vec<u8>) -> Vec<u8>) -> anyhow::Result<String> {
    let bytes = edit(std::fs::read(dir.join(name)).with_context(|| format!("reading {name}"))?);
    let (stem, ext) = name
        .rsplit_once('.')
        .context("a file name with an extension")?;
    let new = format!("{stem}-{}.{ext}", content_hash(&bytes));
    std::fs::write(dir.join(&new), &bytes)?;
    std::fs::remove_file(dir.join(name))?;
    Ok(new)
}

/// `text` with the one occurrence of `from` replaced; panics at build time (not in a browser)
/// when the generated file no longer has it.
fn replace_once(text: Vec<u8>, from: &str, to: &str) -> Vec<u8> {
    let text = String::from_utf8(text).unwrap_or_default();
    assert_eq!(
        text.matches(from).count(),
        1,
        "expected {from} once in a bundled file"
    );
    text.replacen(from, to, 1).into_bytes()
}
