//! The demo's data: an MSP, one client company and an onboarding plan that uses all
//! ten task types, on both sides, with some tasks done, some due soon, a scheduled
//! meeting, a checked checklist item and a comment from the MSP.

use chrono::{Duration, NaiveDate, SubsecRound, TimeDelta};
use portal_core::model::{
    Branding, ChecklistItem, Contact, DocumentRef, EmailAddress, MeetingSchedule, Portal,
    PortalStatus, Question, QuestionKind, RequestedDocument, Side, TaskKind, TeamMember,
};
use portal_core::store::ClientContext;
use portal_core::{PhaseId, PortalService, StaffContext, StaffRole, TaskId, TaskSpec, TenantId};

/// What the demo needs after seeding.
pub struct Seeded {
    /// The client portal.
    pub portal: Portal,
    /// The contact whose invite link is printed.
    pub contact: Contact,
    /// Whether this run created the data.
    pub created: bool,
}

const LOGO: &[u8] = include_bytes!("../assets/logo.png");

/// Days from the seeding day to go-live: the target date and the go-live check-in.
const GO_LIVE_IN_DAYS: i64 = 21;

/// Reuses the first tenant's first portal if there is one, or seeds everything.
pub async fn ensure(service: &PortalService) -> portal_core::Result<Seeded> {
    let store = service.store();
    if let Some(tenant) = store.tenants().await?.into_iter().next()
        && let Some(portal) = store.portals(tenant.id).await?.into_iter().next()
        && let Some(contact) = store.contacts(portal.id).await?.into_iter().next()
    {
        return Ok(Seeded {
            portal,
            contact,
            created: false,
        });
    }
    seed(service).await
}

/// The demo's staff member, an admin of `tenant`: the seed's MSP-side actions act as
/// her (the staff console acts as the API key it is signed in with).
pub fn staff(tenant: TenantId) -> portal_core::Result<StaffContext> {
    StaffContext::new(
        tenant,
        "priya",
        "Priya Natarajan (Bluefin)",
        Some(EmailAddress::parse("priya@bluefin-it.example")?),
        StaffRole::Admin,
    )
}

struct Plan<'a> {
    service: &'a PortalService,
    staff: &'a StaffContext,
    portal: Portal,
    today: NaiveDate,
}

impl Plan<'_> {
    async fn task(
        &self,
        phase: PhaseId,
        title: &str,
        description: &str,
        assignee: Side,
        kind: TaskKind,
        due_in_days: Option<i64>,
    ) -> portal_core::Result<TaskId> {
        let spec = TaskSpec {
            title: title.to_owned(),
            description: description.to_owned(),
            assignee,
            kind,
            due_date: due_in_days.map(|n| self.today + Duration::days(n)),
        };
        Ok(self
            .service
            .add_task(self.staff, self.portal.id, phase, spec)
            .await?
            .id)
    }
}

