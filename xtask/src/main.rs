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
    // `--emit-relocs` keeps the link's relocations, which the split (below) reads to see which
    // function uses which.
    let ours = "--cfg erase_components -Clink-args=--emit-relocs";
    let rustflags = match std::env::var("RUSTFLAGS") {
        Ok(flags) if !flags.trim().is_empty() => format!("{flags} {ours}"),
        _ => ours.to_string(),
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
    // The split: what only the `#[wasm_split]` functions in app/src/lib.rs reach goes into
    // parts (`split_*.wasm`, `chunk_*.wasm`) beside a loader (`__wasm_split.js`); the rest is
    // the main module, which wasm-bindgen then binds as before.
    let split_main = wasm.with_file_name("lianxin_app_split.wasm");
    let pkg = dist.join("pkg");
    let input = std::fs::read(&wasm).with_context(|| format!("reading {}", wasm.display()))?;
    let split = wasm_split_cli_support::transform({
        let mut opts = wasm_split_cli_support::Options::new(&input);
        opts.output_dir = &pkg;
        opts.main_out_path = &split_main;
        opts.main_module = "./lianxin_app.js";
        opts.link_name = "./__wasm_split.js";
        opts
    })
    .map_err(|e| anyhow::anyhow!("wasm-split: {e:?}"))?;
    println!("split into {:?}", split.split_modules);
    wasm_bindgen_cli_support::Bindgen::new()
        .input_path(&split_main)
        .out_name("lianxin_app")
        .keep_lld_exports(true)
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
    let wasm_name = hashed(&pkg, "lianxin_app_bg.wasm", |b| b)?;
    // The split parts: their names (in the loader) after their content, their names section
    // dropped as the main module's is.
    let keep_names = std::env::var_os("LIANXIN_KEEP_NAMES").is_some();
    let mut loader = std::fs::read(pkg.join("__wasm_split.js")).context("reading the loader")?;
    let mut parts = Vec::new();
    for path in &split.split_modules {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .context("a split part's name")?
            .to_string();
        let bytes = std::fs::read(path)?;
        let bytes = if keep_names {
            bytes
        } else {
            without_names(&bytes)?
        };
        std::fs::write(path, &bytes)?;
        let new = hashed(&pkg, &name, |b| b)?;
        loader = replace_once(loader, &format!("\"./{name}\""), &format!("\"./{new}\""));
        parts.push(new);
    }
    // The glue imports the loader and the loader imports the glue: both are named after one
    // hash of both (with the wasm's and the parts' names in them), so either changing renames
    // both.
    let glue = replace_once(
        std::fs::read(pkg.join("lianxin_app.js"))?,
        "'lianxin_app_bg.wasm'",
        &format!("'{wasm_name}'"),
    );
    let both = content_hash(&[glue.as_slice(), loader.as_slice()].concat());
    let glue_name = format!("lianxin_app-{both}.js");
    let loader_name = format!("__wasm_split-{both}.js");
    // The import statement only: the wasm's import module keeps its name.
    let glue = replace_once(
        glue,
        "from \"./__wasm_split.js\"",
        &format!("from \"./{loader_name}\""),
    );
    let loader = replace_once(
        loader,
        "from \"./lianxin_app.js\"",
        &format!("from \"./{glue_name}\""),
    );
    std::fs::write(pkg.join(&glue_name), glue)?;
    std::fs::write(pkg.join(&loader_name), loader)?;
    std::fs::remove_file(pkg.join("lianxin_app.js"))?;
    std::fs::remove_file(pkg.join("__wasm_split.js"))?;
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
        format!("/pkg/{loader_name}"),
    ];
    let shell: Vec<String> = shell
        .into_iter()
        .chain(parts.iter().map(|p| format!("/pkg/{p}")))
        .collect();
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

/// `wasm` without its `name` custom section (function names, for profiling only); every other
/// section copied as it is.
fn without_names(wasm: &[u8]) -> anyhow::Result<Vec<u8>> {
    let mut out = wasm_encoder::Module::new();
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        let payload = payload?;
        if matches!(&payload, wasmparser::Payload::CustomSection(c) if c.name() == "name") {
            continue;
        }
        if let Some((id, range)) = payload.as_section() {
            let data = wasm
                .get(range.start as usize..range.end as usize)
                .context("a truncated section")?;
            out.section(&wasm_encoder::RawSection { id, data });
        }
    }
    Ok(out.finish())
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
