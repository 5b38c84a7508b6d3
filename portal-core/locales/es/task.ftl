# The task page: its sections, buttons, statuses and messages.
