//! The document kit: what every kind of document is made of — ids, dates, vocabulary values
//! ([`code`]), the declaration of a kind and its check ([`schema`]), and the cells and entry
//! lists ([`cells`]).

pub(crate) mod cells;
pub(crate) mod code;
pub(crate) mod date;
pub(crate) mod ids;
pub(crate) mod schema;
