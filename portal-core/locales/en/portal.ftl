# The portal's client-facing messages in English: pages, emails, dates.
# Every key here is also in es/portal.ftl with the same arguments (a unit test of
# portal_core::i18n checks it). Plurals use Fluent selectors, never an added "s".

## Dates and numbers

# Short weekday names, 1 = Monday.
date-weekday = { $weekday ->
    [1] Mon
    [2] Tue
    [3] Wed
    [4] Thu
    [5] Fri
    [6] Sat
   *[7] Sun
}
# Short month names, 1 = January.
date-month = { $month ->
    [1] Jan
    [2] Feb
    [3] Mar
    [4] Apr
    [5] May
    [6] Jun
    [7] Jul
    [8] Aug
    [9] Sep
    [10] Oct
    [11] Nov
   *[12] Dec
}
# A date: "Tue 3 Mar 2026".
date = { $weekday } { $day } { $month } { $year }
# A date and a clock time: "Tue 3 Mar 2026, 09:00 EST".
date-time = { $date }, { $clock }

count-days = { $count ->
    [one] { $count } day
   *[other] { $count } days
}
count-hours = { $count ->
    [one] { $count } hour
   *[other] { $count } hours
}
count-minutes = { $count ->
    [one] { $count } minute
   *[other] { $count } minutes
}
count-seconds = { $count ->
    [one] { $count } second
   *[other] { $count } seconds
}
count-bytes = { $count ->
    [one] { $count } byte
   *[other] { $count } bytes
}
duration-a-day = a day
duration-an-hour = an hour

## The frame of every page

frame-neutral-company = Client portal
frame-skip = Skip to content
frame-footer-branded = Secure client portal of { $company }.
frame-footer-private = This page is private to you: don't share its address.
nav-label = Portal
nav-team = Your team
nav-ask = Ask a Question
nav-settings = Settings
nav-sign-out = Sign out

## Access pages (invite, verification, magic link)

title-invite = Your onboarding portal
title-verify = Check your email
title-magic = Confirm it's you
invite-welcome = Welcome, { $name }
invite-set-up = { $company } has set up an onboarding portal for <strong>{ $client }</strong>.
invite-we-email = To make sure it's really you, we'll email a sign-in link and a 6-digit code to <strong>{ $email }</strong>, the address we have on file.
invite-send = Send verification email
invite-hint = No account or password needed. This link is personal to you: colleagues who need access get their own invitation.
verify-title = Check your email
verify-sent = We sent an email to <strong>{ $email }</strong>. Open the link in it, or enter the 6-digit code here.
verify-code-until = The code works until { $time }.
verify-code-label = Verification code
verify-continue = Continue
verify-didnt-get-it = Didn't get it? Check your spam folder, or
verify-send-new = send a new code
verify-codes-left = { $count ->
    [one] ({ $count } more code can be sent; a new code replaces the previous one).
   *[other] ({ $count } more codes can be sent; a new code replaces the previous one).
}
verify-all-sent = All { $count } codes for this sign-in have been sent. To start over, open your invitation link again.
magic-title = Confirm it's you
magic-continue-as = Continue to the { $client } onboarding portal as <strong>{ $name }</strong>.
magic-button = Continue to the portal
magic-hint = This confirmation step stops email security scanners from using your link before you do.

## Error pages and notices

