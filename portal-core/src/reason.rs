//! What to fix in a refused input, or what clashed: the text of
//! [`Error::Invalid`](crate::Error::Invalid), [`Error::InvalidFields`](crate::Error::InvalidFields)
//! and [`Error::Conflict`](crate::Error::Conflict).
//!
//! A [`Reason`] always holds its English text, so logs, `Display`, the admin API's
//! problem details and tests that look for words keep working unchanged. A reason a
//! client can meet on a client page is also a catalog message (a key of
//! `locales/*/reason.ftl` with its arguments), so the page can show it in the
//! client's language ([`Reason::in_language`]); its English text is the catalog's
//! English entry, one source of the words. Reasons only staff can meet stay plain
//! English text (`From<String>`, `From<&str>`).

use std::fmt;
use std::ops::Deref;

use chrono::NaiveDate;

use crate::files::FileType;
use crate::i18n::{self, Arg, Language};
use crate::wording;

/// What to fix (or what clashed), in English, and where a client can meet it, also
/// the catalog message that says it in every language.
#[derive(Debug, Clone)]
pub struct Reason {
    english: String,
    message: Option<Message>,
}

#[derive(Debug, Clone)]
struct Message {
    key: &'static str,
    args: Vec<(&'static str, Value)>,
}

/// An argument of a reason's message: formatted for the language the message is
/// shown in (a date or a size reads differently in Spanish).
#[derive(Debug, Clone)]
enum Value {
    Arg(Arg),
    Date(NaiveDate),
    FileTypes(Vec<FileType>),
    List(Vec<ListItem>),
}

/// One item of a list argument ([`ReasonBuilder::list`]): text shown as it is (a
/// task's title), or a catalog message of its own (a phrase the language words).
#[derive(Debug, Clone)]
pub enum ListItem {
    /// Data, shown as typed.
    Text(String),
    /// The catalog message `key` with its arguments.
    Message(&'static str, Vec<(&'static str, Arg)>),
}

impl Message {
    fn args_in(&self, language: Language) -> Vec<(&'static str, Arg)> {
        self.args
            .iter()
            .map(|(name, value)| {
                let arg = match value {
                    Value::Arg(arg) => arg.clone(),
                    Value::Date(date) => Arg::Text(wording::date_in(*date, language)),
                    Value::List(items) => Arg::Text(
                        items
                            .iter()
                            .map(|item| match item {
                                ListItem::Text(text) => text.clone(),
                                ListItem::Message(key, args) => i18n::message(language, key, args),
                            })
                            .collect::<Vec<_>>()
                            .join(", "),
                    ),
                    Value::FileTypes(types) => Arg::Text(
                        types
                            .iter()
                            .map(|t| t.label_in(language))
                            .collect::<Vec<_>>()
                            .join(", "),
                    ),
                };
                (*name, arg)
            })
            .collect()
    }

    fn text(&self, language: Language) -> String {
        i18n::message(language, self.key, &self.args_in(language))
    }

    /// The English text, or the key itself when English lacks the message (the
    /// catalog records the gap, which the tests refuse).
    fn english(&self) -> String {
        let args = self.args_in(Language::En);
        match i18n::try_message(Language::En, self.key, &args) {
            Ok(text) => text,
            Err(_) => {
                let _ = i18n::message(Language::En, self.key, &args);
                self.key.to_owned()
            }
        }
    }
}

impl Reason {
    /// A reason a client can meet: the catalog message `key` of `reason.ftl` with
    /// `args`. Its English text is the catalog's English entry (the key itself if
    /// English lacks it, which the catalog records as missing and the tests refuse).
    pub fn message(key: &'static str, args: &[(&'static str, Arg)]) -> Reason {
        let message = Message {
            key,
            args: args
                .iter()
                .map(|(name, arg)| (*name, Value::Arg(arg.clone())))
                .collect(),
        };
        Reason {
            english: message.english(),
            message: Some(message),
        }
    }

    /// A translated reason with arguments a page writes in its own language (dates,
    /// file types), built argument by argument: `Reason::build(key).date("today",
    /// d).done()`.
    pub fn build(key: &'static str) -> ReasonBuilder {
        ReasonBuilder(Message {
            key,
            args: Vec::new(),
        })
    }

    /// A reason without a catalog message: English in every language (staff-facing).
    pub fn untranslated(text: impl Into<String>) -> Reason {
        Reason {
            english: text.into(),
            message: None,
        }
    }

    /// The English text (logs, the admin API).
    pub fn as_str(&self) -> &str {
        &self.english
    }

    /// The catalog key, for a translated reason.
    pub fn key(&self) -> Option<&'static str> {
        self.message.as_ref().map(|m| m.key)
    }

    /// The text for a page in `language`: the catalog message when the reason has one
    /// (a missing translation falls back to English and is recorded), else the English
    /// text.
    pub fn in_language(&self, language: Language) -> String {
        match &self.message {
            Some(message) if language != Language::En => message.text(language),
            _ => self.english.clone(),
        }
    }
}

