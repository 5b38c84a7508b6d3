# The client emails: subjects, bodies and their plain-text forms.