error-unsupported-form-title = Unsupported form
error-unsupported-form-text = Please submit the form from the portal page.
error-form-too-large-title = Form too large
error-form-too-large-text = What you sent is larger than this form accepts. Shorten it and try again.
error-the-form-took-too-title = The form took too long to arrive
error-the-form-took-too-text = Your connection may be slow or interrupted. Nothing was saved: please go back and try again.
error-the-request-could-not-title = The request could not be read
error-the-request-could-not-text = Please try again.
error-this-page-has-expired-title = This page has expired
error-this-page-has-expired-text = For your security, forms only work from a page you opened recently. Go back, reload the page, and try again.
error-not-allowed-title = Not allowed
error-not-allowed-text = This address doesn't accept that kind of request.
error-this-form-came-from-title = This form came from another website
error-this-form-came-from-text = For your security, nothing was changed. The portal only accepts forms sent from its own pages. Open the portal from the link in your email and try again there.
error-please-sign-in-again-title = Please sign in again
error-please-sign-in-again-text = Your session has ended. Open the invitation link from your email to sign in again: we'll send you a new verification code.
error-this-signin-has-ended-title = This sign-in has ended
error-this-signin-has-ended-text = This sign-in was completed or replaced by a newer one. Use the link in your newest email, or open your invitation link again.
error-this-link-isnt-valid-title = This link isn't valid
error-this-link-isnt-valid-text = This sign-in link was already used or replaced by a newer one. Use the link in your newest email, or open your invitation link again.
error-page-not-found-title = Page not found
error-page-not-found-text = There is no page at this address. Check the link in your email.
error-not-found-title = Not found
error-not-found-text = No such image.
error-this-link-isnt-valid-2-title = This link isn't valid
error-this-link-isnt-valid-2-text = This reminder link is incomplete or was changed. Use the link exactly as it is in the reminder email.
error-this-link-has-expired-title = This link has expired
error-this-link-has-expired-text = Reminder links work for a limited time. Use the link in your newest reminder email.
error-no-meeting-scheduled-yet-title = No meeting scheduled yet
error-no-meeting-scheduled-yet-text = Your onboarding team hasn't scheduled this meeting yet. Its calendar invite appears on the task once they have.
error-file-not-found-title = File not found
error-file-not-found-text = This file isn't part of your portal, or it has been removed. Go back to your portal to see your documents.
error-not-found-2-title = Not found
error-not-found-2-text = This isn't part of your portal, or it has been removed. Go back to your portal to see what's there.
error-this-link-isnt-valid-3-title = This link isn't valid
error-this-link-isnt-valid-3-text = We couldn't find an invitation for this link. It may have been replaced by a newer invitation: check your email for the latest one, or ask your contact at the company that invited you.
error-access-revoked-title = Access revoked
error-access-revoked-text = Your access to this portal has been withdrawn. If you think this is a mistake, contact the company that invited you.
error-this-portal-isnt-open-title = This portal isn't open yet
error-this-portal-isnt-open-text = Your onboarding team is still preparing this portal. They'll let you know when it's ready; your invitation link will work then.
error-this-portal-is-closed-title = This portal is closed
error-this-portal-is-closed-text = This onboarding portal has been closed. If you still need something from it, contact the company that invited you.
error-not-allowed-2-title = Not allowed
error-not-allowed-2-text = You can't do that in this portal.
error-out-of-storage-space-title = Out of storage space
error-out-of-storage-space-text = The server is out of storage space, so your change was not saved. Please try again later.
error-something-went-wrong-on-title = Something went wrong on our side
error-something-went-wrong-on-text = Please try again in a moment. If it keeps happening, contact the company that invited you.
error-slow-down-title = Please slow down
error-slow-down-text = { $count ->
    [one] You're sending a lot quickly — wait a minute, then try again. The portal accepts up to { $count } change a minute; what you just sent was not saved.
   *[other] You're sending a lot quickly — wait a minute, then try again. The portal accepts up to { $count } changes a minute; what you just sent was not saved.
}
error-network-title = Too many attempts from your network
error-network-text = { $count ->
    [one] Too many sign-in attempts came from your network recently; try again in { $count } minute. Nothing was sent or checked this time. If you share your internet connection with many colleagues, one of them may be signing in too.
   *[other] Too many sign-in attempts came from your network recently; try again in { $count } minutes. Nothing was sent or checked this time. If you share your internet connection with many colleagues, one of them may be signing in too.
}
error-signin-expired-title = This sign-in has expired
error-signin-expired-text = A sign-in works for { $duration } from its start. Open your invitation link again to start a new one.
error-code-expired-text = Sign-in links and codes work for { $duration }. Open your invitation link again to get a new one.
error-too-many-codes-title = Too many codes requested
error-too-many-codes-text = { $count ->
    [one] We've already sent { $count } code for this sign-in, the most allowed. Check your inbox and spam folder for the newest email, or open your invitation link again later to start over.
   *[other] We've already sent { $count } codes for this sign-in, the most allowed. Check your inbox and spam folder for the newest email, or open your invitation link again later to start over.
}
error-wrong-tries-title = Too many wrong tries
error-wrong-tries-text = { $count ->
    [one] That code was entered wrongly { $count } time and no longer works. Open your invitation link again to get a new one.
   *[other] That code was entered wrongly { $count } times and no longer works. Open your invitation link again to get a new one.
}
error-locked-out-title = Too many wrong codes
error-locked-out-text = For your security, codes can't be used for now because too many wrong ones were entered. You can try again after { $time }. The sign-in link in your newest email still works.
error-too-many-emails-title = Too many emails
error-too-many-emails-text = { $count ->
    [one] We've sent { $count } verification email to this address within { $duration }, the most allowed. Please check your inbox (and spam folder) for the newest one, or try again later.
   *[other] We've sent { $count } verification emails to this address within { $duration }, the most allowed. Please check your inbox (and spam folder) for the newest one, or try again later.
}
error-check-input-title = Please check your input
error-conflict-title = That can't be done right now
error-stale-title = Someone changed this in the meantime
error-too-large-title = Too large
error-too-large-text = What you sent is larger than the { $size } allowed here. Nothing was saved: make it smaller and try again.
error-mail-title = We couldn't send the email
error-mail-text = Our email service didn't accept the message just now, so no email is on its way to you.
back-to-invitation = Back to your invitation
back-to-sign-in = Back to the sign-in page
back-to-portal = Back to your portal
back-to-task = Back to the task
download-refused-title = This file can't be downloaded
signed-out-title = You're signed out
signed-out-text = To come back, open the invitation link from your email. We'll send you a new verification code.
snooze-title = Remind me later
snooze-question = Hold the reminders for “{ $task }” for 3 days, { $name }?
snooze-button = Remind me in 3 days
snooze-hint = Other tasks are still reminded as usual.
stop-title = Stop reminders
stop-question = Stop reminder emails from the { $client } onboarding portal to { $email }?
stop-hint = You will still get sign-in codes and messages from { $company }, and your tasks stay in the portal.
snoozed-title = Reminders paused
snoozed-text = We won't remind you about “{ $task }” for the next 3 days.
stopped-title = Reminders stopped
stopped-text = { $email } will not get reminder emails from this portal any more. Sign-in codes and messages still arrive.
verify-notice-sent = We sent a new code. It replaces the previous one.
verify-error-wrong = { $count ->
    [one] That code isn't right. You can try { $count } more time.
   *[other] That code isn't right. You can try { $count } more times.
}
verify-error-format = Enter the 6-digit code from the email.
verify-error-expired = This code has expired. Send a new code below.
verify-error-too-many = Too many wrong tries: this code no longer works. Send a new code below.

