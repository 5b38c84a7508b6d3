//! Two languages, the emails and the document and certificate pages (issue 14): each
//! client email and page rendered in English and Spanish, nothing missing or left in English.
