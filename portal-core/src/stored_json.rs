//! The serde JSON form of the nested model types that stores keep as documents
//! (`TaskKind`, `TaskEvidence`, `Branding`, `Actor`, `QuestionAnswer`) is a storage
//! format: a row written by an earlier release must still read, and write back the
//! same. These fixtures are such rows; a change that breaks one needs a migration and
//! a major version (see docs/adapter-guide.md, "Stored JSON").

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::model::{Branding, TaskKind};
use crate::workflow::{Actor, QuestionAnswer, TaskEvidence};

/// Reads `stored` as `T` and writes it back: the same JSON value, key for key.
fn round_trips<T: Serialize + DeserializeOwned>(stored: &str) {
    let value: T = serde_json::from_str(stored)
        .unwrap_or_else(|e| panic!("a stored row no longer reads: {e}\n{stored}"));
    let written = serde_json::to_value(&value).unwrap();
    let expected: serde_json::Value = serde_json::from_str(stored).unwrap();
    assert_eq!(written, expected, "a stored row writes back differently");
}

const KINDS: &[&str] = &[
    r#"{"type":"standard"}"#,
    r#"{"type":"meeting","schedule":null}"#,
    r#"{"type":"meeting","schedule":{"starts_at":"2026-12-03T16:00:00Z","time_zone":"America/Chicago","duration_minutes":45,"meeting_url":"https://meet.example.com/x","agenda":"Introductions\nTimeline","sequence":2,"revised_at":"2026-12-01T22:21:29.923621Z"}}"#,
    r#"{"type":"document_upload","documents":[{"id":"diagram","name":"Network diagram"}]}"#,
    r#"{"type":"signature","document":{"name":"Master Services Agreement v3.pdf"}}"#,
    r#"{"type":"signature","document":null}"#,
    r#"{"type":"credential_handoff","api_key":true}"#,
    r#"{"type":"secure_file_drop","expires_after_days":7}"#,
    r#"{"type":"training","video_url":"https://www.youtube.com/watch?v=dQw4w9WgXcQ"}"#,
    r#"{"type":"survey","questions":[{"id":"sites","prompt":"How many sites?","required":true,"kind":{"type":"short_text","max_len":100}},{"id":"pain","prompt":"Problems?","required":false,"kind":{"type":"long_text","max_len":2000}},{"id":"email","prompt":"Email host?","required":true,"kind":{"type":"single_select","choices":["Microsoft 365","Other"]}},{"id":"apps","prompt":"Apps?","required":false,"kind":{"type":"multi_select","choices":["Dentrix","Other"]}},{"id":"happy","prompt":"Happy?","required":true,"kind":{"type":"rating","min":1,"max":5}}]}"#,
    r#"{"type":"checklist","items":[{"id":"list","label":"Send us the list"}]}"#,
    r#"{"type":"approval","document":{"name":"Migration plan.pdf"}}"#,
];

const STAFF: &str =
    r#"{"side":"staff","name":"Priya Natarajan (Bluefin)","email":"priya@bluefin-it.example"}"#;
const CLIENT: &str = r#"{"side":"client","contact_id":"0192f0c4-7c2e-7d1a-9f3b-2a1c5e8d4b6f","name":"Dana Reyes","email":"dana@contoso.example"}"#;

#[test]
fn task_kinds_read_and_write_back() {
    for kind in KINDS {
        round_trips::<TaskKind>(kind);
    }
}

#[test]
fn evidence_reads_and_writes_back() {
    round_trips::<TaskEvidence>("{}");
    round_trips::<TaskEvidence>(&format!(
        r#"{{"completion":{{"by":{CLIENT},"at":"2026-12-01T22:21:29.922879Z","notes":"Done, see the shared drive"}}}}"#
    ));
    round_trips::<TaskEvidence>(&format!(
        r#"{{"answers":{{"sites":{{"type":"text","value":"3"}},"email":{{"type":"choice","value":"Other"}},"apps":{{"type":"choices","value":["Dentrix","Other"]}},"happy":{{"type":"rating","value":4}}}},"answers_saved":{{"by":{CLIENT},"at":"2026-12-01T22:21:29Z"}}}}"#
    ));
    round_trips::<TaskEvidence>(&format!(
        r#"{{"checked":{{"hours":{{"by":{STAFF},"at":"2026-12-01T22:21:29.923917Z"}}}}}}"#
    ));
    let decision = r#"{"approved":false,"comment":"Move the cutover","name":"Dana Reyes","email":"dana@contoso.example","ip":"203.0.113.9","user_agent":"Mozilla/5.0","at":"2026-12-01T22:21:29Z"}"#;
    round_trips::<TaskEvidence>(&format!(
        r#"{{"decision":{decision},"previous_decisions":[{decision}]}}"#
    ));
}

#[test]
fn branding_actors_and_answers_read_and_write_back() {
    round_trips::<Branding>(
        r##"{"company_name":"Bluefin Managed IT","accent_color":"#0d6e7a","welcome_message":"Welcome aboard!\n\nWork through \"Your Tasks\".","logo":{"image_type":"png","sha256":"6fbf60dcab855f2613a101485b42074d2e4ea939f760a50bd91cf24f2d36d0ef"}}"##,
    );
    round_trips::<Actor>(STAFF);
    round_trips::<Actor>(CLIENT);
    round_trips::<Actor>(r#"{"side":"staff","name":"Ops","email":null}"#);
    round_trips::<QuestionAnswer>(&format!(
        r#"{{"by":{STAFF},"text":"Yes,\nwe do.","at":"2026-12-01T22:21:29Z"}}"#
    ));
}