## Activity

# One line of the activity feed; $kind is the entry's kind (ActivityKind's name).
activity-line = { $kind ->
    [TaskCompleted] { $who } completed “{ $subject }”
    [ProgressSaved] { $who } saved progress on “{ $subject }”
    [ItemChecked] { $who } checked an item on “{ $subject }”
    [ItemUnchecked] { $who } unchecked an item on “{ $subject }”
    [Approved] { $who } approved “{ $subject }”
    [Rejected] { $who } rejected “{ $subject }”
    [MeetingScheduled] { $who } scheduled “{ $subject }”
    [MeetingRescheduled] { $who } rescheduled “{ $subject }”
    [TaskBlocked] { $who } blocked “{ $subject }”
    [TaskUnblocked] { $who } unblocked “{ $subject }”
    [TaskReopened] { $who } reopened “{ $subject }”
    [Commented] { $who } commented on “{ $subject }”
    [QuestionAsked] { $who } asked a question: “{ $subject }”
    [QuestionAnswered] { $who } answered a question: “{ $subject }”
    [DocumentUploaded] { $who } uploaded a document to “{ $subject }”
    [DocumentApproved] { $who } approved a document of “{ $subject }”
    [DocumentRejected] { $who } rejected a document of “{ $subject }”
    [DocumentQuarantined] { $who } had a document quarantined by the virus scan on “{ $subject }”
    [DocumentScanned] { $who } scanned a document again on “{ $subject }”
    [TaskAdded] { $who } added the task “{ $subject }”
    [TaskEdited] { $who } edited “{ $subject }”
    [TaskMoved] { $who } moved “{ $subject }”
    [TaskDeleted] { $who } deleted the task “{ $subject }”
    [TaskUnlocked] “{ $subject }” is ready: everything it waited for is done
    [PhaseRenamed] { $who } renamed a phase to “{ $subject }”
    [PhaseMoved] { $who } moved the phase “{ $subject }”
    [PhaseDeleted] { $who } deleted the phase “{ $subject }”
    [PlanApplied] { $who } set up the plan from the template “{ $subject }”
    [ContactRemoved] { $who } removed the contact “{ $subject }”
    [PortalRenamed] { $who } renamed the portal to “{ $subject }”
    [TargetDateSet] { $who } changed the target go-live date of “{ $subject }”
    [ContactEdited] { $who } updated the contact “{ $subject }”
    [PortalCreated] { $who } created the portal for “{ $subject }”
    [PortalStatusChanged] { $who } set the portal's status to “{ $subject }”
    [BrandingChanged] { $who } changed the portal's branding to “{ $subject }”
    [PhaseAdded] { $who } added the phase “{ $subject }”
    [ContactAdded] { $who } added the contact “{ $subject }”
    [ContactInvited] { $who } sent an invitation to “{ $subject }”
    [InviteLinkIssued] { $who } issued an invite link for “{ $subject }”
    [InviteRevoked] { $who } revoked the invite of “{ $subject }”
    [ContactRevoked] { $who } revoked the access of “{ $subject }”
    [ReminderSettingsChanged] { $who } changed the reminder settings of “{ $subject }”
    [FileDropped] { $who } dropped a file on “{ $subject }”
    [FileDeleted] { $who } deleted a dropped file of “{ $subject }”
    [FileDownloaded] { $who } downloaded a dropped file of “{ $subject }”
    [FileExpired] { $who } removed an expired file of “{ $subject }”
    [StuckReported] { $who } is stuck on “{ $subject }”
    [StuckCleared] { $who } answered and cleared the stuck report on “{ $subject }”
    [DueDateRequested] { $who } asked for a new due date for “{ $subject }”
    [DueDateApproved] { $who } approved a new due date for “{ $subject }”
    [DueDateDeclined] { $who } declined a new due date for “{ $subject }”
    [TeamChanged] { $who } changed the onboarding team of “{ $subject }”
    [ColleagueInvited] { $who } invited their colleague “{ $subject }”
    [ColleagueApproved] { $who } approved the invited colleague “{ $subject }”
    [ColleagueDeclined] { $who } declined the invited colleague “{ $subject }”
    [TaskClaimed] { $who } took on “{ $subject }”
    [TaskHandedOff] { $who } handed on “{ $subject }”
    [ColleagueInvitationsSet] { $who } changed who may invite colleagues to “{ $subject }”
    [AttachmentAdded] { $who } shared a document on “{ $subject }”
    [AttachmentDeleted] { $who } removed a shared document from “{ $subject }”
    [GuestInvited] { $who } invited the guest “{ $subject }”
    [GuestTaskShared] { $who } shared a task with the guest “{ $subject }”
    [GuestTaskUnshared] { $who } stopped sharing a task with the guest “{ $subject }”
    [GuestAccessEnded] { $who } ended the access of the guest “{ $subject }”
    [HandoverStarted] { $who } started the handover from the previous provider “{ $subject }”
   *[other] { $who }: “{ $subject }”
}

