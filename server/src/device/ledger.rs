//! Ledgers on the command-line device: the case ledger written as XLSX or CSV, and an
//! office's own Excel ledger imported as cases — each allowed only to the roles DOMAIN.md's
//! table allows, and each recorded on the server (who, when, what, how many rows; queued
//! while offline and sent at the next sync).

use std::collections::HashMap;
use std::path::Path;

use lianxin_shared::ledger::{self, ImportReport, Record, Target};
use lianxin_shared::rules::authority::{Op, Role, may};
use lianxin_shared::{AnyDoc, CaseDoc, Date, DetailsDoc, DocId, Replica, rules};

use super::{Device, DeviceError, Result};

impl Device {
    /// Refused to a role that may not export or import ledgers.
    fn may_ledger(&self) -> Result<()> {
        let role = self.config("role")?.unwrap_or_default();
        match Role::parse(&role) {
            Some(r) if may(r, Op::Ledger) => Ok(()),
            _ => Err(DeviceError::Forbidden(format!(
                "a {role} may not export or import ledgers (DOMAIN.md \"Who may do what\")"
            ))),
        }
    }

    /// Every case on this device, with its personal details where the device holds them.
    fn whole_cases(&self) -> Result<Vec<lianxin_shared::Case>> {
        let mut out = Vec::new();
        for id in self.doc_ids()? {
            let Some(replica) = self.replica(&id)? else {
                continue;
            };
            if let Ok(AnyDoc::Case(case)) = AnyDoc::open(replica.doc) {
                let mut case = case.read()?;
                if let Some((_, details)) = self.details(&id)? {
                    case.with_details(&details.read()?);
                }
                out.push(case);
            }
        }
        Ok(out)
    }