async fn seed(service: &PortalService) -> portal_core::Result<Seeded> {
    let now = service.clock().now();
    let welcome = "Welcome aboard! This portal is where we'll get your team set up with Bluefin.\n\nWork through \"Your Tasks\" at your own pace: most take a few minutes. You can see everything our engineers are doing under \"Our Progress\".";
    let plain = Branding::new("Bluefin Managed IT", "#0d6e7a", welcome, None)?;
    // The MSP and its client are in Chicago: the contacts read every time in the
    // portal and its emails in Central Time, named.
    let tenant = service
        .create_tenant_in_zone(
            "Bluefin Managed IT",
            plain,
            vec![EmailAddress::parse("onboarding@bluefin-it.example")?],
            portal_core::model::TimeZone::parse("America/Chicago")?,
        )
        .await?;
    // The logo is uploaded by an admin of the tenant, so the tenant comes first.
    let staff = staff(tenant.id)?;
    let logo = service.upload_logo(&staff, LOGO.to_vec()).await?;
    let branding = Branding::new("Bluefin Managed IT", "#0d6e7a", welcome, Some(logo))?;
    service.update_tenant_branding(&staff, branding).await?;
    let portal = service
        .create_portal(&staff, "Contoso Dental Group", PortalStatus::Active)
        .await?;
    let contact = service
        .add_contact(
            &staff,
            portal.id,
            "Dana Whitfield",
            "dana.whitfield@contoso-dental.example",
        )
        .await?;
    service
        .add_contact(
            &staff,
            portal.id,
            "Marcus Lee",
            "marcus.lee@contoso-dental.example",
        )
        .await?;
    let p = portal.id;
    let plan = Plan {
        service,
        staff: &staff,
        portal: portal.clone(),
        today: now.date_naive(),
    };

    let kickoff = service.add_phase(&staff, p, "Kickoff").await?.id;
    let discovery = service.add_phase(&staff, p, "Discovery & access").await?.id;
    let migration = service.add_phase(&staff, p, "Migration").await?.id;
    let golive = service.add_phase(&staff, p, "Go-live").await?.id;

    let msa = plan
        .task(
            kickoff,
            "Sign the master services agreement",
            "Review the agreement and sign it with your finger or mouse.",
            Side::Client,
            TaskKind::Signature {
                document: Some(DocumentRef {
                    name: "Master Services Agreement v3.pdf".into(),
                }),
                consent: None,
            },
            None,
        )
        .await?;
    let call = plan
        .task(
            kickoff,
            "Kickoff call",
            "Meet your onboarding team, confirm the timeline and ask anything.",
            Side::Client,
            TaskKind::Meeting { schedule: None },
            Some(2),
        )
        .await?;
    let team = plan
        .task(
            kickoff,
            "Assign your onboarding team",
            "Your project lead, network engineer and account manager are assigned to your account: you find them on your home page.",
            Side::Msp,
            TaskKind::Standard,
            None,
        )
        .await?;
    // A client task already done, so the client's home has a completed section from
    // the start (the MSA waits for the client's signature).
    let pack = plan
        .task(
            kickoff,
            "Read the welcome pack",
            "How we work together: the help desk, response times and who to call.",
            Side::Client,
            TaskKind::Standard,
            None,
        )
        .await?;
    plan.task(discovery, "Confirm your office opening hours", "Tell us when we can work on site without disturbing patients. Add them as a note, then mark the task complete.",
        Side::Client, TaskKind::Standard, Some(3)).await?;
    let q = |id: &str, prompt: &str, required, kind| Question {
        id: id.into(),
        prompt: prompt.into(),
        required,
        kind,
    };
    plan.task(
        discovery,
        "Tell us about your environment",
        "A short questionnaire so we plan the migration around how you work.",
        Side::Client,
        TaskKind::Survey {
            questions: vec![
                q(
                    "sites",
                    "How many office locations do you have?",
                    true,
                    QuestionKind::ShortText { max_len: 100 },
                ),
                q(
                    "pain",
                    "What IT problems slow your team down today?",
                    false,
                    QuestionKind::LongText { max_len: 2000 },
                ),
                q(
                    "email",
                    "Where is your email hosted?",
                    true,
                    QuestionKind::SingleSelect {
                        choices: vec![
                            "Microsoft 365".into(),
                            "Google Workspace".into(),
                            "On-premises Exchange".into(),
                            "Other".into(),
                        ],
                    },
                ),
                q(
                    "apps",
                    "Which line-of-business apps do you use?",
                    false,
                    QuestionKind::MultiSelect {
                        choices: vec![
                            "Dentrix".into(),
                            "Eaglesoft".into(),
                            "QuickBooks".into(),
                            "Other".into(),
                        ],
                    },
                ),
                q(
                    "satisfaction",
                    "How happy are you with your current IT support? (1 = not at all, 5 = very)",
                    true,
                    QuestionKind::Rating { min: 1, max: 5 },
                ),
            ],
        },
        Some(1),
    )
    .await?;
    plan.task(
        discovery,
        "Upload your network documentation",
        "Whatever you have is fine: diagrams, ISP details, a list of devices.",
        Side::Client,
        TaskKind::DocumentUpload {
            documents: vec![
                RequestedDocument::new("diagram", "Network diagram"),
                RequestedDocument::new("isp", "ISP contract or account details"),
            ],
        },
        Some(3),
    )
    .await?;
    plan.task(discovery, "Share your Microsoft 365 admin credentials", "We need a global admin account to prepare the migration. Credentials are encrypted and only our engineers can reveal them.",
        Side::Client, TaskKind::CredentialHandoff { api_key: false }, Some(-1)).await?;
    plan.task(discovery, "Send your firewall configuration backup", "Export the configuration from your firewall's admin page and drop it here. Files expire automatically.",
        Side::Client, TaskKind::SecureFileDrop { expires_after_days: 7 }, Some(5)).await?;
    plan.task(
        discovery,
        "Audit existing devices",
        "Our engineers inventory every workstation, printer and network device.",
        Side::Msp,
        TaskKind::Standard,
        Some(4),
    )
    .await?;
    let checklist = plan
        .task(
            migration,
            "Prepare workstations for the new agent",
            "Check off each step as you go; our team can tick items too.",
            Side::Client,
            TaskKind::Checklist {
                items: vec![
                    ChecklistItem {
                        id: "list".into(),
                        label: "Send us the list of staff who need a device".into(),
                    },
                    ChecklistItem {
                        id: "hours".into(),
                        label: "Confirm after-hours access to the office".into(),
                    },
                    ChecklistItem {
                        id: "local".into(),
                        label: "Save local files to OneDrive".into(),
                    },
                ],
            },
            Some(10),
        )
        .await?;
    let approve_plan = plan
        .task(
            migration,
            "Approve the migration weekend",
            "We plan to migrate email and files over the weekend of the 12th. Read the plan, then approve, or reject with a better date.",
            Side::Client,
            TaskKind::Approval { document: None },
            Some(7),
        )
        .await?;
    plan.task(
        migration,
        "Migrate mailboxes and shared files",
        "Done by our engineers over the approved weekend.",
        Side::Msp,
        TaskKind::Standard,
        None,
    )
    .await?;
    plan.task(
        golive,
        "Watch: getting help from Bluefin",
        "A four-minute video on raising tickets and reaching the help desk.",
        Side::Client,
        TaskKind::Training {
            video_url: "https://www.youtube.com/watch?v=dQw4w9WgXcQ".into(),
        },
        Some(14),
    )
    .await?;
    plan.task(
        golive,
        "Go-live check-in",
        "We confirm everything works and hand over to the help desk.",
        Side::Msp,
        TaskKind::Standard,
        Some(GO_LIVE_IN_DAYS),
    )
    .await?;

    // The agreement to sign: a real PDF, shown inline on the client's signature page.
    service
        .attach_signature_document(
            &staff,
            p,
            msa,
            "Master Services Agreement v3.pdf",
            portal_core::blob::stream_of(vec![bytes::Bytes::from(agreement_pdf())]),
        )
        .await?;
    // The plan to approve: a real PDF the client opens before deciding (the decision
    // records its SHA-256).
    service
        .attach_file(
            &staff,
            p,
            approve_plan,
            "Migration plan.pdf",
            portal_core::blob::stream_of(vec![bytes::Bytes::from(migration_plan_pdf())]),
        )
        .await?;
    // The MSP's own task is done by the MSP; the client's welcome pack by the
    // client (Dana read it), never by staff on her behalf.
    service.staff_complete(&staff, p, team, None).await?;
    let dana = ClientContext::of(
        &contact,
        tenant.id,
        portal.status,
        now + TimeDelta::hours(1),
    );
    service.complete_task(&dana, pack, None).await?;
    // The team the "Assign your onboarding team" task assigned, in the order the
    // client's home page lists them: Priya (who acts for the MSP in the demo) leads.
    let members = vec![
        TeamMember::new(
            "Priya Natarajan",
            "Project lead",
            "priya@bluefin-it.example",
            None,
        )?,
        TeamMember::new(
            "Tomás Reyes",
            "Network engineer",
            "tomas.reyes@bluefin-it.example",
            None,
        )?,
        TeamMember::new(
            "Grace Okafor",
            "Account manager",
            "grace.okafor@bluefin-it.example",
            None,
        )?,
    ];
    service.set_team(&staff, p, members, None).await?;
    // Go-live is the day of the go-live check-in, the plan's last task.
    service
        .set_target_date(
            &staff,
            p,
            Some(plan.today + Duration::days(GO_LIVE_IN_DAYS)),
        )
        .await?;
    // Two days from now at 10:00 in Chicago, where the client is.
    let chicago = chrono_tz::America::Chicago;
    let day = now.with_timezone(&chicago).date_naive() + Duration::days(2);
    let start = day
        .and_hms_opt(10, 0, 0)
        .and_then(|t| t.and_local_timezone(chicago).earliest())
        .map_or_else(
            || (now + TimeDelta::days(2)).trunc_subsecs(0),
            |t| t.with_timezone(&chrono::Utc),
        );
    let agenda =
        "Introductions\nTimeline, milestones and who does what\nAccess we'll need from you";
    let schedule = MeetingSchedule::new(
        start,
        "America/Chicago",
        45,
        Some("https://meet.example.com/bluefin-contoso"),
        Some(agenda),
    );
    service.schedule_meeting(&staff, p, call, schedule).await?;
    service
        .staff_set_checklist_item(&staff, p, checklist, "hours", true)
        .await?;
    service
        .staff_add_comment(&staff, p, call, "Looking forward to meeting your team! Anyone from the front office is welcome to join.")
        .await?;
    seed_template(service, &staff).await?;
    Ok(Seeded {
        portal,
        contact,
        created: true,
    })
}

