# The task page: its sections, buttons, statuses and messages.
# Every key here is also in es/task.ftl with the same arguments. The page's older keys
# (task-completed-by, meeting-when, survey-*, checklist-*) are in portal.ftl.

## Who does the task

task-readonly-msp = { $company } does this task. You can follow its progress and comment here.
task-readonly-locked = You can do this task once what it waits for is done; you can comment here meanwhile.

## Meeting: its time as the contact reads it

# Full weekday names, 1 = Monday.
meeting-weekday = { $weekday ->
    [1] Monday
    [2] Tuesday
    [3] Wednesday
    [4] Thursday
    [5] Friday
    [6] Saturday
   *[7] Sunday
}
# Full month names, 1 = January.
meeting-month = { $month ->
    [1] January
    [2] February
    [3] March
    [4] April
    [5] May
    [6] June
    [7] July
    [8] August
    [9] September
    [10] October
    [11] November
   *[12] December
}
# "Saturday 28 November 2026".
meeting-date = { $weekday } { $day } { $month } { $year }
# A clock time: "9:00 AM"; $minute has its two digits.
meeting-clock = { $hour }:{ $minute } { $ampm ->
    [am] AM
   *[pm] PM
}
# "Saturday 28 November 2026, 9:00 AM – 9:45 AM CST"; $zone is the abbreviation.
meeting-range = { $date }, { $start } – { $end } { $zone }
# A duration of more than an hour that is not whole hours.
meeting-duration-hm = { $hours } h { $minutes } min

## Checklist

checklist-check = Check

## Shared documents and approval

shared-title = Documents from { $company }
approval-label = Approval
approval-document = Supporting document to review: <strong>{ $name }</strong> <span class="hint">(your onboarding team shares it with you)</span>
# The decision: $approved is "yes" or "no".
approval-decided = { $approved ->
    [yes] ✓ Approved
   *[no] ✗ Rejected
} by { $name } <span class="who-email">({ $email })</span> on { $time }
approval-decided-on = Decided on { $name } <span class="hash">(SHA-256 <code>{ $hash }</code>)</span>
approval-open-first = Open the document before you decide. Use “Open” above; then reload this page.
approval-comment = Comment
approval-approve = Approve
approval-reject = Reject

## Document upload

documents-title = Requested documents
documents-hint = Upload one file for each document. { $company } reviews every file: you'll see here when a document is approved, or what to change if it isn't.
documents-several-label = Upload several files at once
documents-several-hint = Drop several files here, or choose them. The first file goes to the first document below that still needs one, the next file to the next, and so on. To send a file for a particular document, use that document's own upload area.

## Credentials

credentials-title = Credentials
credentials-submitted-by = Submitted by { $name } at { $time }
credentials-encrypted = They are encrypted. Once submitted, they cannot be viewed here: only { $company } can reveal them.
credentials-purged = { $company } has since deleted them.
credentials-intro = Fill in the credentials and click Submit Credentials to send them securely to { $company }. They are encrypted; once submitted, you cannot view them here again.
credentials-username = Username
credentials-password = Password
credentials-show-password = Show password
credentials-api-key = API key
credentials-notes = Notes
credentials-notes-hint = (optional: sign-in address, MFA instructions, …)
credentials-submit = Submit Credentials

## Secure file drop

drops-title = Secure file drop
drops-intro = Files you drop here are encrypted and only { $company } can download them. Each file is deleted automatically { $keep } after you drop it. You can delete a file yourself until { $company } has downloaded it.
drops-choose = Choose files to drop
drops-limit = Up to { $max } each. You can choose several files at once.
drops-dropzone-hint = Drop files here, or choose them: they are sent straight away.
drops-submit = Drop files
drops-empty = No files dropped yet.
# A file no longer available: $state is "deleted" or "expired".
drop-gone = { $state ->
    [deleted] Deleted
   *[expired] Expired
}: no longer available.
drop-expires-in = expires in { $left }
drop-expires-on = (on { $time })
drop-downloaded = Downloaded by your onboarding team on { $time }
drop-delete = Delete
time-left-under-a-minute = less than a minute

## Signature

signature-title = Signature
signature-signed-by = Signed by { $name } at { $time }
signature-certificate = <a href="{ $href }">View the evidence certificate</a> (signer, time, and the fingerprints that prove the signature was not changed)
signature-signed-document = Signed document:
signature-download = Download { $name }
signature-review = Review the document <strong>{ $name }</strong> before you sign.
signature-review-unshared = Review the document <strong>{ $name }</strong> before you sign. Your onboarding team will share it with you if you don't have it yet.
signature-frame-title = The document to sign: { $name }
signature-hint = Draw your signature in the box, or type your full name, then tick the statement and click Submit Signature.
signature-pad = Draw your signature here (mouse, finger or pen):
signature-clear = Clear
signature-or-type = Or, instead of drawing, type your name:
signature-typed-name = Your full name
signature-submit = Submit Signature
# The consent statement when the MSP has not worded its own: recorded word for word
# (and hashed) in the language the signer read it in.
signature-default-consent = I agree that this is my electronic signature, that it is as valid as my handwritten signature, and that I have reviewed the document shown above, if there is one.

## Help: "I'm stuck" and due-date requests

