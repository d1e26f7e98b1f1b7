//! Vocabulary values: the traits every vocabulary enum has ([`Vocabulary`], [`Label`]), the
//! list of codes a declaration checks against ([`Vocab`]), and [`Code`], a vocabulary value as
//! read from a document — known to this build, or written by a newer device and kept as is.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A controlled vocabulary's name and codes, for checking values written by any device.
#[derive(Debug)]
pub struct Vocab {
    pub name: &'static str,
    pub codes: &'static [&'static str],
}

/// What a person reads for a value: its Chinese and English words (vocabularies, states,
/// colours, routes).
pub trait Label: Copy {
    fn zh(self) -> &'static str;
    fn en(self) -> &'static str;
}

impl<T: Label> Label for &T {
    fn zh(self) -> &'static str {
        (*self).zh()
    }
    fn en(self) -> &'static str {
        (*self).en()
    }
}

/// What every vocabulary enum (channel, category, …) offers; made by the `vocabulary!` macro.
pub trait Vocabulary: Label + Eq + Ord + fmt::Debug + 'static {
    const VOCAB: Vocab;
    fn code(self) -> &'static str;
    fn from_code(code: &str) -> Option<Self>;
    fn all() -> &'static [Self];
}

/// A vocabulary value as read from a document: a code this build knows, or one written by a
/// newer device, kept and shown as it is rather than dropped.
#[derive(Clone, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub enum Code<T> {
    Known(T),
    Unknown(String),
}

impl<T: Vocabulary> Code<T> {
    pub fn of(code: &str) -> Self {
        match T::from_code(code) {
            Some(t) => Code::Known(t),
            None => Code::Unknown(code.to_string()),
        }
    }
    pub fn code(&self) -> &str {
        match self {
            Code::Known(t) => t.code(),
            Code::Unknown(c) => c,
        }
    }
    /// The code, as a string field's `as_str`.
    pub fn as_str(&self) -> &str {
        self.code()
    }
    pub fn known(&self) -> Option<T> {
        match self {
            Code::Known(t) => Some(*t),
            Code::Unknown(_) => None,
        }
    }
    pub fn is(&self, t: T) -> bool {
        self.known() == Some(t)
    }
    /// The Chinese label, or the code itself when this build does not know it.
    pub fn zh(&self) -> &str {
        match self {
            Code::Known(t) => t.zh(),
            Code::Unknown(c) => c,
        }
    }
    pub fn en(&self) -> &str {
        match self {
            Code::Known(t) => t.en(),
            Code::Unknown(c) => c,
        }
    }
}

impl<T: Vocabulary> From<T> for Code<T> {
    fn from(t: T) -> Self {
        Code::Known(t)
    }
}

impl<T: Vocabulary> fmt::Display for Code<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Written as its code, as in documents.
impl<T: Vocabulary> Serialize for Code<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl<'de, T: Vocabulary> Deserialize<'de> for Code<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let code = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Ok(Code::of(&code))
    }
}

impl<T: Vocabulary> PartialEq<str> for Code<T> {
    fn eq(&self, other: &str) -> bool {
        self.code() == other
    }
}

impl<T: Vocabulary> PartialEq<&str> for Code<T> {
    fn eq(&self, other: &&str) -> bool {
        self.code() == *other
    }
}

/// The code of an optional vocabulary value, as `as_deref` gives a string's, and the value
/// itself when this build knows it.
pub trait OptionCode {
    type Of;
    fn code(&self) -> Option<&str>;
    fn known(&self) -> Option<Self::Of>;
}

impl<T: Vocabulary> OptionCode for Option<Code<T>> {
    type Of = T;
    fn code(&self) -> Option<&str> {
        self.as_ref().map(|c| c.code())
    }
    fn known(&self) -> Option<T> {
        self.as_ref().and_then(|c| c.known())
    }
}