/// A one-page PDF of the demo's services agreement, so the client's signature page has
/// a real document.
pub fn agreement_pdf() -> Vec<u8> {
    one_page_pdf(&[
        ("F2", 18, "Master Services Agreement (v3)"),
        (
            "F1",
            11,
            "Between Bluefin Managed IT (\"the MSP\") and Contoso Dental Group (\"the Client\").",
        ),
        ("F1", 11, ""),
        ("F2", 12, "1. Services"),
        (
            "F1",
            11,
            "The MSP provides managed IT services: help desk, monitoring, patching,",
        ),
        (
            "F1",
            11,
            "backups and security for the Client's offices and staff.",
        ),
        ("F2", 12, "2. Service levels"),
        (
            "F1",
            11,
            "Urgent tickets are answered within 1 hour, 24/7; others within 1 business day.",
        ),
        ("F2", 12, "3. Term and fees"),
        (
            "F1",
            11,
            "12 months from go-live, renewed yearly. Fees as in the accepted proposal.",
        ),
        ("F2", 12, "4. Data protection"),
        (
            "F1",
            11,
            "The MSP handles the Client's data only to provide the services, encrypted",
        ),
        (
            "F1",
            11,
            "at rest and in transit, and returns or deletes it when the agreement ends.",
        ),
        ("F1", 11, ""),
        (
            "F1",
            10,
            "Signed electronically through the Bluefin onboarding portal.",
        ),
    ])
}