## Statuses and badges

task-status = { $status ->
    [pending] Pending
    [in_progress] In progress
    [completed] Completed
   *[blocked] Blocked
}
phase-status = { $status ->
    [pending] Pending
    [in_progress] In progress
   *[completed] Completed
}
task-badge = { $kind ->
    [standard] Mark complete
    [meeting] Meeting
    [document_upload] Document upload
    [signature] Signature
    [credential_handoff] Credentials
    [secure_file_drop] Secure file drop
    [training] Training video
    [survey] Form
    [checklist] Checklist
   *[approval] Approval
}
waiting-on = { $on ->
    [review] Waiting for { $msp } to review
    [blocked] On hold: { $msp } will unblock it
    [prerequisites] Waiting for an earlier step
    [scheduling] Waiting for { $msp } to schedule it
    [msp] With { $msp }
   *[stuck] Waiting for { $msp } to help
}
document-status = { $status ->
    [requested] Requested
    [uploaded] Uploaded
    [approved] Approved
   *[rejected] Rejected
}
document-meaning = { $status ->
    [requested] Waiting for upload
    [uploaded] Submitted, awaiting review
    [approved] Reviewed and accepted
   *[rejected] Needs to be re-uploaded
}

## Files and documents

file-type = { $type ->
    [Pdf] PDF
    [Png] PNG image
    [Jpeg] JPEG image
    [Gif] GIF image
    [Webp] WebP image
    [Heic] HEIC photo
    [Tiff] TIFF image
    [Docx] Word document
    [Xlsx] Excel spreadsheet
    [Pptx] PowerPoint presentation
    [Doc] Office 97-2003 file or Outlook message
    [Odt] OpenDocument text
    [Ods] OpenDocument spreadsheet
    [Odp] OpenDocument presentation
    [Zip] ZIP archive
    [SevenZip] 7-Zip archive
   *[Text] Text file (TXT, CSV, log)
}
file-type-any = PDF, Office and OpenDocument files, images (PNG, JPEG, GIF, WebP, HEIC, TIFF), ZIP and 7-Zip archives, text files
file-state = { $state ->
    [pending] Waiting for review
    [held] Held until the virus scan can check it
    [approved] Approved
    [rejected] Rejected
    [superseded] Replaced before review
   *[quarantined] Quarantined by the virus scan
}
notes-from = Notes from { $name }
notes-from-scan = From the virus scan
notes = Notes