/// A translated [`Reason`] being given its arguments ([`Reason::build`]); its English
/// text is resolved once, by [`ReasonBuilder::done`], with every argument there.
#[derive(Debug, Clone)]
#[must_use = "a reason is made by `done()`"]
pub struct ReasonBuilder(Message);

impl ReasonBuilder {
    /// A text or number argument, shown as it is.
    pub fn arg(mut self, name: &'static str, value: impl Into<Arg>) -> Self {
        self.0.args.push((name, Value::Arg(value.into())));
        self
    }

    /// A date argument, written the way the page's language writes dates.
    pub fn date(mut self, name: &'static str, date: NaiveDate) -> Self {
        self.0.args.push((name, Value::Date(date)));
        self
    }

    /// File types, named in the page's language and listed with commas.
    pub fn file_types(mut self, name: &'static str, types: &[FileType]) -> Self {
        self.0.args.push((name, Value::FileTypes(types.to_vec())));
        self
    }

    /// Items listed with commas, each data or a message in the page's language.
    pub fn list(mut self, name: &'static str, items: Vec<ListItem>) -> Self {
        self.0.args.push((name, Value::List(items)));
        self
    }

    /// The reason, its English text resolved from the catalog.
    pub fn done(self) -> Reason {
        Reason {
            english: self.0.english(),
            message: Some(self.0),
        }
    }
}

impl Deref for Reason {
    type Target = str;
    fn deref(&self) -> &str {
        &self.english
    }
}

impl AsRef<str> for Reason {
    fn as_ref(&self) -> &str {
        &self.english
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.english)
    }
}

impl From<String> for Reason {
    fn from(text: String) -> Self {
        Reason::untranslated(text)
    }
}

impl From<&str> for Reason {
    fn from(text: &str) -> Self {
        Reason::untranslated(text)
    }
}

impl From<&String> for Reason {
    fn from(text: &String) -> Self {
        Reason::untranslated(text.clone())
    }
}

impl From<Reason> for String {
    fn from(reason: Reason) -> Self {
        reason.english
    }
}

/// Two reasons are equal when their English texts are.
impl PartialEq for Reason {
    fn eq(&self, other: &Self) -> bool {
        self.english == other.english
    }
}
impl Eq for Reason {}