/// A one-page PDF of the migration plan the client approves.
pub fn migration_plan_pdf() -> Vec<u8> {
    one_page_pdf(&[
        ("F2", 18, "Migration plan: Contoso Dental Group"),
        (
            "F1",
            11,
            "Prepared by Bluefin Managed IT for the migration weekend.",
        ),
        ("F1", 11, ""),
        ("F2", 12, "Friday from 18:00"),
        (
            "F1",
            11,
            "Final backup of the file server; mailboxes switch to read-only.",
        ),
        ("F2", 12, "Saturday"),
        (
            "F1",
            11,
            "Mailboxes and shared files move to Microsoft 365;",
        ),
        (
            "F1",
            11,
            "the domain's mail records point to the new service.",
        ),
        ("F2", 12, "Sunday"),
        (
            "F1",
            11,
            "Checks on every workstation; staff sign in on Monday as usual.",
        ),
        ("F2", 12, "If something goes wrong"),
        (
            "F1",
            11,
            "The old server stays untouched until Wednesday: we switch back within 2 hours.",
        ),
        ("F1", 11, ""),
        (
            "F1",
            10,
            "Approve in the onboarding portal, or reject with a better date.",
        ),
    ])
}

/// A one-page PDF written out by hand (objects, a text stream in Helvetica and
/// Helvetica-Bold, and a cross-reference table with the real offsets), so the demo
/// needs no PDF library. Each line: font (`F1` regular, `F2` bold), size, text.
fn one_page_pdf(lines: &[(&str, u32, &str)]) -> Vec<u8> {
    let escape = |t: &str| {
        t.replace('\\', "\\\\")
            .replace('(', "\\(")
            .replace(')', "\\)")
    };
    let mut content = String::from("BT\n72 720 Td\n");
    for (font, size, text) in lines {
        content.push_str(&format!(
            "/{font} {size} Tf\n({}) Tj\n0 -{} Td\n",
            escape(text),
            size + 9
        ));
    }
    content.push_str("ET");
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_owned(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R \
         /Resources << /Font << /F1 5 0 R /F2 6 0 R >> >> >>"
            .to_owned(),
        format!(
            "<< /Length {} >>\nstream\n{content}\nendstream",
            content.len()
        ),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_owned(),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold >>".to_owned(),
    ];
    let mut pdf = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offsets = Vec::with_capacity(objects.len());
    for (i, body) in objects.iter().enumerate() {
        offsets.push(pdf.len());
        pdf.extend_from_slice(format!("{} 0 obj\n{body}\nendobj\n", i + 1).as_bytes());
    }
    let xref = pdf.len();
    let mut table = format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1);
    for o in offsets {
        table.push_str(&format!("{o:010} 00000 n \n"));
    }
    table.push_str(&format!(
        "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
        objects.len() + 1
    ));
    pdf.extend_from_slice(table.as_bytes());
    pdf
}

