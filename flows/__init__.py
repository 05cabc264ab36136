"""Flow factories and the tasks they compose."""
