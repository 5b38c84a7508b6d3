# What to fix: the validation and conflict messages a client can meet.

## Questionnaire answers (one message per question).
reason-form-changed = The form has changed since you opened it. Reload the page and try again.
reason-answer-needed = This question needs an answer.
reason-answer-too-long = Keep it to { $max } characters (this is { $count }).
reason-answer-bidi = Remove the invisible text-direction characters.
reason-answer-control = Remove the invisible control characters.
reason-answer-one-line = Keep it on one line, without control characters.
reason-answer-pick-option = Pick one of the options shown.
reason-answer-single = Give a single answer.
reason-answer-rating = Choose a whole number from { $min } to { $max }.

## Text fields (comments, reasons, questions, names): a phrase after the field's name.
reason-text-bidi = must not contain text-direction control characters (U+202A–U+202E, U+2066–U+2069)
reason-text-empty = must not be empty
reason-text-too-long = must be at most { $max } characters
reason-text-one-line = must not contain control characters or line breaks
reason-text-control = must not contain control characters
reason-time-zone = use an IANA time zone name such as America/New_York or Europe/London

## A task's state refuses the client's action.
reason-task-blocked = This task is blocked ({ $why }). Your MSP will unblock it.
reason-task-blocked-no-reason = This task is blocked (no reason given). Your MSP will unblock it.
reason-task-already-complete = This task is already complete.
reason-task-not-marked-complete = This task is completed by giving what it asks for, not by marking it complete.
reason-task-no-form = This task has no form to fill in.
reason-form-already-submitted = This form was already submitted.
reason-task-no-checklist = This task has no checklist.
reason-checklist-no-such-item = that checklist item does not exist; reload the page
reason-item-already-checked = That item is already checked.
reason-item-not-checked = That item is not checked.
reason-task-not-approval = This task is not an approval.
reason-approval-already-decided = This approval has already been decided.

## Comments and questions.
reason-comment-empty = write something before sending
reason-question-empty = write your question before sending
reason-question-not-on-team = is not on your onboarding team; choose someone from the list

## "Ask for a new due date" and "I'm stuck".
reason-due-date-msp-task = This task is done by your MSP: ask about its date in its thread.
reason-due-date-pending = You already asked for a new due date on this task: your MSP will answer it first.
reason-due-date-past = pick today ({ $today }) or a later date
reason-due-date-same = that is the due date already
reason-due-date-why = say why you need more time, so your MSP can decide
reason-due-date-format = choose a date (year-month-day, for example 2026-12-31)
reason-stuck-msp-task = This task is done by your MSP: ask a question in its thread instead.
reason-stuck-on-hold = This task is on hold already: your MSP will unblock it.
reason-stuck-already = You already said you are stuck on this task: your MSP will answer here.
reason-stuck-why = say what stops you, so your MSP can help

## The task page's summary of a refused form (portal-http), and the field names inside
## "Please check the …" (English shows the field's own name).
reason-fix-answers = Please fix the { $count ->
        [one] answer
       *[other] answers
    } marked below. Your answers are kept.
reason-check-field = Please check the { $field }: { $reason }.
reason-field-comment = comment
reason-field-notes = notes
reason-field-item = item
reason-field-reason = reason
reason-field-date = date
reason-field-note = note
reason-field-to = to
reason-field-other = form
reason-hand-off-choose = choose an active colleague of this portal
reason-hand-off-check-form = Nothing was handed over: please check the form below.
reason-stuck-check-reason = Nothing was sent: please check the reason below.
reason-due-date-check-reason = Nothing was asked: please check the reason below.
reason-due-date-check-date = Nothing was asked: please check the date below.

## Uploads: a phrase after "The file".
reason-file-empty = is empty (0 bytes): choose the file again, it may not have saved
reason-file-markup = is a web page or image markup (HTML, SVG or XML), which we don't accept because a browser would run it. Accepted: { $accepted }.
reason-file-unknown-type = is not a kind of file we accept. Accepted: { $accepted }.
reason-file-type-refused = is a { $type }, which “{ $document }” does not accept. Accepted: { $accepted }.

