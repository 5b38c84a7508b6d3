//! Two languages, the task page (issue 14): every task kind and state in English and
//! Spanish, checked with the leftover walk of `super::i18n`.
