# The client emails: subjects, bodies and their plain-text forms.
# (The greeting, sign-off, invitation and verification are in portal.ftl.)
# Staff emails (notifications, digests, escalations, lockouts) stay English: staff
# read the English console, so they are not in the catalog.

## Long dates (a task's due date in "a task for you")

email-date-long = { $weekday } { $day } { $month } { $year }
email-weekday-long = { $weekday ->
    [1] Monday
    [2] Tuesday
    [3] Wednesday
    [4] Thursday
    [5] Friday
    [6] Saturday
   *[7] Sunday
}
email-month-long = { $month ->
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

## Guest invitation

email-guest-subject = { $company } shared onboarding tasks for { $client } with you
email-guest-title = Tasks shared with you
email-guest-intro = { $count ->
    [one] { $company } is onboarding { $client } and has asked you to help with one task:
   *[other] { $company } is onboarding { $client } and has asked you to help with { $count } tasks:
}
email-guest-intro-html = { $count ->
    [one] <strong>{ $company }</strong> is onboarding { $client } and has asked you to help with one task:
   *[other] <strong>{ $company }</strong> is onboarding { $client } and has asked you to help with { $count } tasks:
}
email-guest-open = { $count ->
    [one] Open it here:
   *[other] Open them here:
}
email-guest-button = Open your tasks
email-guest-personal = You will see only these tasks and their messages. This link is personal to you: please don't forward it. When you open it, we'll email you a code to confirm it's you. No account or password is needed.
email-guest-ends = Your access ends on { $ends }.

## Document rejected

email-rejected-subject = { $company } needs a new version of “{ $document }”
email-rejected-title = { $company } needs a new version of { $document }
email-rejected-intro = { $company } reviewed the file you uploaded for “{ $document }” ({ $file }, task “{ $task }”) and needs a new version:
email-rejected-intro-html = { $company } reviewed the file you uploaded for <strong>“{ $document }”</strong> ({ $file }, task “{ $task }”) and needs a new version:
email-rejected-again = Open your portal and upload the document again on that task. Earlier versions stay with { $company }; you don't need to delete anything.

## A task for you (assigned, or ready)

email-task-assigned-subject = New task for you: “{ $task }”
email-task-assigned-intro = { $company } assigned you a task in your onboarding portal:
email-task-ready-subject = “{ $task }” is ready for you
email-task-ready-intro = Everything this task was waiting for is done, so you can do it now:
email-task-due = Due { $date }
email-task-open = Open your { $company } portal with your invite link to see it.

## Meetings

email-meeting-scheduled-subject = Meeting scheduled: “{ $title }”
email-meeting-scheduled-intro = { $company } scheduled a meeting with you:
email-meeting-scheduled-calendar = The calendar invite is attached: open it to add the meeting to your calendar.
email-meeting-moved-subject = Meeting moved: “{ $title }”
email-meeting-moved-intro = { $company } changed the time or details of your meeting. It is now:
email-meeting-moved-calendar = The updated calendar invite is attached: open it and your calendar moves the meeting you already have instead of adding a second one.
email-meeting-cancelled-subject = Meeting cancelled: “{ $title }”
email-meeting-cancelled-intro = { $company } cancelled this meeting:
email-meeting-cancelled-calendar = The attached calendar file removes it from your calendar.
email-meeting-when = { $when }, for { $length }
# Also the line the calendar file's description ends with.
email-meeting-join = Join:

## Question answered

email-answered-subject = { $company } answered your question
email-answered-intro = { $company } answered the question you asked in your { $client } onboarding portal:
email-answered-from = Answer from { $who }:
email-answered-from-html = Answer from <strong>{ $who }</strong>:
email-answered-more = You can read it, and ask another question, under Questions in your portal.

## Comment reply

email-reply-subject = { $who } replied on “{ $task }”
email-reply-title = { $who } replied on { $task }
email-reply-intro = { $who } from { $company } replied on “{ $task }”, a task you commented on in your { $client } onboarding portal:
email-reply-intro-html = <strong>{ $who }</strong> from { $company } replied on “{ $task }”, a task you commented on in your { $client } onboarding portal:
email-reply-open = Open the task to read the whole conversation and answer:
email-open-task-button = Open the task

## Reminder digest

email-digest-subject-one = Reminder: “{ $task }” in your { $client } portal
email-digest-subject-many = { $count ->
    [one] Reminder: { $count } task in your { $client } portal
   *[other] Reminder: { $count } tasks in your { $client } portal
}
email-digest-intro = { $count ->
    [one] A task in your { $client } onboarding portal needs you:
   *[other] { $count } tasks in your { $client } onboarding portal need you:
}
email-digest-due = due { $date }
email-digest-due-today = due today, { $date }
email-digest-overdue = overdue, it was due { $date }
email-digest-open-button = Open task
email-digest-open = Open it:
email-digest-snooze = Remind me in 3 days
email-digest-links = Each link opens the portal; if you are not signed in, open the invitation email from { $company } first.
email-digest-at-most = You get at most one reminder a day, on weekdays.
email-digest-stop = Stop reminders
email-digest-others = (other emails from the portal still arrive)

## Task updates (stuck cleared, due dates, handed over)

email-update-open = Open the task:
email-no-note = (No note.)
email-stuck-cleared-subject = { $company } answered you on “{ $task }”
email-stuck-cleared = { $who } from { $company } answered you on “{ $task }”, where you said you were stuck. The task is yours to continue.
email-stuck-no-message = (No message: see the task's conversation.)
email-due-approved-subject = New due date for “{ $task }”: { $date }
email-due-approved = { $company } approved your new due date for “{ $task }”: it is now due { $date }.
email-due-declined-subject = Your new due date for “{ $task }” was declined
email-due-declined = { $company } could not move “{ $task }” to { $asked }. { $stays } Their note:
email-due-declined-stays = It stays due { $date }.
email-due-declined-no-due = The task keeps no due date.
email-handed-subject = { $who } handed you “{ $task }”
email-handed = { $who } handed “{ $task }” to you: it is yours now.

## Document and certificate pages
# The requested documents (document.html) take their words from task.ftl, with the
# task page they are part of; the signature certificate page's are here.

certpage-page-title = Signature certificate
certpage-back = ← Back to the task
certpage-title = Signature evidence certificate
certpage-intro = “{ $task }”, signed in the { $company } client portal. This is a simple electronic signature: it records who signed, when, and that nothing has changed since.
certpage-intact = ✓ Every fingerprint below was recomputed and matches.
certpage-broken = Warning: part of this signature no longer matches what was recorded (see Verification).
certpage-signer = Signer
certpage-name = Name
certpage-email = Email
certpage-signed-at = Signed at
certpage-signed-at-utc = Signed at (UTC)
certpage-zone-shown = Time zone shown
certpage-ip = IP address
certpage-browser = Browser
certpage-method = Method
certpage-consent = Consent
certpage-fingerprints = Fingerprints (SHA-256)
certpage-document = Document
certpage-none-attached = None attached
certpage-signature = Signature
certpage-whole-record = Whole record
certpage-audit = Audit trail
certpage-event-number = Event number
certpage-event-hash = Event hash
certpage-no-event = No audit event was found for this signature.
certpage-verification = Verification
certpage-print = Use your browser's Print command to print this page or save it as a PDF.
certpage-not-recorded = not recorded
certpage-drawn = Drawn on the signature pad
certpage-typed = Typed name: { $name }
certpage-part = { $part ->
    [record] Signature record
    [document] Signed document
    [mark] Signature (image or typed name)
    [consent] Consent statement
    [audit] Audit trail event
   *[other] Other
}
certpage-status = { $status ->
    [matches] Matches
    [mismatch] Does not match
   *[missing] Missing
}