## Uploads and file drops refused (portal-http): the field's name, then the reason.
reason-field-file = file
reason-field-upload = upload
reason-field-document = document
reason-upload-refused = The { $field } { $reason }
reason-upload-too-large = The file is larger than the { $size } this document accepts. Nothing was saved: make the file smaller, then upload it again.
reason-drop-refused = Nothing was saved: the { $field } { $reason }.
reason-drop-too-large = Nothing was saved: the file is larger than the { $size } a dropped file may be.

## Approvals.
reason-field-decision = decision
reason-decision-choose = choose Approve or Reject

## Taking a task on, handing it to a colleague, inviting one.
reason-claim-client-tasks-only = only client tasks can be claimed or handed on
reason-claim-completed = the task is already completed
reason-claim-assigned = the task is already assigned; ask for it to be handed to you
reason-hand-off-not-yours = only a task assigned to you can be handed to a colleague
reason-colleague-setting-changed = the portal's colleague invitation setting changed; try again

## Documents and file drops.
reason-task-no-documents = This task does not ask for documents.
reason-document-not-asked = is not one this task asks for
reason-document-approved = This document was already approved. Ask your MSP if you need to replace it.
reason-task-no-drops = This task does not take dropped files.
reason-drop-downloaded = Your onboarding team already downloaded “{ $name }” (on { $on }), so it can no longer be deleted.

## An upload's body (portal-http): a phrase after "The file" or "The upload".
reason-upload-no-file = was not chosen: choose a file, then press Upload
reason-upload-unexpected = was not sent the way the portal's form sends it. Nothing was saved: please upload from the task page
reason-upload-several = had more than one file in it. Nothing was saved: upload one file per document
reason-upload-dropped = did not arrive whole: the connection dropped or was too slow. Nothing was saved: please try again
reason-upload-cut = did not arrive whole: it stopped before its end. Nothing was saved: please try again
reason-upload-no-boundary = could not be read: its Content-Type names no multipart boundary. Nothing was saved: please upload from the task page
reason-upload-not-multipart = was not sent as a file upload (multipart/form-data). Nothing was saved: please upload from the task page
reason-upload-malformed = could not be read: it is not a well-formed file upload. Nothing was saved: please upload from the task page

## Signatures.
reason-typed-name-empty = is empty: type your full name, or draw your signature
reason-typed-name-too-long = is too long: at most { $max } characters
reason-typed-name-control = contains control characters: type your name as plain text
reason-consent-not-ticked = is not ticked: tick the box to agree that this is your electronic signature
reason-signature-document-changed = The document to sign was changed since this page was opened. Nothing was signed: review the document again, then sign.
reason-task-no-signature = This task does not ask for a signature.
reason-signature-refused-consent = Nothing was signed. The consent statement { $reason }. Please sign again.
reason-signature-refused-typed-name = Nothing was signed. Your typed name { $reason }. Please sign again.
reason-signature-refused-drawn = Nothing was signed. The drawn signature { $reason }. Please sign again.

## Credentials (the field names read mid-sentence, lower case but "API key").
reason-credential-too-long = is too long: at most { $kib } KiB
reason-credential-control = contains control characters: paste the value as plain text
reason-credential-required = is required
reason-task-no-credentials = This task does not ask for credentials.
reason-field-username = username
reason-field-password = password
reason-field-api-key = API key
reason-credentials-refused = Nothing was sent. The { $field } { $reason }. Please fill in the form again.

## A task that waits for others.
reason-task-waiting = This task is waiting for: { $tasks }. You can do it once { $count ->
        [one] that is
       *[other] those are
    } done.
reason-waiting-msp-step = a step by { $msp }
reason-typed-name-blank = is empty

## A decision gated on opening the shared documents (`attachments::OPEN_FIRST`).
reason-open-first = Open the document before you decide.

## Not allowed (Error::Forbidden) where a client can meet it: completes "You can't do
## that: …" (lower case, no full stop).

reason-forbidden-msp-task = this task is done by your MSP: you can follow it, but not change it
reason-forbidden-msp-only = only your MSP can do that
reason-forbidden-approvals-client = approvals are decided by the client
reason-forbidden-review = only your MSP can review documents
reason-forbidden-due-client = only a client contact can ask for a new due date
reason-forbidden-guest = guests take part in their shared tasks only
reason-forbidden-stuck-client = only a client contact can say they are stuck
reason-forbidden-no-invites = this portal does not let contacts invite colleagues
reason-forbidden-contact-only = only a contact claims or hands on a task