## Portal home

tab-label = { $tab ->
    [tasks] Your Tasks
    [progress] Our Progress
    [documents] Documents
   *[approvals] Approvals
}
tab-count-open = { $count } open
tab-count-done = { $percent }% done
tab-count-upload = { $count } to upload
tab-count-decide = { $count } to decide
tabs-label = Portal sections
panel-tasks-title = Your tasks
panel-tasks-intro = What we need from you, phase by phase.
panel-tasks-empty = There is nothing for you to do right now.
panel-progress-title = Our progress
panel-progress-intro = The whole onboarding plan: our tasks and yours, phase by phase.
panel-progress-empty = The onboarding plan is still being prepared.
panel-documents-title = Documents
panel-documents-intro = Every document we asked for and where it stands. Upload from the document's task.
panel-documents-empty = No documents have been requested.
panel-approvals-title = Approvals
panel-approvals-intro = Decisions we need from you: pending ones first.
panel-approvals-empty = No approvals are needed.
home-title = { $client } onboarding
signed-in-as = Signed in as { $name }
next-step = Next step
badge-title = What this task needs
due = Due { $date }
overdue = Overdue
due-soon = Due soon
blocked-label = Blocked:
waiting-for-label = Waiting for:
done-complete = Your onboarding is complete
done-all-done = You're all done — here's what happens next
done-thanks = Every task of the plan is done. Thank you!
done-msp-working = { $company } is working on:
quoted = “{ $text }”
done-waiting = { $count ->
    [one] One of your tasks is waiting on { $company }. It will show up here when it's ready for you.
   *[other] { $count } of your tasks are waiting on { $company }. They will show up here when they're ready for you.
}
done-colleagues = { $count ->
    [one] One task is with a colleague.
   *[other] { $count } tasks are with your colleagues.
}
go-live = Target go-live: <strong>{ $date }</strong>
overall-progress = Overall progress: <strong>{ $percent }%</strong> ({ $completed } of { $total } tasks complete)
shared-by = Shared by { $company }
doc-opened = Opened
doc-not-opened = Not opened yet
task-label = Task:
shared-at = shared { $time }
open = Open
download = Download
requested-from-you = Requested from you
uploaded-at = uploaded { $time }
version = version { $version }
upload = Upload
upload-new-version = Upload a new version
for-name = for { $name }
in-name = in { $name }
to-name = to { $name }
current-phase = Current phase
phase-percent = <strong>{ $percent }%</strong> done ({ $completed } of { $total } tasks, ours and yours)
planned = Planned { $dates }
phase-no-tasks = No tasks in this phase yet.
phase-show-tasks = { $count ->
    [one] Show its task
   *[other] Show its { $count } tasks
}
phase-nothing-left = Nothing left for you in this phase.
phase-completed = { $count } completed
team-title = Your onboarding team
team-hint = The people at { $company } working on your onboarding. Write to them, or <a href="{ $href }">ask the whole team a question</a>.
ask-a-question = Ask a question
activity-title = Recent activity
activity-empty = Nothing has happened yet.
button-start = Start
button-continue = Continue
outcome-approved = Approved
outcome-rejected = Rejected
side-you = You
side-with-colleague = With a colleague
side-with = With { $names }
assigned-role = For the { $role } contact
assigned-role-you = For the { $role } contact: you
assigned-role-names = For the { $role } contact: { $names }
assigned-you = Assigned to you
assigned-colleague = Assigned to a colleague
assigned-names = Assigned to { $names }

