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