impl PartialEq<str> for Reason {
    fn eq(&self, other: &str) -> bool {
        self.english == other
    }
}
impl PartialEq<&str> for Reason {
    fn eq(&self, other: &&str) -> bool {
        self.english == *other
    }
}
impl PartialEq<String> for Reason {
    fn eq(&self, other: &String) -> bool {
        &self.english == other
    }
}
impl PartialEq<Reason> for str {
    fn eq(&self, other: &Reason) -> bool {
        self == other.english
    }
}
impl PartialEq<Reason> for &str {
    fn eq(&self, other: &Reason) -> bool {
        *self == other.english
    }
}
impl PartialEq<Reason> for String {
    fn eq(&self, other: &Reason) -> bool {
        *self == other.english
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    #[test]
    fn a_translated_reason_is_the_catalog_english_entry() {
        let reason = Reason::message(
            "reason-answer-rating",
            &[("min", 1.into()), ("max", 5.into())],
        );
        let entry = i18n::try_message(
            Language::En,
            "reason-answer-rating",
            &[("min", 1.into()), ("max", 5.into())],
        )
        .unwrap();
        assert_eq!(reason.as_str(), entry);
        assert_eq!(reason, "Choose a whole number from 1 to 5.");
        assert_eq!(reason.to_string(), entry, "Display is the English text");
        assert_eq!(reason.in_language(Language::En), entry);
        assert_eq!(reason.key(), Some("reason-answer-rating"));
    }

    #[test]
    fn in_spanish_a_translated_reason_is_spanish_and_complete() {
        let reason = Reason::message("reason-text-too-long", &[("max", 200.into())]);
        let es = reason.in_language(Language::Es);
        assert_eq!(es, "debe tener como máximo 200 caracteres");
        assert_ne!(es, reason.as_str());
        assert!(
            i18n::missing()
                .iter()
                .all(|m| m.key != "reason-text-too-long"),
            "{:?}",
            i18n::missing()
        );
    }

    #[test]
    fn dates_and_file_types_are_written_in_the_page_language() {
        let today = NaiveDate::from_ymd_opt(2026, 3, 3).unwrap();
        let reason = Reason::build("reason-due-date-past")
            .date("today", today)
            .done();
        assert_eq!(reason, "pick today (Tue 3 Mar 2026) or a later date");
        let es = reason.in_language(Language::Es);
        assert!(es.starts_with("elija hoy ("), "{es}");
        assert!(es.contains(&wording::date_in(today, Language::Es)), "{es}");
        let types = Reason::build("reason-file-unknown-type")
            .file_types("accepted", &[FileType::Pdf, FileType::Png])
            .done();
        assert_eq!(
            types,
            "is not a kind of file we accept. Accepted: PDF, PNG image."
        );
        assert!(
            types
                .in_language(Language::Es)
                .ends_with("PDF, imagen PNG."),
            "{}",
            types.in_language(Language::Es)
        );
    }

    #[test]
    fn plural_selectors_leave_no_stray_whitespace() {
        let fix =
            |n: usize| i18n::message(Language::En, "reason-fix-answers", &[("count", n.into())]);
        assert_eq!(
            fix(1),
            "Please fix the answer marked below. Your answers are kept."
        );
        assert_eq!(
            fix(2),
            "Please fix the answers marked below. Your answers are kept."
        );
        let waiting = |items: Vec<ListItem>| {
            let count = items.len();
            Reason::build("reason-task-waiting")
                .list("tasks", items)
                .arg("count", count)
                .done()
        };
        let one = waiting(vec![ListItem::Text("Sign".into())]);
        assert_eq!(
            one,
            "This task is waiting for: Sign. You can do it once that is done."
        );
        let two = waiting(vec![
            ListItem::Text("Sign".into()),
            ListItem::Message("reason-waiting-msp-step", vec![("msp", "Acme IT".into())]),
        ]);
        assert_eq!(
            two,
            "This task is waiting for: Sign, a step by Acme IT. You can do it once those are done."
        );
        assert_eq!(
            two.in_language(Language::Es),
            "Esta tarea está a la espera de: Sign, un paso de Acme IT. Podrá realizarla cuando todo eso esté terminado."
        );
    }

    #[test]
    fn an_untranslated_reason_is_its_text_in_every_language() {
        let reason = Reason::from("only staff read this");
        assert_eq!(reason.key(), None);
        for language in Language::ALL {
            assert_eq!(reason.in_language(language), "only staff read this");
        }
        let reason: Reason = format!("{} apples", 3).into();
        assert_eq!(reason.in_language(Language::Es), "3 apples");
    }

    #[test]
    fn the_decision_gate_reads_as_its_constant() {
        let reason = Reason::message("reason-open-first", &[]);
        assert_eq!(reason, crate::attachments::OPEN_FIRST);
        assert_eq!(
            reason.in_language(Language::Es),
            "Abra el documento antes de decidir."
        );
    }

    #[test]
    fn errors_keep_their_english_display() {
        let e = Error::invalid("comment", Reason::message("reason-text-empty", &[]));
        assert_eq!(e.to_string(), "invalid comment: must not be empty");
        let e = Error::conflict(Reason::message("reason-task-already-complete", &[]));
        assert_eq!(e.to_string(), "conflict: This task is already complete.");
        let e = Error::conflict("plain");
        assert_eq!(e.to_string(), "conflict: plain");
    }

    #[test]
    fn a_missing_message_is_recorded_and_never_shown_as_empty() {
        let reason = Reason::message("reason-no-such-key", &[]);
        assert_eq!(reason.as_str(), "reason-no-such-key");
        assert!(
            i18n::missing()
                .iter()
                .any(|m| m.key == "reason-no-such-key")
        );
    }
}
