//! XLSX without a spreadsheet library, for the tablet (whose download must stay small): the
//! ledger's tables written as a workbook (a sheet each, the header bold and frozen, dates as
//! real dates, column widths) in a zip of stored entries, and the first sheet of an office's
//! workbook read back as rows of text (its entries stored or deflated, shared and inline
//! strings, numbers — dates come as day numbers, which [`super::read_date`] reads).

use super::{Cell, Table};

fn crc32(data: &[u8]) -> u32 {
    let mut table = [0u32; 256];
    for (i, slot) in table.iter_mut().enumerate() {
        let mut c = i as u32;
        for _ in 0..8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
        }
        *slot = c;
    }
    let mut crc = 0xFFFF_FFFFu32;
    for b in data {
        crc = table[((crc ^ *b as u32) & 0xFF) as usize] ^ (crc >> 8);
    }
    !crc
}

/// A zip of stored (uncompressed) entries.
fn zip(entries: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, data) in entries {
        let offset = out.len() as u32;
        let crc = crc32(data);
        let len = data.len() as u32;
        let header = |sig: u32, central: bool| {
            let mut h = Vec::new();
            h.extend(sig.to_le_bytes());
            if central {
                h.extend(20u16.to_le_bytes()); // made by
            }
            h.extend(20u16.to_le_bytes()); // version needed
            h.extend(0x0800u16.to_le_bytes()); // UTF-8 names
            h.extend(0u16.to_le_bytes()); // stored
            h.extend(0u16.to_le_bytes()); // time
            h.extend(0x21u16.to_le_bytes()); // date: 1980-01-01
            h.extend(crc.to_le_bytes());
            h.extend(len.to_le_bytes());
            h.extend(len.to_le_bytes());
            h.extend((name.len() as u16).to_le_bytes());
            h.extend(0u16.to_le_bytes()); // extra
            if central {
                h.extend(0u16.to_le_bytes()); // comment
                h.extend(0u16.to_le_bytes()); // disk
                h.extend(0u16.to_le_bytes()); // internal attributes
                h.extend(0u32.to_le_bytes()); // external attributes
                h.extend(offset.to_le_bytes());
            }
            h.extend(name.as_bytes());
            h
        };
        out.extend(header(0x0403_4b50, false));
        out.extend(data);
        central.extend(header(0x0201_4b50, true));
    }
    let at = out.len() as u32;
    let size = central.len() as u32;
    out.extend(central);
    out.extend(0x0605_4b50u32.to_le_bytes());
    out.extend([0u8; 4]);
    out.extend((entries.len() as u16).to_le_bytes());
    out.extend((entries.len() as u16).to_le_bytes());
    out.extend(size.to_le_bytes());
    out.extend(at.to_le_bytes());
    out.extend(0u16.to_le_bytes());
    out
}

fn escape(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_control() || *c == '\n' || *c == '\t')
        .map(|c| match c {
            '&' => "&amp;".to_string(),
            '<' => "&lt;".to_string(),
            '>' => "&gt;".to_string(),
            '"' => "&quot;".to_string(),
            other => other.to_string(),
        })
        .collect()
}

fn column(mut i: usize) -> String {
    let mut name = Vec::new();
    i += 1;
    while i > 0 {
        let r = (i - 1) % 26;
        name.push(b'A' + r as u8);
        i = (i - 1) / 26;
    }
    name.reverse();
    String::from_utf8(name).unwrap_or_default()
}

/// Days since 1899-12-30, as spreadsheets count them.
fn serial(d: crate::Date) -> i32 {
    crate::Date::from_ymd(1899, 12, 30).map_or(0, |epoch| epoch.days_until(d))
}

