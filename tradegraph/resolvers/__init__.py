"""What each root field does: parse arguments, call the domain, shape the result. No rules here."""
