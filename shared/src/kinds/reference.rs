//! The county's reference data 基础数据 as a document (header kind `reference`): the monthly
//! assessment's rules (DOMAIN.md's defaults until the administrator sets others) and the
//! campaigns 专项活动 (name, period, kind) cases are tagged to. One per county, under a fixed
//! id ([`DocId::reference`]); every user's device receives it ([`crate::Access::Everyone`])
//! and only the administrator may write it (DOMAIN.md "Who may do what": reference data).

use automerge::{ActorId, AutoCommit, ScalarValue};
use serde::Serialize;

use crate::kit::cells::{Singles, commit, new_document, read_header, set_field};
use crate::kit::schema::{
    AT, BY, ID, KindDecl, LINE, ListDecl, ValueType, opt, read_list, record_entry, req,
};
use crate::report::AssessmentRules;
use crate::{Date, DocId, Editor, EntryId, Error, Header, UnitId};

const POINTS: ValueType = ValueType::Int {
    min: 0,
    max: 100,
    what: "points",
};
const PENALTY: ValueType = ValueType::Int {
    min: -100,
    max: 0,
    what: "points",
};

pub(crate) const CAMPAIGNS: ListDecl = ListDecl {
    name: "campaigns",
    entry: &[
        ID,
        req("name", LINE),
        req("from", ValueType::Date),
        opt("to", ValueType::Date),
        opt("kind", LINE),
        BY,
        AT,
    ],
};

/// The assessment's rules, by field (each a whole number of points).
pub const RULES: [&str; 11] = [
    "on_time",
    "timely_acceptance",
    "satisfaction_unit",
    "participation",
    "no_repeat",
    "online",
    "capital",
    "province",
    "red",
    "reception_day",
    "reception_days_max",
];

/// The reference data: the declaration creation, reading and the server's check share.
pub static REFERENCE: KindDecl = KindDecl {
    name: "reference",
    fields: &[
        opt("on_time", POINTS),
        opt("timely_acceptance", POINTS),
        opt("satisfaction_unit", POINTS),
        opt("participation", POINTS),
        opt("no_repeat", POINTS),
        opt("online", POINTS),
        opt("capital", PENALTY),
        opt("province", PENALTY),
        opt("red", PENALTY),
        opt(
            "reception_day",
            ValueType::Int {
                min: 0,
                max: 10,
                what: "points",
            },
        ),
        opt(
            "reception_days_max",
            ValueType::Int {
                min: 0,
                max: 31,
                what: "days",
            },
        ),
    ],
    texts: &[],
    lists: &[CAMPAIGNS],
    sets: &[],
};

impl DocId {
    /// The county's reference document: the same id everywhere.
    pub fn reference() -> DocId {
        use sha2::{Digest, Sha256};
        let digest = Sha256::digest(b"lianxin reference data");
        let mut id = [0u8; 16];
        id.copy_from_slice(&digest[..16]);
        DocId::from_bytes(id)
    }
}

/// A campaign 专项活动.
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct Campaign {
    pub id: EntryId,
    pub name: String,
    pub from: Date,
    pub to: Option<Date>,
    pub kind: Option<String>,
}

/// The reference data, read.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Reference {
    pub header: Header,
    pub rules: AssessmentRules,
    pub campaigns: Vec<Campaign>,
}

#[derive(Clone, Debug)]
pub struct ReferenceDoc {
    doc: AutoCommit,
}

impl ReferenceDoc {
    /// The county's reference document, belonging to its root unit, with no rules set (the
    /// defaults apply) and no campaigns.
    pub fn create(root: &UnitId, editor: &Editor, actor: ActorId) -> ReferenceDoc {
        let mut doc = new_document(&REFERENCE, DocId::reference(), root, "", editor, actor);
        commit(&mut doc, editor);
        ReferenceDoc { doc }
    }

    pub fn from_doc(doc: AutoCommit) -> Result<ReferenceDoc, Error> {
        let header = read_header(&doc)?;
        if header.kind != REFERENCE.name {
            return Err(Error::WrongKind(format!(
                "a {} is not the reference data",
                header.kind
            )));
        }
        Ok(ReferenceDoc { doc })
    }

    pub fn doc(&self) -> &AutoCommit {
        &self.doc
    }

    pub fn into_doc(self) -> AutoCommit {
        self.doc
    }

    /// Sets one of the assessment's [`RULES`] (whole points).
    pub fn set_rule(&mut self, editor: &Editor, rule: &str, points: i64) -> Result<(), Error> {
        if !RULES.contains(&rule) {
            return Err(Error::InvalidValue {
                field: rule.into(),
                value: points.to_string(),
                reason: format!("expected one of {}", RULES.join(", ")),
            });
        }
        set_field(
            &mut self.doc,
            &REFERENCE,
            rule,
            ScalarValue::Int(points),
            editor,
        )?;
        commit(&mut self.doc, editor);
        Ok(())
    }

    /// Adds a campaign; its id.
    pub fn add_campaign(
        &mut self,
        editor: &Editor,
        name: &str,
        from: Date,
        to: Option<Date>,
        kind: Option<&str>,
    ) -> Result<EntryId, Error> {
        if to.is_some_and(|to| to < from) {
            return Err(Error::InvalidValue {
                field: "to".into(),
                value: to.map(|d| d.to_string()).unwrap_or_default(),
                reason: "a campaign ends after it starts".into(),
            });
        }
        let text = |s: &str| ScalarValue::Str(s.trim().into());
        let mut values = vec![("name", text(name)), ("from", text(&from.to_string()))];
        if let Some(to) = to {
            values.push(("to", text(&to.to_string())));
        }
        if let Some(kind) = kind.filter(|k| !k.trim().is_empty()) {
            values.push(("kind", text(kind)));
        }
        record_entry(&mut self.doc, &CAMPAIGNS, editor, &values)
    }

    pub fn read(&self) -> Result<Reference, Error> {
        let header = read_header(&self.doc)?;
        let mut f = Singles::new(&self.doc);
        let d = AssessmentRules::default();
        let mut points = |name: &str, default: f64| f.int(name).map_or(default, |n| n as f64);
        let rules = AssessmentRules {
            on_time: points("on_time", d.on_time),
            timely_acceptance: points("timely_acceptance", d.timely_acceptance),
            satisfaction_unit: points("satisfaction_unit", d.satisfaction_unit),
            participation: points("participation", d.participation),
            no_repeat: points("no_repeat", d.no_repeat),
            online: points("online", d.online),
            capital: points("capital", d.capital),
            province: points("province", d.province),
            red: points("red", d.red),
            reception_day: points("reception_day", d.reception_day),
            reception_days_max: points("reception_days_max", d.reception_days_max as f64) as usize,
        };
        let mut campaigns: Vec<(i64, Campaign)> = read_list(&self.doc, &CAMPAIGNS)
            .filter_map(|e| {
                Some((
                    e.at(),
                    Campaign {
                        id: e.id(),
                        name: e.text("name"),
                        from: e.date("from")?,
                        to: e.date("to"),
                        kind: e.str("kind"),
                    },
                ))
            })
            .collect();
        campaigns.sort_by(|a, b| (a.1.from, a.0).cmp(&(b.1.from, b.0)));
        Ok(Reference {
            header,
            rules,
            campaigns: campaigns.into_iter().map(|(_, c)| c).collect(),
        })
    }
}