fn sheet_xml(t: &Table) -> String {
    let mut x = String::from(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/></sheetView></sheetViews><cols>"#,
    );
    for (i, c) in t.columns.iter().enumerate() {
        x.push_str(&format!(
            r#"<col min="{n}" max="{n}" width="{}" customWidth="1"/>"#,
            c.width,
            n = i + 1
        ));
    }
    x.push_str("</cols><sheetData>");
    let text = |r: usize, c: usize, s: &str, style: u8| {
        format!(
            r#"<c r="{}{r}" t="inlineStr" s="{style}"><is><t xml:space="preserve">{}</t></is></c>"#,
            column(c),
            escape(s)
        )
    };
    x.push_str(r#"<row r="1">"#);
    for (i, c) in t.columns.iter().enumerate() {
        x.push_str(&text(1, i, &c.header, 1));
    }
    x.push_str("</row>");
    for (n, row) in t.rows.iter().enumerate() {
        let r = n + 2;
        x.push_str(&format!(r#"<row r="{r}">"#));
        for (i, cell) in row.iter().enumerate() {
            match cell {
                Cell::Text(s) => x.push_str(&text(r, i, s, 0)),
                Cell::Int(v) => x.push_str(&format!(r#"<c r="{}{r}"><v>{v}</v></c>"#, column(i))),
                Cell::Date(d) => x.push_str(&format!(
                    r#"<c r="{}{r}" s="2"><v>{}</v></c>"#,
                    column(i),
                    serial(*d)
                )),
                Cell::Empty => {}
            }
        }
        x.push_str("</row>");
    }
    x.push_str("</sheetData></worksheet>");
    x
}

/// The tables as an XLSX workbook, a sheet each.
pub fn write(tables: &[Table]) -> Vec<u8> {
    let names: Vec<String> = tables
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let n: String = t
                .name
                .chars()
                .filter(|c| !"[]:*?/\\".contains(*c))
                .take(31)
                .collect();
            if n.is_empty() {
                format!("Sheet{}", i + 1)
            } else {
                n
            }
        })
        .collect();
    let mut types = String::from(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>"#,
    );
    let mut sheets = String::new();
    let mut rels = String::from(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rIdStyles" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>"#,
    );
    let mut entries = Vec::new();
    for (i, (t, name)) in tables.iter().zip(&names).enumerate() {
        let n = i + 1;
        types.push_str(&format!(
            r#"<Override PartName="/xl/worksheets/sheet{n}.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>"#
        ));
        sheets.push_str(&format!(
            r#"<sheet name="{}" sheetId="{n}" r:id="rId{n}"/>"#,
            escape(name)
        ));
        rels.push_str(&format!(
            r#"<Relationship Id="rId{n}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet{n}.xml"/>"#
        ));
        entries.push((
            format!("xl/worksheets/sheet{n}.xml"),
            sheet_xml(t).into_bytes(),
        ));
    }
    types.push_str("</Types>");
    rels.push_str("</Relationships>");
    let workbook = format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>{sheets}</sheets></workbook>"#
    );
    let styles = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/></numFmts><fonts count="2"><font><sz val="11"/><name val="Calibri"/></font><font><b/><sz val="11"/><name val="Calibri"/></font></fonts><fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills><borders count="1"><border/></borders><cellStyleXfs count="1"><xf/></cellStyleXfs><cellXfs count="3"><xf/><xf fontId="1" applyFont="1"/><xf numFmtId="164" applyNumberFormat="1"/></cellXfs></styleSheet>"#;
    let root_rels = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#;
    let mut all = vec![
        ("[Content_Types].xml".to_string(), types.into_bytes()),
        ("_rels/.rels".to_string(), root_rels.as_bytes().to_vec()),
        ("xl/workbook.xml".to_string(), workbook.into_bytes()),
        ("xl/_rels/workbook.xml.rels".to_string(), rels.into_bytes()),
        ("xl/styles.xml".to_string(), styles.as_bytes().to_vec()),
    ];
    all.extend(entries);
    zip(&all)
}

fn u16_at(b: &[u8], i: usize) -> Option<usize> {
    Some(u16::from_le_bytes(b.get(i..i + 2)?.try_into().ok()?) as usize)
}

fn u32_at(b: &[u8], i: usize) -> Option<usize> {
    Some(u32::from_le_bytes(b.get(i..i + 4)?.try_into().ok()?) as usize)
}

/// The entries of a zip, by name (stored or deflated; at most 64 MiB each when inflated).
fn unzip(b: &[u8]) -> Result<Vec<(String, Vec<u8>)>, String> {
    let bad = || "not an XLSX file".to_string();
    let end = (0..b.len().saturating_sub(21))
        .rev()
        .find(|&i| b[i..].starts_with(&[0x50, 0x4b, 0x05, 0x06]))
        .ok_or_else(bad)?;
    let count = u16_at(b, end + 10).ok_or_else(bad)?;
    let mut at = u32_at(b, end + 16).ok_or_else(bad)?;
    let mut out = Vec::new();
    for _ in 0..count {
        if !b
            .get(at..)
            .is_some_and(|r| r.starts_with(&[0x50, 0x4b, 0x01, 0x02]))
        {
            return Err(bad());
        }
        let method = u16_at(b, at + 10).ok_or_else(bad)?;
        let size = u32_at(b, at + 20).ok_or_else(bad)?;
        let (name_len, extra, comment) = (
            u16_at(b, at + 28).ok_or_else(bad)?,
            u16_at(b, at + 30).ok_or_else(bad)?,
            u16_at(b, at + 32).ok_or_else(bad)?,
        );
        let local = u32_at(b, at + 42).ok_or_else(bad)?;
        let name = String::from_utf8_lossy(b.get(at + 46..at + 46 + name_len).ok_or_else(bad)?)
            .to_string();
        at += 46 + name_len + extra + comment;
        let data_at = local
            + 30
            + u16_at(b, local + 26).ok_or_else(bad)?
            + u16_at(b, local + 28).ok_or_else(bad)?;
        let raw = b.get(data_at..data_at + size).ok_or_else(bad)?;
        let data = match method {
            0 => raw.to_vec(),
            8 => miniz_oxide::inflate::decompress_to_vec_with_limit(raw, 64 << 20)
                .map_err(|_| bad())?,
            _ => return Err("this XLSX uses a compression the tablet cannot read".into()),
        };
        out.push((name, data));
    }
    Ok(out)
}

fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let Some(j) = rest[i..].find(';') else {
            out.push_str(&rest[i..]);
            return out;
        };
        let entity = &rest[i + 1..i + j];
        let c = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            e if e.starts_with("#x") => u32::from_str_radix(&e[2..], 16)
                .ok()
                .and_then(char::from_u32),
            e if e.starts_with('#') => e[1..].parse().ok().and_then(char::from_u32),
            _ => None,
        };
        match c {
            Some(c) => out.push(c),
            None => out.push_str(&rest[i..=i + j]),
        }
        rest = &rest[i + j + 1..];
    }
    out.push_str(rest);
    out
}