help-title = Need help with this task?
help-stuck-waiting = <strong>Waiting for { $company } to help.</strong> You said you're stuck on { $time }
help-stuck-waiting-reason = <strong>Waiting for { $company } to help.</strong> You said you're stuck on { $time }: “{ $reason }”
help-stuck-emailed = They have been emailed and will answer in the comments below. Meanwhile this task is not counted as overdue.
help-cleared = { $name } answered on { $time }. The task is yours to continue.
help-stuck-summary = I'm stuck
help-stuck-label = What stops you?
help-stuck-hint = { $company } is emailed at once and answers in the comments. Up to 1000 characters.
help-stuck-submit = Tell { $company } I'm stuck
help-requests-title = Due-date requests
# The state of a due-date request: $status is "pending", "approved" or "declined".
due-request-status = { $status ->
    [pending] Waiting for { $company }
    [approved] Approved
   *[declined] Declined
}
due-request-asked = Asked by { $name } on { $time }: “{ $reason }”
# A decided request: $approved is "yes" or "no".
due-request-decided = { $approved ->
    [yes] Approved
   *[no] Declined
} by { $name } on { $time }
due-request-decided-note = { $approved ->
    [yes] Approved
   *[no] Declined
} by { $name } on { $time }: “{ $note }”
help-due-summary = Ask for a new due date
help-due-label = New due date
help-due-hint = Today or later. { $company } approves or declines it; the date changes only once approved.
help-due-reason = Why do you need it?
help-due-submit = Ask for this date

## Who does this task (claim, hand-off)

task-team-title = Who does this task?
task-team-nobody = Nobody on your team has taken this task on yet.
task-team-claim = Take this task on
task-team-hand-off = Hand this task to a colleague
task-team-colleague = Colleague
task-team-note = Note for them (optional)
task-team-hint = They are emailed a link to this task; the note is posted in the comments.
task-team-submit = Hand it over

## Comments

comments-title = Comments
comments-empty = No comments yet. Ask or tell your onboarding team anything about this task.
comments-side-client = Client
comments-add = Add a comment
comments-post = Post comment
comments-handover = Your previous provider and your onboarding team talk about this handover between them. Ask your onboarding team if you want to know more.

## A requested document on a document upload task

doc-limits = Up to { $limit }. Accepted: { $accepts }.
doc-earlier-versions = Earlier versions ({ $count })
doc-of = of { $name }
doc-choose-new = Choose the new file
doc-choose = Choose a file
doc-dropzone-hint = Drop a file here, or choose one: it uploads straight away.

## The upload script's words (documents.js), given to it as text with {name}-style
## slots (see i18n::Texts::script_texts): one message per form, no selectors.

js-upload-of = Upload of { $name }
js-state-waiting = Waiting
js-state-uploading = Uploading
js-state-uploaded = Uploaded
js-state-not-uploaded = Not uploaded
js-state-sending = Sending
js-state-dropped = Dropped
js-state-not-dropped = Not dropped
js-byte = 1 byte
js-bytes = { $count } bytes
js-too-large-doc = { $name } is { $size }, larger than the { $limit } “{ $doc }” accepts. Nothing was sent: make the file smaller, then upload it again.
js-connection-doc = { $name } was not uploaded for “{ $doc }”: the connection dropped before it was sent. Nothing was saved: please try again.
js-flagged = { $name } was flagged by the virus scan, so nobody can open it. See the note at “{ $doc }”.
js-uploaded-doc = { $name } uploaded for “{ $doc }”. It now waits for review.
js-upload-failed = The upload failed (error { $status }). Nothing was saved: please try again.
js-not-uploaded-doc = { $name } was not uploaded for “{ $doc }”. { $detail }
js-too-large-drop = { $name } is { $size }, larger than the { $limit } a dropped file may be. Nothing was sent: make the file smaller, then drop it again.
js-connection-drop = { $name } was not dropped: the connection dropped before it was sent. Nothing was saved: please try again.
js-dropped = { $name } dropped.
js-not-dropped = { $name } was not dropped.
js-wait-uploading = Please wait: the files you chose before are still uploading.
js-wait-sending = Please wait: the files you chose before are still being sent.
js-uploading-one = Uploading { $name }.
js-uploading-many = Uploading { $count } files, one after another.
js-dropping-one = Dropping { $name }.
js-dropping-many = Dropping { $count } files, one after another.
js-all-waiting = Every document already has a file waiting for review, so nothing was uploaded. To replace a file, use that document's own upload area.
js-extra-one = One file was not uploaded because no more documents are waiting for a file: { $names }. To replace a document's file, use that document's own upload area.
js-extra-many = { $count } files were not uploaded because no more documents are waiting for a file: { $names }. To replace a document's file, use that document's own upload area.
js-one-file = “{ $doc }” takes one file, so nothing was uploaded. Drop one file here.
js-one-file-several = “{ $doc }” takes one file, so nothing was uploaded. Drop one file here, or drop them together on “Upload several files at once” above.

## Lines the portal writes into a task's thread as the client's own message.

thread-stuck = I'm stuck: { $reason }
thread-handed = Handed to { $name }.
thread-handed-note = Handed to { $name }: { $note }

## What the task page says around a refusal's reason (the reason itself is in reason.ftl).

upload-refused-title = The file was not uploaded
upload-refused-for = Your file for “{ $name }” was not uploaded. { $reason }
upload-refused = Your file was not uploaded. { $reason }
upload-forbidden = You can't upload this: { $reason }.
drop-refused = Your file was not dropped. { $reason }
drop-refused-after = Dropped: { $dropped }. { $name } was not dropped, nor any file chosen after it. { $reason }
drop-refused-next = Dropped: { $dropped }. The next file was not dropped, nor any file chosen after it. { $reason }
drop-forbidden = You can't drop files here: { $reason }.
task-forbidden = You can't do that: { $reason }.