## Emails

email-hi = Hi { $name },
email-signoff = — { $company }
email-invite-subject = { $company } invited you to your onboarding portal
email-invite-title = Your onboarding portal
email-invite-intro-html = <strong>{ $company }</strong> has set up an onboarding portal for { $client }. It shows what we need from you, lets you complete it in one place, and shows how the onboarding is going.
email-invite-intro = { $company } has set up an onboarding portal for { $client }. It shows what we need from you, lets you complete it in one place, and shows how the onboarding is going.
email-invite-button = Open your portal
email-invite-open = Open your portal:
email-invite-personal = This link is personal to you: please don't forward it. Colleagues who need access get their own invitation. When you open it, we'll email you a code to confirm it's you. No account or password is needed.
email-verify-subject = Your { $company } portal verification code
email-verify-title = Your verification code
email-verify-asked-html = Someone (hopefully you) asked to open your <strong>{ $company }</strong> onboarding portal.
email-verify-asked = Someone (hopefully you) asked to open your { $company } onboarding portal.
email-verify-button = Confirm it's me
email-verify-open-link = Open this link to confirm it's you:
email-verify-or-code = Or enter this code in the browser tab where you asked for it:
email-verify-works = The link and code work for { $lifetime } (until { $expires }) and only once.
email-verify-ignore = If you didn't ask for this, you can ignore this email: nobody can open your portal without it.

## Settings, team, questions, guests