/// The texts of every `<t>` inside `xml` (a shared string's runs, an inline string).
fn texts(xml: &str) -> String {
    let mut out = String::new();
    let mut rest = xml;
    while let Some(i) = rest.find("<t") {
        let after = &rest[i + 2..];
        // `<t>` or `<t xml:space=…>`, not `<tab…>`.
        if !(after.starts_with('>') || after.starts_with(' ')) {
            rest = after;
            continue;
        }
        let Some(open_end) = after.find('>') else {
            break;
        };
        if after[..open_end].ends_with('/') {
            rest = &after[open_end + 1..];
            continue;
        }
        let body = &after[open_end + 1..];
        let Some(close) = body.find("</t>") else {
            break;
        };
        out.push_str(&unescape(&body[..close]));
        rest = &body[close + 4..];
    }
    out
}

fn attr<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let key = format!(" {name}=\"");
    let i = tag.find(&key)? + key.len();
    let j = tag[i..].find('"')?;
    Some(&tag[i..i + j])
}

fn column_index(r: &str) -> usize {
    r.chars()
        .take_while(|c| c.is_ascii_alphabetic())
        .fold(0usize, |n, c| {
            n * 26 + (c.to_ascii_uppercase() as usize - 'A' as usize + 1)
        })
        .saturating_sub(1)
}

