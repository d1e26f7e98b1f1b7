//! `cargo run -p xtask -- bundle`: builds the browser app into `dist/`.
//!
//! 1. `cargo build -p lianxin-app --release --target wasm32-unknown-unknown` (same target/);
//! 2. JavaScript bindings with the wasm-bindgen library pinned to the app's exact version
//!    (no downloaded tool; Debian's wasm-opt is deliberately not used, see FACTS.md);
//! 3. the static files of `app/static/` copied beside them;
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
    let status = Command::new(&cargo)
        .current_dir(&root)
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
        .remove_name_section(true)
        .generate(dist.join("pkg"))
        .map_err(|e| anyhow::anyhow!("wasm-bindgen: {e}"))?;
    // The shell's version: a hash of the built files, written into the service worker so a
    // new build is a new cache (and an unchanged build is not).
    let mut version = Fnv::default();
    for file in ["pkg/lianxin_app.js", "pkg/lianxin_app_bg.wasm"] {
        version.write(&std::fs::read(dist.join(file))?);
    }
    for entry in std::fs::read_dir(root.join("app/static"))? {
        let entry = entry?;
        version.write(&std::fs::read(entry.path())?);
    }
    let version = format!("{:016x}", version.0);
    for entry in std::fs::read_dir(root.join("app/static"))? {
        let entry = entry?;
        let text = std::fs::read(entry.path())?;
        let text = if entry.file_name() == "sw.js" {
            String::from_utf8(text)?
                .replace("__VERSION__", &version)
                .into_bytes()
        } else {
            text
        };
        std::fs::write(dist.join(entry.file_name()), text)?;
    }
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

/// FNV-1a, enough to tell builds apart.
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv {
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x100_0000_01b3);
        }
    }
}