settings-zone-title = Time zone
settings-zone-shown = Every date and time in your portal is shown in <strong>{ $zone }</strong>.
settings-zone-label = Your time zone
settings-zone-save = Save time zone
settings-devices-title = Signed-in devices
settings-devices-hint = Where your portal is open now. If you see a device you don't use any more, sign it out.
settings-this-device = This device
settings-device-times = Last used { $last } · signed in { $since }
settings-sign-out-others = Sign out other devices
settings-no-other = No other device is signed in.
settings-notice-zone = Time zone saved. Every time in your portal is now shown in it.
settings-notice-others = Every other device is signed out. This one stays signed in.
settings-error-zone = Please choose your time zone from the list.
device-on = { $browser } on { $system }
device-browser-on = A browser on { $system }
device-unknown = Unknown device
team-page-intro = Everyone at your company who can see this onboarding portal. Each person signs in with their own link.
team-you = (you)
team-awaiting = Waiting for your onboarding team to approve.
team-since = Since <time>{ $time }</time>.
team-invite-title = Invite a colleague
team-invite-after-approval = Your onboarding team approves each invitation first; then your colleague gets their own sign-in link by email.
team-invite-at-once = Your colleague gets their own sign-in link by email right away. Your onboarding team is told.
team-their-name = Their name
team-their-email = Their work email
team-invite-button = Invite colleague
team-notice-invited = Invitation sent. Your colleague gets their own sign-in link by email.
team-notice-requested = Thank you. Your onboarding team will approve your colleague, who then gets their own sign-in link.
team-error-name = Nothing was sent: please enter your colleague's name (up to 200 characters).
team-error-email = Nothing was sent: enter an email address like name@example.com.
team-error-taken = Nothing was sent: someone with this email is already on your team.
team-error-full = Nothing was sent: your team has as many people as the portal allows. Ask your onboarding team for help.
questions-intro = Ask your onboarding team anything. They get it by email and answer here.
questions-to = To
questions-to-hint = Everyone on your onboarding team, or one person: they get it by email.
questions-label = Your question
questions-send = Send question
questions-list-title = Questions and answers
questions-none = No questions yet.
questions-to-name = To: { $name }
questions-answered = <strong>{ $name }</strong> answered <time>{ $time }</time>
questions-waiting = Waiting for an answer.
questions-whole-team = The whole onboarding team
questions-error-to = Please choose who to ask: the person you chose is no longer on your onboarding team.
questions-error-text = Please check your question: it can't be empty and can be up to 5,000 characters.
guest-page-title = Tasks shared with you
guest-title = Tasks shared with you by { $company }
guest-intro = { $company } is onboarding { $client } and asked you to help with these tasks. You see only these tasks and their messages.
guest-access-ends = Your access ends on { $time }.
guest-none = No task is shared with you at the moment.

notice-completed = Marked complete. Thank you!
notice-saved = Draft saved. You can come back and submit it later.
notice-submitted = Form submitted. Thank you!
notice-checked = Item checked.
notice-unchecked = Item unchecked.
notice-approved = Approved. Your decision has been recorded.
notice-rejected = Rejected. Your decision has been recorded.
notice-commented = Comment posted.
notice-stuck = Sent. Your onboarding team has been told you're stuck and will answer in the comments below.
notice-due-date = Asked. Your onboarding team will approve or decline the new date; you'll get an email.
notice-asked = Question sent. Your onboarding team will answer here.
notice-claim = It's yours now: the task shows as assigned to you.
notice-hand-off = Handed over. Your colleague has been emailed a link to this task.
notice-signed = Signed. Thank you! Your evidence certificate is linked below.
notice-credentials = Credentials submitted. They are encrypted and only your onboarding team can reveal them.
notice-uploaded = Uploaded. Your onboarding team will review it and you'll see the result here.
notice-dropped = File dropped. It is encrypted, and only your onboarding team can download it until it expires.
notice-dropped-several = Files dropped. They are encrypted, and only your onboarding team can download them until they expire.
notice-deleted = File deleted.
notice-quarantined = Our virus scan flagged the file you uploaded, so nobody can open it. See the note on the document below.

## Task page

task-complete-label = Complete this task
task-completed-by = Completed by { $name } on { $time }
task-notes-label = Notes or evidence
optional = (optional)
required = (required)
task-mark-complete = Mark Complete
task-meeting-label = Meeting
meeting-when = When
meeting-duration = Duration
meeting-agenda = Agenda
meeting-join = Join Meeting
meeting-ics = Download Calendar Invite
meeting-unscheduled = Your onboarding team will schedule this meeting and the date will appear here.
training-label = Training video
training-iframe-title = Training video: { $title } ({ $provider })
training-open-on = Open the video on { $provider }
training-if-no-player = (if the player above doesn't load)
survey-label = Form
survey-submitted-by = Submitted by { $name } on { $time }
survey-draft-saved = Draft saved { $time }. Submit when you're done.
survey-no-answer = No answer
survey-submit = Submit
survey-save = Save draft
checklist-label = Checklist
checklist-done = <strong>{ $completed } of { $total }</strong> done
checklist-progress = Checklist progress
checklist-of = { $completed } of { $total }
checklist-checked-by = Checked by { $name } on { $time }
checklist-uncheck = Uncheck
