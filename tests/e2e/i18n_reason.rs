//! Two languages, what to fix (issue 14): the validation and conflict messages a
//! client can meet, in Spanish for a Spanish contact.