    /// The case ledger of this device's caseload as of `today`, written as XLSX (`.xlsx`) or
    /// CSV (any other name); the number of rows. Recorded on the server.
    pub fn export_ledger(&mut self, path: &Path, today: Date, now: i64) -> Result<usize> {
        self.may_ledger()?;
        let directory = self.directory()?;
        let name = |id: &str| {
            directory
                .iter()
                .find(|u| u.id == id)
                .map(|u| u.name.clone())
                .unwrap_or_else(|| id.to_string())
        };
        let calendar: rules::Calendar = self
            .config("calendar")?
            .and_then(|c| serde_json::from_str(&c).ok())
            .unwrap_or_default();
        let table = ledger::case_ledger(
            &self.whole_cases()?,
            &name,
            &rules::Limits::default(),
            &calendar,
            today,
        );
        let xlsx = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("xlsx"));
        let written = if xlsx {
            // The case, dispute and reception ledgers, a sheet each.
            let (mut disputes, mut days) = (Vec::new(), Vec::new());
            for id in self.doc_ids()? {
                let Some(replica) = self.replica(&id)? else {
                    continue;
                };
                match AnyDoc::open(replica.doc) {
                    Ok(AnyDoc::Dispute(d)) => disputes.push(d.read()?),
                    Ok(AnyDoc::Reception(r)) => days.push(r.read()?),
                    _ => {}
                }
            }
            let sheets = [
                table.clone(),
                ledger::dispute_ledger(&disputes, &name),
                ledger::reception_ledger(&days, &name),
            ];
            crate::ledger::write_xlsx(&sheets, path)
        } else {
            crate::ledger::write_csv(&table, path)
        };
        written.map_err(|e| DeviceError::Sync(e.to_string()))?;
        let file = path.file_name().and_then(|f| f.to_str()).unwrap_or("");
        self.report_ledger(
            "export",
            &format!("{} {file}", table.name),
            table.rows.len(),
            now,
        )?;
        Ok(table.rows.len())
    }

    /// Imports an office's ledger (XLSX, XLS or CSV) as cases of `unit`: each row a case with
    /// dated steps, or — when a case of this device has the row's reference — that case
    /// brought up to date, so importing the same file again duplicates nothing. `map`
    /// corrects the recognised headers. Dry, nothing is written or recorded.
    pub fn import_ledger(
        &mut self,
        path: &Path,
        unit: &str,
        map: &[(String, Option<Target>)],
        dry_run: bool,
        now: i64,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<ImportReport> {
        self.may_ledger()?;
        let unit = self.own_unit(unit)?;
        let (headers, rows, first_row) =
            crate::ledger::read_sheet(path).map_err(|e| DeviceError::Sync(e.to_string()))?;
        let columns = ledger::recognise(&headers, map);
        let directory = self.directory()?;
        let find_unit = |s: &str| {
            ledger::find_unit(
                directory.iter().map(|u| (u.id.as_str(), u.name.as_str())),
                s,
            )
        };
        let (records, problems) = ledger::read_records(&rows, first_row, &columns, &find_unit);
        let mut report = ImportReport::new(&headers, columns, &records, problems, dry_run);
        let mut by_reference: HashMap<String, DocId> = HashMap::new();
        for case in self.whole_cases()? {
            if let Some(r) = case.reference {
                by_reference.insert(r, case.header.id);
            }
        }
        let user = self.config("username")?.unwrap_or_default();
        let role = Role::parse(&self.config("role")?.unwrap_or_default()).unwrap_or(Role::Mediator);
        let others = self.handling_others(&unit, None)?;
        for (done, record) in records.iter().enumerate() {
            progress(done, records.len());
            let existing = record.reference.as_ref().and_then(|r| by_reference.get(r));
            match existing {
                Some(id) => {
                    report.updated += 1;
                    if !dry_run {
                        let left_out = self.update_from(id, record, &user, role)?;
                        report.note(record.row, left_out);
                    }
                }
                None => {
                    report.created += 1;
                    if !dry_run {
                        let (case, details, left_out) =
                            record.to_case(&user, role, &unit, &others, self.actor.clone())?;
                        report.note(record.row, left_out);
                        let id = case.id()?;
                        self.store_replica(&id, &mut Replica::new(case.into_doc()))?;
                        self.store_replica(
                            &DocId::details_of(&id),
                            &mut Replica::new(details.into_doc()),
                        )?;
                        if let Some(r) = &record.reference {
                            by_reference.insert(r.clone(), id);
                        }
                    }
                }
            }
        }
        progress(records.len(), records.len());
        if !dry_run {
            let file = path.file_name().and_then(|f| f.to_str()).unwrap_or("");
            self.report_ledger(
                "import",
                &format!("信访事项台账 {file}"),
                report.created + report.updated,
                now,
            )?;
        }
        Ok(report)
    }

    fn update_from(
        &mut self,
        id: &DocId,
        record: &Record,
        user: &str,
        role: Role,
    ) -> Result<Vec<String>> {
        let mut held = self.details(id)?;
        let Some(mut replica) = self.replica(id)? else {
            return Err(DeviceError::NoSuchCase(id.to_string()));
        };
        let mut case = CaseDoc::from_doc(replica.doc.clone())?;
        let left_out = record.update(&mut case, held.as_mut().map(|(_, d)| d), user, role)?;
        replica.doc = case.into_doc();
        self.store_replica(id, &mut replica)?;
        if let Some((mut r, d)) = held {
            r.doc = DetailsDoc::into_doc(d);
            self.store_replica(&DocId::details_of(id), &mut r)?;
        }
        Ok(left_out)
    }

    /// Tells the server of a ledger export or import; kept and sent at the next sync when
    /// the server cannot be reached.
    fn report_ledger(&mut self, action: &str, what: &str, rows: usize, now: i64) -> Result<()> {
        let entry = serde_json::json!({ "action": action, "what": what, "rows": rows, "at": now });
        let mut queue: Vec<serde_json::Value> = self
            .config("ledger_pending")?
            .and_then(|q| serde_json::from_str(&q).ok())
            .unwrap_or_default();
        queue.push(entry);
        self.set_config(
            "ledger_pending",
            &serde_json::to_string(&queue).unwrap_or_default(),
        )?;
        match self.send_ledger_reports() {
            Ok(()) | Err(DeviceError::Unreachable(_)) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Before a sync: sends the ledger records waiting on this device, if any (blocking HTTP,
    /// off the async workers where the runtime has several); no signal is no error.
    pub(super) fn flush_ledger_reports(&mut self) -> Result<()> {
        if self.config("ledger_pending")?.is_none_or(|q| q == "[]") {
            return Ok(());
        }
        let multi = tokio::runtime::Handle::try_current()
            .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
        let sent = if multi {
            tokio::task::block_in_place(|| self.send_ledger_reports())
        } else {
            self.send_ledger_reports()
        };
        match sent {
            Ok(()) | Err(DeviceError::Unreachable(_)) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Sends the ledger records waiting on this device.
    pub(super) fn send_ledger_reports(&mut self) -> Result<()> {
        let queue: Vec<serde_json::Value> = self
            .config("ledger_pending")?
            .and_then(|q| serde_json::from_str(&q).ok())
            .unwrap_or_default();
        if queue.is_empty() {
            return Ok(());
        }
        let login = self.login_info()?;
        let agent = self.agent()?;
        let mut left = queue.clone();
        for entry in &queue {
            let result = agent
                .post(&format!("{}/api/ledger-log", login.server))
                .header("authorization", &format!("Bearer {}", login.token))
                .send_json(entry);
            let status = match result {
                Ok(resp) => resp.status().as_u16(),
                Err(ureq::Error::StatusCode(code)) => code,
                Err(e) => return Err(DeviceError::Unreachable(e.to_string())),
            };
            match status {
                200 => {
                    left.remove(0);
                    let left = serde_json::to_string(&left).unwrap_or_default();
                    self.set_config("ledger_pending", &left)?;
                }
                401 => return Err(DeviceError::SessionEnded("log in again".into())),
                403 => {
                    // Never recorded, never sent again.
                    left.remove(0);
                    let left = serde_json::to_string(&left).unwrap_or_default();
                    self.set_config("ledger_pending", &left)?;
                    return Err(DeviceError::Forbidden(
                        "the server refuses this user's ledger exports and imports".into(),
                    ));
                }
                other => {
                    return Err(DeviceError::Sync(format!(
                        "the server did not record the ledger export ({other})"
                    )));
                }
            }
        }
        Ok(())
    }

    /// This device's caseload as the reports read it (offline: its own copy).
    pub fn caseload(&self) -> Result<crate::reports::Caseload> {
        let mut docs = Vec::new();
        for id in self.doc_ids()? {
            if let Some(replica) = self.replica(&id)? {
                docs.push((id, replica.doc));
            }
        }
        let calendar: rules::Calendar = self
            .config("calendar")?
            .and_then(|c| serde_json::from_str(&c).ok())
            .unwrap_or_default();
        Ok(crate::reports::Caseload::of(
            docs,
            &self.directory()?,
            &rules::Limits::default(),
            &calendar,
        ))
    }
}