/// The first sheet of a workbook as rows of text.
pub fn read_first_sheet(bytes: &[u8]) -> Result<Vec<Vec<String>>, String> {
    let entries = unzip(bytes)?;
    let get = |name: &str| {
        entries
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, d)| String::from_utf8_lossy(d).to_string())
    };
    // The first sheet in the workbook's order, through its relationship.
    let workbook = get("xl/workbook.xml").ok_or("not an XLSX file: no workbook")?;
    let rels = get("xl/_rels/workbook.xml.rels").unwrap_or_default();
    let first = workbook
        .find("<sheet ")
        .and_then(|i| {
            let tag = &workbook[i..i + workbook[i..].find('>')?];
            attr(tag, "r:id").map(str::to_string)
        })
        .and_then(|id| {
            let i = rels.find(&format!("Id=\"{id}\""))?;
            let start = rels[..i].rfind('<')?;
            let tag = &rels[start..start + rels[start..].find('>')?];
            attr(tag, "Target").map(|t| {
                let t = t.trim_start_matches('/');
                if t.starts_with("xl/") {
                    t.to_string()
                } else {
                    format!("xl/{t}")
                }
            })
        })
        .unwrap_or_else(|| "xl/worksheets/sheet1.xml".into());
    let sheet = get(&first).ok_or("the workbook has no sheet")?;
    let shared: Vec<String> = get("xl/sharedStrings.xml")
        .map(|x| x.split("<si").skip(1).map(texts).collect())
        .unwrap_or_default();
    let mut rows = Vec::new();
    for row in sheet.split("<row").skip(1) {
        let row = row.split("</row>").next().unwrap_or("");
        let mut cells: Vec<String> = Vec::new();
        let mut rest = row;
        while let Some(i) = rest.find("<c") {
            let after = &rest[i..];
            let Some(tag_end) = after.find('>') else {
                break;
            };
            let tag = &after[..tag_end];
            if !(tag.starts_with("<c ") || tag == "<c") {
                rest = &after[2..];
                continue;
            }
            let (body, next) = if tag.ends_with('/') {
                ("", &after[tag_end + 1..])
            } else {
                let end = after.find("</c>").unwrap_or(after.len());
                (
                    &after[tag_end + 1..end],
                    &after[(end + 4).min(after.len())..],
                )
            };
            let index = attr(tag, "r").map_or(cells.len(), column_index);
            let value = || {
                body.find("<v>").and_then(|i| {
                    body[i + 3..]
                        .find("</v>")
                        .map(|j| unescape(&body[i + 3..i + 3 + j]))
                })
            };
            let text = match attr(tag, "t") {
                Some("s") => value()
                    .and_then(|v| v.parse::<usize>().ok())
                    .and_then(|k| shared.get(k).cloned())
                    .unwrap_or_default(),
                Some("inlineStr") => texts(body),
                _ => {
                    let v = value().unwrap_or_default();
                    match v.parse::<f64>() {
                        Ok(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", f as i64),
                        _ => v,
                    }
                }
            };
            if index < 16_384 {
                if cells.len() <= index {
                    cells.resize(index + 1, String::new());
                }
                cells[index] = text;
            }
            rest = next;
        }
        rows.push(cells);
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::Column;

    #[test]
    fn a_workbook_written_here_reads_back_here() {
        let t = Table {
            name: "台账".into(),
            columns: vec![
                Column {
                    header: "编号".into(),
                    width: 12,
                },
                Column {
                    header: "登记日期".into(),
                    width: 12,
                },
                Column {
                    header: "人数".into(),
                    width: 6,
                },
            ],
            rows: vec![vec![
                Cell::Text("A&B <1>".into()),
                Cell::Date(crate::Date::from_ymd(2026, 3, 5).unwrap()),
                Cell::Int(3),
            ]],
        };
        let rows = read_first_sheet(&write(&[t])).unwrap();
        assert_eq!(rows[0], ["编号", "登记日期", "人数"]);
        assert_eq!(rows[1][0], "A&B <1>");
        assert_eq!(
            crate::ledger::read_date(&rows[1][1]),
            crate::Date::from_ymd(2026, 3, 5)
        );
        assert_eq!(rows[1][2], "3");
        assert_eq!(column(0), "A");
        assert_eq!(column(27), "AB");
        assert_eq!(column_index("AB12"), 27);
    }
}