/// A plan template, so that a person trying the staff console can start a portal
/// from one straight away.
async fn seed_template(service: &PortalService, staff: &StaffContext) -> portal_core::Result<()> {
    use portal_core::workflow::template::{TemplatePhase, TemplateTask};
    let task = |title: &str, description: &str, assignee, days| TemplateTask {
        for_role: None,
        title: title.to_owned(),
        description: description.to_owned(),
        assignee,
        kind: TaskKind::Standard,
        due_offset_days: Some(days),
        waits_on: Vec::new(),
        internal: false,
    };
    let phases = vec![
        TemplatePhase {
            name: "Kickoff".to_owned(),
            tasks: vec![
                task(
                    "Tell us who your key contacts are",
                    "Who approves changes, who gets alerts, and who we call after hours.",
                    Side::Client,
                    3,
                ),
                task(
                    "Send us your network diagram",
                    "A PDF, or a photo of a whiteboard sketch, is fine.",
                    Side::Client,
                    7,
                ),
                task("Deploy the monitoring agent", "", Side::Msp, 10),
            ],
        },
        TemplatePhase {
            name: "Go-live".to_owned(),
            tasks: vec![task(
                "Confirm the go-live date",
                "We switch support over to Bluefin on this day.",
                Side::Client,
                30,
            )],
        },
    ];
    service
        .create_template(staff, "Standard MSP onboarding", phases)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    /// The agreement is a well-formed PDF: every cross-reference offset points at its
    /// object, `startxref` at the table, and the stream's length is its own.
    #[test]
    fn the_agreement_pdf_has_true_offsets() {
        let pdf = super::agreement_pdf();
        // The binary comment's bytes as `?`, so text offsets are byte offsets.
        let text: String = pdf
            .iter()
            .map(|&b| if b.is_ascii() { b as char } else { '?' })
            .collect();
        assert!(pdf.starts_with(b"%PDF-1.4\n"));
        assert!(text.ends_with("%%EOF\n"));
        let start: usize = text
            .rsplit("startxref\n")
            .next()
            .and_then(|t| t.lines().next())
            .unwrap()
            .parse()
            .unwrap();
        assert!(pdf[start..].starts_with(b"xref\n0 7\n"));
        let entries: Vec<usize> = text[start..]
            .lines()
            .skip(3)
            .take(6)
            .map(|l| l[..10].parse().unwrap())
            .collect();
        for (i, at) in entries.iter().enumerate() {
            let head = format!("{} 0 obj\n", i + 1);
            assert!(pdf[*at..].starts_with(head.as_bytes()), "object {}", i + 1);
        }
        let length: usize = text
            .split("/Length ")
            .nth(1)
            .and_then(|t| t.split(' ').next())
            .unwrap()
            .parse()
            .unwrap();
        let stream = text.find("stream\n").unwrap() + "stream\n".len();
        assert_eq!(&text[stream + length..stream + length + 10], "\nendstream");
        assert_eq!(
            portal_core::files::sniff(&pdf, true),
            Some(portal_core::files::FileType::Pdf)
        );
    }
}
