//! `lianxin device import`: an office's ledger brought in, with the user's corrections to the
//! mapping and progress on long files.

use std::path::Path;

use lianxin_server::device::Device;
use lianxin_shared::ledger::Target;

/// Parses `--map HEADER=FIELD` (or `HEADER=` to ignore a column), imports, prints the report.
pub fn import(
    device: &mut Device,
    file: &Path,
    unit: &str,
    dry_run: bool,
    map: &[String],
    now: i64,
) -> anyhow::Result<()> {
    let mut corrections = Vec::new();
    for m in map {
        let (header, field) = m
            .split_once('=')
            .ok_or_else(|| anyhow::anyhow!("--map takes HEADER=FIELD, not {m}"))?;
        let target = match field.trim() {
            "" => None,
            f => Some(
                Target::from_code(f)
                    .ok_or_else(|| anyhow::anyhow!("unknown field {f} in --map {m}"))?,
            ),
        };
        corrections.push((header.to_string(), target));
    }
    let mut shown = 0;
    let report =
        device.import_ledger(file, unit, &corrections, dry_run, now, &mut |done, all| {
            // Long files say how far they are, a tenth at a time.
            if all >= 200 && done * 10 / all.max(1) > shown {
                shown = done * 10 / all.max(1);
                eprintln!("{done}/{all} rows");
            }
        })?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}
