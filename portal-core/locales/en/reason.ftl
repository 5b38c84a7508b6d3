# What to fix: the validation and conflict messages a client can meet.
